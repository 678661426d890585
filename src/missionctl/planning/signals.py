"""What the local planner does with what the reading finds, besides the kind's templates.

- :data:`TRAITS`: what each plan-changing signal of the reading ("no downtime", "offline",
  "HIPAA/PII", a deadline, a budget, …) adds to any plan: a requirement, and maybe a risk, a
  decision, a next step or a task. How a signal is found is the reading's
  (``missionctl/reading/data/signals.yaml``).
- :data:`FEATURE_ROLE_HINTS`: which specialist a feature task goes to, from its words.
- :data:`ROLE_FEATURE_TITLES`: the title of a feature task per role.
- :data:`TECHNOLOGIES`: the technologies the reading recognises, whose categories name the
  kinds' technology slots.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from missionctl.planning.kinds import DecisionTemplate, RiskTemplate, TaskTemplate
from missionctl.reading import SignalSpec, TechnologySpec, vocabulary
from missionctl.schemas.plans import Priority, SpecialistRole

__all__ = [
    "FEATURE_ROLE_HINTS",
    "ROLE_FEATURE_TITLES",
    "TECHNOLOGIES",
    "TRAITS",
    "Trait",
]

TECHNOLOGIES: tuple[TechnologySpec, ...] = vocabulary().technologies
"""The technologies the reading recognises, in the order it looks for them."""


@dataclass(frozen=True, slots=True)
class Trait:
    """A constraint that changes any plan.

    Templates may use ``{match}`` (the signal's value: the text that matched, or the amount
    of a budget, the date of a deadline) plus every placeholder of the kind templates.

    Attributes:
        key: The reading's signal this trait answers (``data/signals.yaml`` of the reading).
        requirement: Requirement text added to the plan.
        priority: Priority of that requirement.
        risk: A risk added to the plan, if any.
        decision: A decision added to the plan, if any.
        next_step: A next step added to the plan, if any.
        task: A task added to the plan, unless the kind already has a task with the same
            role and ``skip_if_role`` is set. Its role is the first of ``task_roles`` the plan
            already uses; it depends on the kind's design task, and the kind's verification
            task depends on it.
        task_roles: Role preferences for ``task``.
        skip_if_role: Skip ``task`` when the kind already has a task with its role.
    """

    key: str
    requirement: str
    priority: Priority = "must"
    risk: RiskTemplate | None = None
    decision: DecisionTemplate | None = None
    next_step: str | None = None
    task: TaskTemplate | None = None
    task_roles: tuple[SpecialistRole, ...] = ()
    skip_if_role: bool = False

    @property
    def signal(self) -> SignalSpec:
        """The reading's signal this trait answers (``KeyError`` when the reading has none)."""
        found = next((spec for spec in vocabulary().signals if spec.key == self.key), None)
        if found is None:
            raise KeyError(f"the reading has no signal {self.key!r}")
        return found

    @property
    def pattern(self) -> str:
        """How the reading finds the signal (a regular expression over lower-cased text)."""
        return self.signal.pattern


