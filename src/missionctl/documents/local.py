"""The local writer: every kind of document as deterministic Markdown, with no model.

One function per kind (:data:`WRITERS`), each writing the sections ``kinds.yaml`` lists, in
order, from a :class:`~missionctl.documents.sources.DocumentSources`. Every piece of user or
model text goes through :func:`_line` or :func:`_lines`: redacted, then unable to change the
document's structure (``domain.markdown``). Nothing reads a clock, so the same sources always
give the same text. The execution pack is the pack's own ``AGENTS.md``
(``documents.pack_documents``), not a second version of it.
"""

from collections import Counter
from collections.abc import Callable, Sequence

from missionctl.documents.catalog import kind_spec
from missionctl.documents.pack_documents import render_agents, task_entries
from missionctl.documents.sources import DocumentSources
from missionctl.domain.diagrams import MissionDiagrams
from missionctl.domain.markdown import block, inline
from missionctl.domain.money import micros_text, usd_text
from missionctl.domain.outcomes import OUTCOME_LABELS, headline, outcome_counts
from missionctl.llm.redaction import redact
from missionctl.schemas.documents import DocumentKind
from missionctl.schemas.plans import PlanTask
from missionctl.schemas.register import RiskRead

SEVERITY_ORDER = ("critical", "high", "medium", "low")
LIKELIHOOD_ORDER = ("high", "medium", "low")
POINTS = (1, 2, 3, 5, 8)
"""Ticket estimates, in story points (a Fibonacci scale)."""
_POINT_LIMITS = (2, 4, 6, 9)  # a size score up to each limit gets the matching point value
_TIER_WEIGHT = {"read": 0, "write": 1, "irreversible": 3}


def _line(text: str) -> str:
    return inline(redact(text))


def _lines(text: str) -> str:
    return block(redact(text)) or "_None given._"


def _sentence(text: str) -> str:
    """``text`` as inline Markdown ending with a full stop (or its own end punctuation)."""
    safe = _line(text)
    return safe if not safe or safe[-1] in ".!?:;" else f"{safe}."


def _bullets(items: Sequence[str], empty: str) -> list[str]:
    return [f"- {item}" for item in items] if items else [empty]


def _head(sources: DocumentSources, kind: DocumentKind) -> list[str]:
    """The title line and the line that says what the document was written from."""
    spec = kind_spec(kind)
    plan = sources.plan
    runs = len(sources.runs)
    ran = f"{runs} run{'s' if runs != 1 else ''}" if runs else "not run yet"
    return [
        f"# {spec.title}: {_line(sources.mission.title)}",
        "",
        f"_{spec.purpose}_",
        "",
        f"Mission `{sources.mission.id}` · plan version {plan.version} · {len(plan.tasks)} "
        f"tasks · {ran}.",
        "",
    ]


def _section(title: str, body: Sequence[str]) -> list[str]:
    return [f"## {title}", "", *body, ""]


def _done(lines: list[str]) -> str:
    return "\n".join(lines).rstrip() + "\n"


def estimate_points(task: PlanTask) -> int:
    """A ticket's estimate in story points, from its size: criteria, artifacts, links, tier.

    Deterministic, so the same plan always gives the same estimates; docs/documents.md states
    the rule.
    """
    score = (
        len(task.acceptance)
        + len(task.expected_artifacts)
        + len(task.depends_on) // 2
        + _TIER_WEIGHT.get(task.risk_tier, 0)
    )
    for limit, points in zip(_POINT_LIMITS, POINTS, strict=False):
        if score <= limit:
            return points
    return POINTS[-1]


def _tasks_of(sources: DocumentSources) -> dict[str, list[str]]:
    """Each requirement key → the titles of the tasks that trace it."""
    by_requirement: dict[str, list[str]] = {}
    for task in sources.plan.tasks:
        for key in task.traces:
            by_requirement.setdefault(key, []).append(_line(task.title))
    return by_requirement


