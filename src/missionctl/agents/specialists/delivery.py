"""Devops and release documents, and the generic deliverable brief."""

import re

from missionctl.agents.specialists.brief import Brief
from missionctl.agents.specialists.design import components
from missionctl.agents.specialists.markdown import bullets, checklist, numbered, section, table
from missionctl.agents.specialists.security import risk_rows

ENVIRONMENTS = (
    ("local", "Development", "Seed data", "By hand"),
    ("ci", "Checks on every push", "Fresh per run", "Every push"),
    ("staging", "Release candidate verification", "Production-like, anonymised", "Merge to main"),
    ("production", "Users", "Real", "Approved release"),
)
PIPELINE = (
    "Lint, type-check and unit tests",
    "Build one immutable artefact (image) per commit",
    "Apply migrations (expand first; contract after the release)",
    "Deploy to staging; run end-to-end and smoke tests",
    "Promote the same artefact to production after approval",
)
RELEASE_STRATEGY = (
    "Rolling or blue/green deploy behind health checks",
    "Automatic rollback when health checks or error-rate alerts fail",
    "Feature flags for risky features",
)
_NO_TARGETS = (
    "No requirement states a target yet: agree latency and availability targets with the "
    "mission owner first."
)
ALERTS = (
    ("Error rate", "5xx > 2% for 5 min", "page", "Check the last deploy; roll back"),
    ("Latency", "p95 above target for 10 min", "ticket", "Look for slow queries and saturation"),
    ("Saturation", "CPU or connections > 80% for 15 min", "ticket", "Scale out; find the hot path"),
)
DEPLOY_STEPS = (
    "Confirm the release gates in delivery-checklist.md",
    "Apply expand migrations",
    "Deploy the new version to a share of instances",
    "Watch errors and latency for 10 minutes",
    "Complete the rollout",
)
ROLLBACK_STEPS = (
    "Redeploy the previous artefact",
    "Migrations stay backward compatible; run contract migrations only once stable",
    "Announce the rollback and open an incident note",
)
RESTORE_STEPS = (
    "Pick the restore point",
    "Restore into a new instance",
    "Verify row counts and recent records",
    "Switch traffic; keep the old instance read-only for a day",
)
INCIDENTS = (
    ("Error rate up after a deploy", "Roll back, then investigate"),
    ("Slow responses", "Check the slow-query log and saturation; scale out"),
    ("Job backlog growing", "Check worker health and failed jobs; scale workers"),
)
GO_NO_GO = (
    ("The agreed scope is in the release", "mission owner", "pending"),
    ("Quality gates green", "qa", "pending"),
    ("Security sign-off", "security", "pending"),
    ("Operations ready", "devops", "pending"),
)


def _component_rows(brief: Brief) -> list[tuple[str, str]]:
    return [(c.name, c.technology) for c in components(brief)]


def write_deployment(brief: Brief) -> list[str]:
    """``deployment.md``: environments, components, configuration, pipeline, rollback, backups."""
    config = [
        "Every setting from environment variables, documented with its default",
        "Secrets from the platform's secret manager; never in the repository or logs",
        *brief.constraints,
    ]
    backups = (
        ["Daily backups with point-in-time recovery", "A restore rehearsed before launch"]
        if brief.entities
        else ["No stored state beyond build artefacts; keep them reproducible."]
    )
    return [
        *section(
            "Environments", table(["Environment", "Purpose", "Data", "Deploys on"], ENVIRONMENTS)
        ),
        *section(
            "Components to deploy", table(["Component", "Technology"], _component_rows(brief))
        ),
        *section("Configuration and secrets", bullets(config)),
        *section("Pipeline", numbered(PIPELINE)),
        *section("Release strategy", bullets(RELEASE_STRATEGY)),
        *section("Backups", bullets(backups)),
    ]


def write_observability(brief: Brief) -> list[str]:
    """``alerts.md`` / ``observability.md``: objectives, metrics and alerts."""
    pattern = r"p95|\bms\b|99\.|availab|under \d"
    slos = [f"{r.key}: {r.text}" for r in brief.requirements if re.search(pattern, r.text, re.I)]
    metrics = ["Requests, errors and duration per endpoint (RED)", "Queue depth and job duration"]
    metrics += [f"{e.name} writes per minute" for e in brief.entities[:4]]
    alerts = list(ALERTS)
    if brief.traits & {"scheduled", "data"}:
        alerts.append(("Job freshness", "No success in 2 cycles", "page", "Inspect and re-run"))
    return [
        *section("Service level objectives", bullets(slos, empty=_NO_TARGETS)),
        *section("Metrics", bullets(metrics)),
        *section("Alerts", table(["Alert", "Condition", "Severity", "First action"], alerts)),
    ]