TRAITS: tuple[Trait, ...] = (
    Trait(
        key="downtime",
        requirement=(
            "Downtime budget: {downtime}. Users keep working during the rollout; the budget is "
            "measured in a rehearsal, not assumed."
        ),
        risk=RiskTemplate(
            "Downtime budget exceeded",
            "Switching the {subject} over takes longer than the budget ({downtime}).",
            "high",
            "medium",
            "Rehearse the rollout or cutover end to end, time it, keep a go/no-go checkpoint "
            "and a rollback path.",
        ),
        next_step="Agree the downtime budget ({downtime}) and the change window with users.",
    ),
    Trait(
        key="object-sync",
        requirement=(
            "Incremental object sync: lists both sides with pagination, compares objects by "
            "ETag or checksum and size, moves large objects as multipart transfers that resume, "
            "propagates deletes only when asked (dry run first), takes credentials from the "
            "environment or the provider's profile chain, and keeps its sync state (the last "
            "listing and the ETags seen) where a crashed run can resume from it."
        ),
        risk=RiskTemplate(
            "Deletes or partial copies propagated by the sync",
            "A sync that trusts a truncated listing, a multipart ETag or an interrupted upload "
            "deletes or overwrites objects on the target.",
            "high",
            "medium",
            "Paginate listings to the end before deciding, compare checksums rather than "
            "multipart ETags, upload to a temporary key then commit, and make deletes opt-in "
            "with a dry run.",
        ),
        decision=DecisionTemplate(
            "Where the sync state is kept",
            "A small state file (or a manifest object in the target bucket) recording each "
            "object's key, size and ETag or checksum at the last sync, written atomically.",
            ("A rerun compares against it instead of listing checksums again",),
            ("The state must be rebuilt from a full listing when it is lost",),
            ("Compare full listings every run", "Provider-side replication rules"),
        ),
        next_step=(
            "Create two test buckets (or a local S3-compatible server) with objects above the "
            "multipart threshold, and agree whether deletes propagate."
        ),
    ),
    Trait(
        key="offline",
        requirement=(
            "Works offline: reads from local data, queues changes, and syncs them when the "
            "network returns, with predictable conflict resolution."
        ),
        risk=RiskTemplate(
            "Sync conflicts after offline use",
            "Changes made offline conflict with changes made elsewhere in the meantime.",
            "high",
            "medium",
            "Per-entity conflict rules, server timestamps, and tests that toggle the network.",
        ),
        decision=DecisionTemplate(
            "Offline conflict resolution",
            "Local store with a queue of pending changes; last-writer-wins per field with "
            "server timestamps, surfacing conflicts on shared records.",
            ("Simple to reason about", "Covers the common single-user case"),
            ("Rare concurrent edits can overwrite each other",),
            ("CRDTs", "Online-only"),
        ),
        task=TaskTemplate(
            key="offline-sync",
            role="mobile",
            title="Local storage and offline sync",
            description=(
                "Store the data the {subject} needs offline, queue changes made offline, and "
                "sync them with retries and conflict rules when the network returns."
            ),
            artifacts=("sync-design.md", "sync module"),
            acceptance=(
                "The {subject} works in airplane mode and syncs on reconnect",
                "Conflicting edits are resolved by the documented rule",
            ),
            risk_tier="write",
            estimate_tokens=35_000,
        ),
        task_roles=("mobile", "frontend", "backend"),
    ),
    Trait(
        key="regulated-data",
        requirement=(
            "Regulated or personal data ({match}) is classified, minimised, encrypted in "
            "transit and at rest, and every access is audit-logged."
        ),
        risk=RiskTemplate(
            "Exposure of regulated data",
            "Personal or regulated data ({match}) leaks through logs, exports or access gaps.",
            "critical",
            "medium",
            "Data classification, field-level access control, redacted logs, access audits.",
        ),
        next_step="Confirm which regulations apply ({match}) and who signs off compliance.",
        task=TaskTemplate(
            key="privacy-review",
            role="security",
            title="Privacy and compliance review",
            description=(
                "Classify the data the {subject} handles, check minimisation, encryption, "
                "retention and access logging against the applicable rules."
            ),
            artifacts=("data-classification.md", "privacy-review.md"),
            acceptance=("Every stored field of the {subject} is classified with a retention rule",),
            estimate_tokens=12_000,
        ),
        task_roles=("security",),
        skip_if_role=True,
    ),
    Trait(
        key="scale",
        requirement=(
            "Handles the stated scale ({scale}) with headroom; capacity is measured before launch."
        ),
        risk=RiskTemplate(
            "Capacity at the stated scale",
            "Operations that are fast in development are slow at {scale}.",
            "medium",
            "medium",
            "Test with production-sized data early and budget time for the slow steps.",
        ),
    ),
    Trait(
        key="deadline",
        requirement=(
            "Delivered by the deadline ({match}): must-have requirements first, the rest "
            "only if time allows."
        ),
        priority="must",
        risk=RiskTemplate(
            "Deadline pressure",
            "The deadline ({match}) leaves no slack for surprises.",
            "high",
            "medium",
            "Cut scope to the must-haves, demo a thin slice early, and track progress daily.",
        ),
        decision=DecisionTemplate(
            "Scope under the deadline",
            "Ship the must-have requirements as a thin end-to-end slice first; should and "
            "could items follow only if time allows.",
            ("A working result exists early", "Scope cuts are explicit, not accidental"),
            ("Some features arrive after the deadline",),
            ("Build everything in parallel and integrate at the end",),
        ),
    ),
    Trait(
        key="budget",
        requirement=(
            "Stays within the stated budget ({match}); running costs are estimated per "
            "month before launch."
        ),
        risk=RiskTemplate(
            "Cost overrun",
            "Infrastructure or model usage costs exceed the budget ({match}).",
            "medium",
            "medium",
            "Cost estimate before build, budget alerts, and cheaper defaults where possible.",
        ),
    ),
    Trait(
        key="accessibility",
        requirement="Meets WCAG 2.1 AA on every user-facing screen, checked by tests and an audit.",
    ),
    Trait(
        key="i18n",
        requirement=(
            "Every user-facing text is translatable; dates, numbers and currencies follow "
            "the locale."
        ),
        priority="should",
    ),
    Trait(
        key="multi-tenant",
        requirement="Tenants are isolated: every query is scoped to a tenant and tested for leaks.",
        risk=RiskTemplate(
            "Cross-tenant data leak",
            "A missing tenant filter shows one customer's data to another.",
            "critical",
            "low",
            "Tenant scoping in the data layer, not in handlers; tests that try cross-tenant "
            "access.",
        ),
    ),
    Trait(
        key="high-availability",
        requirement="Availability target ({match}) met with redundancy and tested failover.",
    ),
    Trait(
        key="real-e2e",
        requirement="Works end to end against real services; no mocked paths in what is shown.",
    ),
    Trait(
        key="lean",
        requirement="Lean scope ({match}): the smallest design that meets the must-haves.",
        priority="should",
        decision=DecisionTemplate(
            "Lean scope",
            "Build the smallest thing that meets the must-have requirements; defer "
            "infrastructure that only pays off at larger scale.",
            ("Faster feedback", "Less to maintain"),
            ("Some rework if the product grows fast",),
            ("Design for the final scale from day one",),
        ),
    ),
)
"""Traits, in the order their requirements appear in a plan."""