def write_prd(sources: DocumentSources) -> str:
    """The product requirements document: features, constraints and qualities apart.

    The constraints are the plan's constraint requirements (what the goal's sentence and the
    mission's constraints bound), followed by any of the mission's constraints that none of
    them quotes.
    """
    mission, plan = sources.mission, sources.plan
    delivered = _tasks_of(sources)

    def lines_of(kind: str) -> list[str]:
        return [
            f"**{r.key}** ({r.priority}): {_sentence(r.text)}"
            + (
                f" Delivered by: {'; '.join(delivered[r.key])}."
                if r.key in delivered
                else " No task delivers it yet."
            )
            for r in plan.requirements
            if r.kind == kind
        ]

    quoted = " ".join(r.text for r in plan.requirements if r.kind == "constraint").casefold()
    unquoted = [_line(c) for c in mission.constraints if c.strip().casefold() not in quoted]
    could = [r.key for r in plan.requirements if r.priority == "could"]
    scope = [
        f"In scope: the {len(plan.requirements)} requirements above, delivered by "
        f"{len(plan.tasks)} tasks in {len(plan.phases) or 1} phase(s).",
        "Out of scope: what the goal does not ask for; a clause of the goal no requirement "
        "keeps is an open question below, not out of scope."
        + (f" First to drop under pressure: {', '.join(could)} (could)." if could else ""),
    ]
    asked = [
        _line(q)
        for round_ in mission.clarifications
        for n, q in enumerate(round_.questions)
        if round_.answers is None or n >= len(round_.answers) or not round_.answers[n]
    ]
    # A clause of the goal the plan keeps nowhere is a question for the product owner.
    asked += [
        f"The goal says “{_line(c.text)}”, and no requirement keeps it: what should the "
        f"{_line(mission.title)} do about it?"
        for c in plan.clauses
        if not c.covered
    ]
    return _done(
        [
            *_head(sources, "prd"),
            *_section("Summary", [_lines(plan.summary)]),
            *_section("Goal", [_lines(mission.goal)]),
            *_section("Features", _bullets(lines_of("feature"), "None recorded.")),
            *_section(
                "Constraints",
                _bullets(
                    lines_of("constraint") + unquoted, "Neither the goal nor the mission sets any."
                ),
            ),
            *_section("Qualities", _bullets(lines_of("quality"), "None recorded.")),
            *_section("Scope and out of scope", _bullets(scope, "")),
            *_section("Open questions", _bullets(asked, "None: the planner asked nothing open.")),
        ]
    )


def _by_role(sources: DocumentSources) -> dict[str, list[PlanTask]]:
    roles: dict[str, list[PlanTask]] = {}
    for task in sources.plan.tasks:
        roles.setdefault(task.role, []).append(task)
    return roles


def architecture_section(sources: DocumentSources) -> list[str]:
    """The technical design's ``Architecture``: the parts of the work by role, the phases' flow.

    This is the one place the design's architecture is written: architecture and deployment
    diagrams belong here, after the parts, so that every writer of the technical design (the
    local writer, and the draft a model rewrites) carries them.
    """
    plan = sources.plan
    lines = [
        "The system is built by these parts of the work, each owned by one role:",
        "",
        *(
            f"- **{role}**: {'; '.join(_line(t.title) for t in tasks)}"
            for role, tasks in _by_role(sources).items()
        ),
    ]
    if plan.phases:
        flow = " → ".join(_line(p.name) for p in plan.phases)
        lines += ["", f"The work flows through its phases: {flow}."]
    if sources.diagrams is not None:
        lines += diagram_lines(sources.diagrams)
    return lines


DIAGRAM_HEADINGS = {"architecture": "Architecture diagram", "deployment": "Deployment diagram"}
"""The headings under which a technical design describes each diagram; the HTML and PDF
exports draw the diagram's SVG right after its heading."""


def _cell(text: str) -> str:
    return _line(text).replace("|", "\\|") or " "


def diagram_lines(diagrams: MissionDiagrams) -> list[str]:
    """Both diagrams as Markdown: per diagram a heading, a table of its boxes, its arrows."""
    drawer = "the local rules" if diagrams.source == "local" else f"the model {diagrams.source}"
    lines: list[str] = []
    for name, heading in DIAGRAM_HEADINGS.items():
        diagram = diagrams.architecture if name == "architecture" else diagrams.deployment
        labels = {c.key: c.label for c in diagram.components}
        in_columns = sorted(diagram.components, key=lambda c: diagram.groups.index(c.group))
        lines += [
            "",
            f"### {heading}",
            "",
            f"Drawn from plan version {diagrams.plan_version} by {_line(drawer)}.",
            "",
            "| Component | Technology | Column |",
            "| --- | --- | --- |",
            *(
                f"| {_cell(c.label)} | {_cell(c.technology)} | {_cell(c.group)} |"
                for c in in_columns
            ),
            "",
            "Connections:",
            "",
            *(
                f"- {_line(labels[link.source])} → {_line(labels[link.target])}"
                + (f" ({_line(link.label)})" if link.label else "")
                for link in diagram.connections
            ),
        ]
        built = [c for c in diagram.components if c.tasks]
        if built:
            lines += ["", "Built by these tasks:", ""]
            lines += [f"- {_line(c.label)}: `{'`, `'.join(c.tasks)}`" for c in built]
    return lines


