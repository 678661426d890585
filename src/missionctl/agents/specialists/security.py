"""Security documents: risk review, threat model, authorisation matrix."""

import re
from dataclasses import dataclass

from missionctl.agents.specialists.brief import Brief
from missionctl.agents.specialists.contract import endpoints, roles
from missionctl.agents.specialists.design import components, edges
from missionctl.agents.specialists.markdown import bullets, checklist, join_words, section, table
from missionctl.agents.specialists.traits import Threat, threats_for

SEVERITY_WEIGHT = {"low": 1, "medium": 2, "high": 3, "critical": 4}
LIKELIHOOD_WEIGHT = {"low": 1, "medium": 2, "high": 3}
_NO_SECURITY_REQUIREMENT = (
    "The plan states no security requirement: add at least one (authentication, secrets, audit) "
    "before building."
)
AUTHZ_RULES = (
    "Deny by default; the matrix lists everything allowed.",
    "Ownership is checked as well as the role: nobody reads records that are not theirs.",
    "Denials return 403 and are audit-logged.",
    "Admin actions require a recent sign-in.",
)


@dataclass(frozen=True, slots=True)
class RiskRow:
    """A risk as the review rates it."""

    title: str
    severity: str
    likelihood: str
    mitigation: str
    source: str

    @property
    def score(self) -> int:
        """Severity weight times likelihood weight, from 1 to 12."""
        return SEVERITY_WEIGHT.get(self.severity, 2) * LIKELIHOOD_WEIGHT.get(self.likelihood, 2)

    @property
    def action(self) -> str:
        """What the score asks for."""
        if self.score >= 6:
            return "act before launch"
        return "plan a fix" if self.score >= 3 else "watch"


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{4,}", text.lower()))


def _similar(a: str, b: str) -> bool:
    return len(_words(a) & _words(b)) >= 2


def risk_rows(brief: Brief) -> list[RiskRow]:
    """The plan's risks and the threats typical for this kind of software, worst first."""
    plan = brief.plan.risks if brief.plan else []
    rows = [RiskRow(r.title, r.severity, r.likelihood, r.mitigation, "plan") for r in plan]
    for t in threats_for(brief.traits):
        if not any(_similar(t.title, r.title) for r in rows):
            rows.append(RiskRow(t.title, t.severity, t.likelihood, t.mitigation, "typical"))
    return sorted(rows, key=lambda r: -r.score)


def uncovered_threats(brief: Brief) -> list[Threat]:
    """Typical high or critical threats that none of the plan's risks mentions."""
    planned = [r.title for r in (brief.plan.risks if brief.plan else [])]
    return [
        t
        for t in threats_for(brief.traits)
        if t.severity in ("high", "critical") and not any(_similar(t.title, p) for p in planned)
    ]


def write_risk_review(brief: Brief) -> list[str]:
    """``risk-review.md``: risks rated by severity and likelihood, the matrix, sign-off."""
    rows = risk_rows(brief)
    numbered = list(enumerate(rows, 1))
    risks = [
        (n, r.title, r.severity, r.likelihood, r.score, r.action, r.mitigation, r.source)
        for n, r in numbered
    ]
    headers = ["#", "Risk", "Severity", "Likelihood", "Score", "Action", "Mitigation", "Source"]
    grid = []
    for severity in ("critical", "high", "medium", "low"):
        cells = [
            ", ".join(f"#{n}" for n, r in numbered if (r.severity, r.likelihood) == (severity, lk))
            or "·"
            for lk in ("low", "medium", "high")
        ]
        grid.append((severity, *cells))
    pattern = r"auth|secret|encrypt|audit|personal|regulated|rate limit|validat"
    security = [
        f"{r.key}: {r.text}" for r in brief.requirements if re.search(pattern, r.text, re.I)
    ]
    sign_off = [
        f"#{n} {r.title}: mitigation in place and tested" for n, r in numbered if r.score >= 6
    ]
    sign_off += ["Secrets scanned; none in the repository or logs", "Dependencies audited"]
    return [
        *section("Risks", table(headers, risks)),
        *section(
            "Severity \N{MULTIPLICATION SIGN} likelihood",
            table(["Severity \\ likelihood", "low", "medium", "high"], grid),
        ),
        *section("Security requirements", bullets(security, empty=_NO_SECURITY_REQUIREMENT)),
        *section("Sign-off before launch", checklist(sign_off)),
    ]


def write_threat_model(brief: Brief) -> list[str]:
    """``threat-model.md``: assets, trust boundaries, STRIDE for this system, typical threats."""
    assets = [f"{e.name}{' (personal data)' if e.personal else ''}" for e in brief.entities]
    assets += ["Credentials, tokens and API keys", "Audit and event logs"]
    parts = components(brief)
    observers = {c.name for c in parts if "observ" in c.name.lower()}
    boundaries = [f"{a} ↔ {b}" for a, b in edges(parts) if b not in observers]
    subject = brief.subject
    data = join_words([e.name.lower() for e in brief.entities][:3]) or "its data"
    stride = [
        ("Spoofing", f"A caller pretends to be another user of the {subject}",
         "Strong authentication; short-lived, revocable tokens"),
        ("Tampering", f"Someone changes {data} they do not own",
         "Ownership checks in the service layer; database constraints"),
        ("Repudiation", "A change cannot be traced to who made it",
         "Append-only audit log with actor and time"),
        ("Information disclosure", f"Leaks of {data} through APIs, logs or errors",
         "Field-level authorisation; redacted logs; generic error messages"),
        ("Denial of service", "Floods or expensive queries exhaust the service",
         "Rate limits, pagination caps, timeouts, autoscaling"),
        ("Elevation of privilege", "A user reaches admin actions",
         "Role checks on every endpoint, tested from the authorisation matrix"),
    ]  # fmt: skip
    typical = [(t.title, t.severity, t.mitigation) for t in threats_for(brief.traits)]
    surface = [(o.method, o.path, o.auth) for o in endpoints(brief)]
    return [
        *section("Assets", bullets(assets)),
        *section("Trust boundaries", bullets(boundaries)),
        *section("STRIDE", table(["Category", "Threat to this system", "Mitigation"], stride)),
        *section(
            "Threats typical for this kind of software",
            table(["Threat", "Severity", "Mitigation"], typical),
        ),
        *section("Public surface", table(["Method", "Path", "Auth"], surface)),
    ]


def write_authz_matrix(brief: Brief) -> list[str]:
    """``authz-matrix.md``: which role may do which action on every resource."""
    names = roles(brief)
    rows = []
    for e in brief.entities:
        actions = ["list", "read", "create"] + ([] if e.append_only else ["update", "delete"])
        for action in actions:
            allowed = ["✓" if _allowed(n, len(names), action) else "—" for n in range(len(names))]
            rows.append((f"{e.name}: {action}", *allowed))
    return section("Matrix", table(["Action", *names], rows)) + section(
        "Rules", bullets(AUTHZ_RULES)
    )


def _allowed(rank: int, count: int, action: str) -> bool:
    """Everyone reads; every role above the first writes; only the last (admin) deletes."""
    if action in ("list", "read"):
        return True
    if action in ("create", "update"):
        return rank > 0
    return rank == count - 1