FEATURE_ROLE_HINTS: tuple[tuple[SpecialistRole, str], ...] = (
    (
        "security",
        r"auth\w*|log ?ins?|sign[- ]?on|sso|oidc|saml|oauth|role[- ]based|rbac|permissions?|"
        r"access control|encrypt\w*|secrets?(?: rotation)?|audit log\w*|rate[- ]limit\w*|"
        r"input validation|mfa|2fa|compliance|hipaa|gdpr|pii",
    ),
    (
        "ml",
        r"models?|predict\w*|drift|retrain\w*|classif\w*|recommend\w*|embeddings?|"
        r"ai[- ]generated|llm|summari[sz]\w*|forecast\w*|anomaly detection",
    ),
    (
        "data",
        r"analytics|metrics?|reports?|reporting|revenue|warehouse|ingest\w*|etl|cohorts?|"
        r"funnels?|retention|aggregat\w*|tables?|parquet|csv|schema inference|exports?|"
        r"imports?|kpis?|insights?|anomal\w*",
    ),
    ("docs", r"docs|documentation|tutorials?|guides?|runbooks?"),
    (
        "devops",
        r"deploy\w*|backups?|back(?:s)? up|restor\w*|staging|production|environments?|ci|"
        r"monitoring|observability|cron",
    ),
    (
        "frontend",
        r"ui|pages?|screens?|dashboards?|views?|charts?|themes?|forms?|search",
    ),
    (
        "backend",
        r"api|endpoints?|webhooks?|queues?|notifications?|emails?|reminders?|cach\w*|sync\w*|"
        r"websockets?",
    ),
)
"""Which role a feature task takes, from the feature's words (first match wins)."""

ROLE_FEATURE_TITLES: Mapping[SpecialistRole, str] = {
    "product": "Define {feature}",
    "architect": "Design {feature}",
    "backend": "Implement {feature}",
    "frontend": "Build {the_feature} UI",
    "mobile": "Build {the_feature} flow",
    "data": "Build {feature}",
    "ml": "Build {feature}",
    "devops": "Set up {feature}",
    "security": "Enforce {feature}",
    "qa": "Test {feature}",
    "docs": "Write {feature}",
    "release": "Release {feature}",
}
"""Title of a feature task whose role is not the kind's default role."""