def write_technical_design(sources: DocumentSources) -> str:
    """The technical design; :func:`architecture_section` writes its ``Architecture``."""
    mission, plan = sources.mission, sources.plan
    components = [
        f"**{_line(t.title)}** (`{t.key}`, {t.role}): "
        + (", ".join(_line(a) for a in t.expected_artifacts) or "no artifact named")
        for t in plan.tasks
    ]
    context = (
        _lines(mission.repo_context)
        if mission.repo_context.strip()
        else "No repository context was given: a new project."
    )
    stack = [
        context,
        "",
        *_bullets(
            [f"**{_line(d.title)}:** {_line(d.choice)}" for d in sources.decisions],
            "No stack choice recorded.",
        ),
    ]
    decisions = [f"**{_line(d.title)}** ({d.status}): {_line(d.choice)}" for d in sources.decisions]
    serious = [_risk_line(r) for r in _ranked(sources.risks) if r.status != "closed"]
    return _done(
        [
            *_head(sources, "technical_design"),
            *_section("Overview", [_lines(plan.summary)]),
            *_section("Architecture", architecture_section(sources)),
            *_section("Stack", stack),
            *_section("Components", _bullets(components, "No task recorded.")),
            *_section("Key decisions", _bullets(decisions, "None recorded.")),
            *_section("Risks to the design", _bullets(serious, "No open risk.")),
        ]
    )


def write_engineering_plan(sources: DocumentSources) -> str:
    """The engineering plan: milestones from the phases, tickets from the tasks."""
    plan = sources.plan
    entries = task_entries(plan)
    number = {e.task.key: e.number for e in entries}
    phases = plan.phases or []
    milestone_of = {key: n for n, p in enumerate(phases, 1) for key in p.task_keys}
    milestones: list[str] = []
    for n, phase in enumerate(phases, 1):
        keys = sorted(phase.task_keys, key=lambda k: number.get(k, 0))
        points = sum(estimate_points(e.task) for e in entries if e.task.key in keys)
        milestones += [
            f"### M{n}: {_line(phase.name)}",
            "",
            _lines(phase.goal),
            "",
            f"Tickets: {', '.join(f'T-{number[k]:02d}' for k in keys if k in number)} "
            f"({points} points). Done when every ticket's acceptance criteria are met.",
            "",
        ]
    if not phases:
        milestones = ["### M1: Delivery", "", "Every ticket below; there are no phases.", ""]
    tickets: list[str] = []
    for entry in entries:
        task = entry.task
        depends = ", ".join(f"T-{number[k]:02d}" for k in task.depends_on if k in number)
        tickets += [
            f"### T-{entry.number:02d} · {_line(task.title)}",
            "",
            f"`{task.key}` · role {task.role} · milestone M{milestone_of.get(task.key, 1)} · "
            f"estimate {estimate_points(task)} points (about {task.estimate_tokens:,} model "
            f"tokens) · risk tier {task.risk_tier} · depends on {depends or 'nothing'} · "
            f"traces {', '.join(task.traces) or 'no requirement'}",
            "",
            _lines(task.description),
            "",
            "Acceptance criteria:",
            "",
            *(f"- [ ] {_line(a)}" for a in task.acceptance),
            "",
        ]
    total = sum(estimate_points(e.task) for e in entries)
    tokens = sum(e.task.estimate_tokens for e in entries)
    estimates = [
        f"{len(entries)} tickets, {total} points in all; about {tokens:,} model tokens.",
        "",
        "Points come from each ticket's size: its acceptance criteria, expected artifacts, "
        "half its dependencies, and its risk tier (write 1, irreversible 3), mapped to "
        f"{', '.join(map(str, POINTS))} at scores up to {', '.join(map(str, _POINT_LIMITS))}.",
    ]
    return _done(
        [
            *_head(sources, "engineering_plan"),
            *_section("Overview", [_lines(plan.summary)]),
            *_section("Milestones", milestones),
            *_section("Tickets", tickets),
            *_section("Estimates", estimates),
        ]
    )