def _phases(brief: Brief) -> list[tuple[str, list[str]]]:
    if brief.plan and brief.plan.phases:
        return [(p.name, list(p.task_keys)) for p in brief.plan.phases]
    return [("Delivery", [t.key for t in brief.tasks])]


def write_delivery_checklist(brief: Brief) -> list[str]:
    """``delivery-checklist.md``: per-phase task checks, release gates, go/no-go, follow-up.

    Nothing is ticked: a task whose step reached this one (a dependency) says which documents
    its step wrote, which is all Mission Control knows of it; the work itself is to verify.
    """
    by_key = {t.key: t for t in brief.tasks}
    lines: list[str] = []
    for name, keys in _phases(brief):
        items: list[str] = []
        for task in (by_key[k] for k in keys if k in by_key):
            items.append(f"- [ ] **{task.key}** {task.title}{_step_state(brief, task.key)}")
            items += [f"  - [ ] {c}" for c in task.acceptance]
        lines += section(f"Phase: {name}", items)
    irreversible = [t.key for t in brief.tasks if t.risk_tier == "irreversible"]
    gates = ["All end-to-end and contract tests pass on staging"]
    gates += [f"Risk mitigated: {r.title}" for r in risk_rows(brief) if r.score >= 6][:6]
    gates += ["Rollback rehearsed once", "Dashboards and alerts live before traffic"]
    gates.append("Runbook reviewed by whoever is on call")
    if irreversible:
        gates.append(f"A named approver signed off: {', '.join(irreversible)}")
    after = ["Watch error rate and latency for 24 hours", "Collect feedback on each feature"]
    after += [n.text for n in (brief.plan.next_steps if brief.plan else [])][:3]
    return [
        *lines,
        *section("Release gates to check", checklist(gates)),
        *section("Go / no-go", table(["Criterion", "Owner", "Status"], GO_NO_GO)),
        *section("After release", bullets(after)),
    ]


def _step_state(brief: Brief, key: str) -> str:
    """What Mission Control knows of a dependency's step: the documents it wrote, if it ran."""
    outputs = brief.upstream.get(key)
    if outputs is None:
        return ""
    documents = [str(d) for d in outputs.get("documents") or []]
    wrote = f"wrote {', '.join(documents)}" if documents else "succeeded"
    return f" — its step {wrote}; the work itself is still to verify"


def write_runbook(brief: Brief) -> list[str]:
    """``runbook.md``: deploy, verify, roll back, restore, respond."""
    smoke = [f"{f.title} works for a test account" for f in brief.features]
    smoke = smoke or [f"The {brief.subject} answers its health check"]
    return [
        *section("Service", table(["Component", "Technology"], _component_rows(brief))),
        *section("Deploy", numbered(DEPLOY_STEPS)),
        *section("Verify", checklist(["Health and readiness endpoints green", *smoke])),
        *section("Roll back", numbered(ROLLBACK_STEPS)),
        *section("Restore from backup", numbered(RESTORE_STEPS)),
        *section("Common incidents", table(["Symptom", "First action"], INCIDENTS)),
    ]


def write_release_notes(brief: Brief) -> list[str]:
    """``release-notes.md``: a draft of what the release is to bring, to confirm before it ships."""
    highlights = [f.title for f in brief.features] or [brief.subject]
    reqs = [(r.key, r.text, ", ".join(brief.traced_by(r.key)) or "—") for r in brief.requirements]
    known = [f"{r.title}: {r.mitigation}" for r in risk_rows(brief) if r.source == "plan"]
    migrate = "Run the migrations before switching traffic" if brief.entities else "No migration"
    return [
        *section(
            "Status",
            [
                "A draft: confirm every line against what the release really contains before "
                "publishing it."
            ],
        ),
        *section("Planned highlights", bullets(highlights)),
        *section(
            "Requirements the release is to meet",
            table(["Key", "Requirement", "Planned in tasks"], reqs),
        ),
        *section("Known risks and limitations", bullets(known)),
        *section("Upgrade notes", bullets([migrate, "Document every new setting in the README"])),
    ]


def write_notes(brief: Brief) -> list[str]:
    """A brief for an expected document no specific writer covers: what it must contain.

    The document itself (a report, a log, a listing) comes from the work it describes; the
    brief says so instead of standing in for it.
    """
    task = brief.task
    reqs = [f"{r.key}: {r.text}" for r in brief.requirements if r.key in task.traces]
    inputs = [
        f"`{key}`: its step wrote {', '.join(str(d) for d in out.get('documents') or []) or '—'}"
        for key, out in brief.upstream.items()
    ]
    status = (
        "Not yet written: this brief says what the document must contain. The document itself "
        "comes from the work it describes, with its real results."
    )
    return [
        *section("Status", [status]),
        *section("What it is for", [task.description or task.title]),
        *section("What it must show", checklist(task.acceptance)),
        *section("Requirements it serves", bullets(reqs)),
        *section("Inputs", bullets(inputs)),
    ]