def write_execution_pack(sources: DocumentSources) -> str:
    """The execution pack's ``AGENTS.md``, exactly as the pack writes it (ADR 0050)."""
    return render_agents(sources.mission, sources.plan, task_entries(sources.plan))


def _ranked(risks: Sequence[RiskRead]) -> list[RiskRead]:
    def rank(risk: RiskRead) -> tuple[int, int]:
        severity, likely = risk.severity, risk.likelihood
        return (
            SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else 9,
            LIKELIHOOD_ORDER.index(likely) if likely in LIKELIHOOD_ORDER else 9,
        )

    return sorted(risks, key=rank)


def _risk_line(risk: RiskRead) -> str:
    return (
        f"**{_line(risk.title)}** ({risk.severity} severity, {risk.likelihood} likelihood, "
        f"{risk.status}): {_line(risk.mitigation) or 'no mitigation recorded'}"
    )


def _usd(micros: int) -> str:
    return micros_text(micros)


def _progress(sources: DocumentSources) -> list[str]:
    """The brief's progress: the run's headline first, then its outcome counts, not statuses.

    A task that wrote documents is ``documented``, not a success that built something: the
    counts are the outcomes (``domain.outcomes``), as the run report's are.
    """
    run = sources.latest_run
    if run is None:
        return ["Not run yet."]
    by_task = run.task_outcomes
    ended = list(by_task.values())
    counts = outcome_counts(ended)
    said = ", ".join(f"{n} {OUTCOME_LABELS[o]}" for o, n in counts.items()) or "none ended"
    waiting = sum(o is None for o in ended)
    if waiting:
        said += f", {waiting} not ended"
    failed = [s for s in run.steps if s.status == "failed"]
    lines = [
        f"**{_sentence(headline(ended))}**" if counts else "No task has ended yet.",
        "",
        f"Latest run `{run.id}`: {run.status}; its {len(by_task)} tasks: {said}; "
        f"{len(run.artifacts)} artifacts produced ({len(sources.runs)} run(s) of this plan).",
    ]
    lines += [f"- Failed: `{s.step_id}`: {_line(s.error or 'no error recorded')}" for s in failed]
    return lines


def write_executive_brief(sources: DocumentSources) -> str:
    """One page for a sponsor."""
    mission, plan = sources.mission, sources.plan
    priorities = Counter(r.priority for r in plan.requirements)
    numbers = [
        f"{len(plan.requirements)} requirements ("
        + ", ".join(f"{priorities[p]} {p}" for p in ("must", "should", "could") if priorities[p])
        + ")",
        f"{len(plan.tasks)} tasks in {len(plan.phases)} phases",
        f"{len(sources.risks)} risks, {len(sources.decisions)} decisions",
    ]
    run_cost = sum(r.cost_micros for r in sources.runs)
    budget = (
        f" of a budget of {usd_text(mission.budget_usd)}" if mission.budget_usd is not None else ""
    )
    spend = [
        f"{usd_text(mission.spent_usd)} spent on the mission so far{budget} ({_usd(run_cost)} by "
        f"the runs of this plan); {mission.input_tokens:,} tokens in, "
        f"{mission.output_tokens:,} out."
    ]
    live = [r for r in _ranked(sources.risks) if r.status != "closed"][:3]
    key = [d for d in sources.decisions if d.status == "accepted"][:5]
    return _done(
        [
            *_head(sources, "executive_brief"),
            *_section("In one paragraph", [_lines(plan.summary)]),
            *_section("The plan in numbers", _bullets(numbers, "")),
            *_section("Progress", _progress(sources)),
            *_section("Spend", spend),
            *_section("Top risks", _bullets([_risk_line(r) for r in live], "No open risk.")),
            *_section(
                "Key decisions",
                _bullets([f"**{_line(d.title)}:** {_line(d.choice)}" for d in key], "None yet."),
            ),
            *_section(
                "Next steps",
                _bullets([f"{_line(n.text)} ({n.priority})" for n in plan.next_steps], "None."),
            ),
        ]
    )


def write_risk_register(sources: DocumentSources) -> str:
    """The risk register: every risk of the register, a heat map, what the runs reported."""
    risks = _ranked(sources.risks)
    status = Counter(str(r.status) for r in risks)
    overview = [
        f"{len(risks)} risks: "
        + (", ".join(f"{status[s]} {s}" for s in ("open", "mitigating", "closed")) or "none")
        + ". The heat map counts those not closed."
    ]
    live = Counter((r.severity, r.likelihood) for r in risks if r.status != "closed")
    heat = [
        "| Severity | " + " | ".join(LIKELIHOOD_ORDER) + " |",
        "| --- | " + " | ".join("---" for _ in LIKELIHOOD_ORDER) + " |",
        *(
            f"| {s} | " + " | ".join(str(live[(s, lk)]) for lk in LIKELIHOOD_ORDER) + " |"
            for s in SEVERITY_ORDER
        ),
    ]
    items: list[str] = []
    for risk in risks:
        items += [
            f"### {_line(risk.title)}",
            "",
            f"Severity {risk.severity} · likelihood {risk.likelihood} · status {risk.status} · "
            f"owner {_line(risk.owner) or 'none'} · mitigation tasks "
            f"{', '.join(f'`{k}`' for k in risk.mitigation_tasks) or 'none named'}",
            "",
            _lines(risk.description),
            "",
            f"Mitigation: {_line(risk.mitigation) or 'none recorded'}",
            "",
        ]
    run = sources.latest_run
    failed = [s for s in run.steps if s.status == "failed"] if run else []
    reported = [f"`{s.step_id}` failed: {_line(s.error or 'no error recorded')}" for s in failed]
    quiet = "The newest run reported no failure." if run else "Not run yet."
    return _done(
        [
            *_head(sources, "risk_register"),
            *_section("Overview", overview),
            *_section("Heat map", heat),
            *_section("Risks", items or ["None recorded."]),
            *_section(
                "Reported by the runs",
                _bullets(reported, quiet),
            ),
        ]
    )


def write_decision_log(sources: DocumentSources) -> str:
    """The decision log, ADR style, in number order."""
    decisions = sorted(sources.decisions, key=lambda d: d.number)
    numbers = {d.id: d.number for d in decisions}
    status = Counter(str(d.status) for d in decisions)
    overview = [
        f"{len(decisions)} decisions: "
        + (
            ", ".join(
                f"{status[s]} {s}" for s in ("accepted", "proposed", "superseded") if status[s]
            )
            or "none"
        )
        + "."
    ]
    items: list[str] = []
    for d in decisions:
        supersedes = (
            f" · supersedes ADR-{numbers[d.supersedes]:04d}" if d.supersedes in numbers else ""
        )
        items += [
            f"### ADR-{d.number:04d} · {_line(d.title)}",
            "",
            f"Status {d.status} · decided {d.decided_on.isoformat()} · deciders "
            f"{', '.join(_line(x) for x in d.deciders) or 'not named'}{supersedes}",
            "",
            f"Context: {_line(d.context) or 'not recorded'}",
            "",
            f"Decision: {_line(d.choice)}",
            "",
            *_bullets([f"Reason: {_line(r)}" for r in d.reasons], ""),
            *(f"- Trade-off: {_line(t)}" for t in d.trade_offs),
            *(f"- Alternative: {_line(a)}" for a in d.alternatives),
            "",
            f"Consequences: {_line(d.consequences) or 'not recorded'}",
            "",
        ]
    return _done(
        [
            *_head(sources, "decision_log"),
            *_section("Overview", overview),
            *_section("Decisions", items or ["None recorded."]),
        ]
    )


WRITERS: dict[DocumentKind, Callable[[DocumentSources], str]] = {
    "prd": write_prd,
    "technical_design": write_technical_design,
    "engineering_plan": write_engineering_plan,
    "execution_pack": write_execution_pack,
    "executive_brief": write_executive_brief,
    "risk_register": write_risk_register,
    "decision_log": write_decision_log,
}


def write_local(kind: DocumentKind, sources: DocumentSources) -> str:
    """The local writer's ``kind`` document of ``sources`` (Markdown, redacted)."""
    return WRITERS[kind](sources)
