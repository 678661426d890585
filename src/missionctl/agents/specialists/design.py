"""Architect documents: architecture, data model, entity-relationship diagram, ADR."""

import re
from dataclasses import dataclass

from missionctl.agents.specialists.brief import Brief
from missionctl.agents.specialists.contract import REPORTING
from missionctl.agents.specialists.device_records import write_records
from missionctl.agents.specialists.markdown import bullets, cell, join_words, section, table
from missionctl.agents.specialists.product import audience
from missionctl.agents.specialists.warehouse import is_warehouse_project, write_warehouse_model
from missionctl.domain.english import with_article
from missionctl.reading import Entity, plural, radio_for
from missionctl.schemas.plans import PlanDecision


@dataclass(frozen=True, slots=True)
class Component:
    """A deployable or logical part of the system."""

    name: str
    responsibility: str
    technology: str


_TRAIT_COMPONENTS: tuple[tuple[str, str, str], ...] = (
    ("mobile", "Mobile app", "Screens, offline cache and push handling on the device"),
    ("web", "Web UI", "Screens and forms in the browser"),
    ("extension", "Extension", "Content script, background worker and popup"),
    ("cli", "Command-line entry point", "Argument parsing, progress output, exit codes"),
    ("library", "Public library API", "The documented functions and types callers import"),
    ("firmware", "Firmware", "Sensor loop, local buffer and {radio} sync on the device"),
    ("bot", "Bot event handler", "Receives chat events, replies and posts drafts"),
    ("realtime", "Realtime gateway", "WebSocket connections, rooms and fan-out"),
    ("api", "HTTP API", "Endpoints, validation, authentication, error format"),
    ("data", "Pipeline jobs", "Extract, validate, load and transform on a schedule"),
    (
        "ml",
        "Training and scoring",
        "Feature building, training, evaluation, batch or online scoring",
    ),
    ("infra", "Infrastructure code", "Modules/controllers that declare the environments"),
)


def components(brief: Brief) -> list[Component]:
    """The system's parts: the plan's architecture decision when it has one, else by traits."""
    decision = next(
        (
            d
            for d in (brief.plan.decisions if brief.plan else [])
            if d.title.lower() == "architecture"
        ),
        None,
    )
    if decision is not None:
        found = []
        for part in re.split(r";\s*", decision.choice.rstrip(".")):
            name, _, tech = part.partition(":")
            if name.strip():
                found.append(
                    Component(name.strip(), _responsibility(brief, name), tech.strip() or "—")
                )
        if found:
            return found
    radio = radio_for(brief.reading.technologies).name
    found = [
        Component(name, duty.format(radio=radio), "see decisions")
        for trait, name, duty in _TRAIT_COMPONENTS
        if trait in brief.traits
    ]
    if not found:
        found.append(Component("Core", f"The {brief.subject} itself", "see decisions"))
    if brief.entities and not brief.traits & {"cli", "library", "firmware", "extension"}:
        names = join_words([e.name for e in brief.entities[:4]])
        found.append(Component("Database", f"System of record for {names}", _storage(brief)))
    if brief.traits & {"scheduled", "ai", "bot", "public", "data"} and "data" not in {
        c.name for c in found
    }:
        found.append(
            Component(
                "Background worker",
                "Scheduled and slow work off the request path",
                "durable job queue",
            )
        )
    found.append(Component("Observability", "Structured logs, metrics, traces and alerts", "—"))
    return found


def _storage(brief: Brief) -> str:
    for decision in brief.plan.decisions if brief.plan else []:
        if decision.title.lower() in ("storage", "database", "system of record"):
            return decision.choice
    return "PostgreSQL (relational, with migrations)"


def _responsibility(brief: Brief, name: str) -> str:
    lower = name.lower()
    features = join_words([f.text for f in brief.features[:4]])
    entities = join_words([e.name for e in brief.entities[:4]])
    if "api" in lower or "server" in lower:
        return f"Endpoints and rules for {entities or brief.subject}"
    if any(w in lower for w in ("ui", "browser", "screen", "app", "front")):
        return f"Screens for {features or brief.subject}"
    if any(w in lower for w in ("record", "database", "storage", "store")):
        return f"Keeps {entities or 'the data'} consistent and durable"
    if any(w in lower for w in ("worker", "queue", "job")):
        return "Slow or scheduled work off the request path"
    if "observ" in lower:
        return "Logs, metrics, traces and alerts"
    return f"Part of the {brief.subject}"


_TIERS: tuple[tuple[str, str], ...] = (
    ("observ", "obs"),
    ("api|server|gateway|handler", "api"),
    ("ui|browser|app|mobile|extension|command|screen|front|bot", "client"),
    ("record|database|storage|store|warehouse|cache|registry", "store"),
    ("worker|queue|job|pipeline|training|scheduler", "worker"),
)


def _tier(component: Component) -> str:
    lower = component.name.lower()
    return next((t for p, t in _TIERS if re.search(rf"\b(?:{p})", lower)), "other")


def edges(parts: list[Component]) -> list[tuple[str, str]]:
    """Who talks to whom, by component name, starting from ``Users``.

    Users reach the clients, clients the APIs, APIs the workers and stores, workers the stores;
    observability hangs off the first API (or whatever else is the hub).
    """
    by_tier: dict[str, list[str]] = {}
    for c in parts:
        by_tier.setdefault(_tier(c), []).append(c.name)
    clients, apis = by_tier.get("client", []), by_tier.get("api", [])
    stores, workers = by_tier.get("store", []), by_tier.get("worker", [])
    others, observers = by_tier.get("other", []), by_tier.get("obs", [])
    entry = clients or apis or workers or others or stores
    edges = [("Users", e) for e in entry]
    middle = apis or workers or others
    edges += [(c, m) for c in clients for m in middle if m != c]
    edges += [(a, t) for a in apis for t in [*workers, *stores, *others]]
    edges += [(w, s) for w in workers for s in stores if (w, s) not in edges]
    hub = (apis or workers or clients or others or stores or ["Users"])[0]
    edges += [(hub, o) for o in observers]
    return list(dict.fromkeys(edges))


def _mermaid_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name) or "node"


def write_architecture(brief: Brief) -> list[str]:
    """``architecture.md``: context, components, diagram, flows, qualities, decisions."""
    parts = components(brief)
    core = [c for c in parts if _tier(c) != "obs"]
    diagram = ["```mermaid", "flowchart LR", '  Users(["Users"])']
    diagram += [f'  {_mermaid_id(c.name)}["{c.name}"]' for c in parts]
    dotted = {c.name for c in parts if _tier(c) == "obs"}
    diagram += [
        f"  {_mermaid_id(a)} {'-.->' if b in dotted else '-->'} {_mermaid_id(b)}"
        for a, b in edges(parts)
    ]
    diagram.append("```")
    flows = [f"**{f.title}** — {_flow(brief, f.text, core)}" for f in brief.features] or [
        f"The {brief.subject} handles each request through {join_words([c.name for c in core])}."
    ]
    lines = section(
        "Context",
        [
            f"Goal: {brief.goal}",
            "",
            "Users:",
            *bullets(audience(brief)),
            *(["", "Constraints:", *bullets(brief.constraints)] if brief.constraints else []),
            *(["", f"What exists: {brief.repo_context}"] if brief.repo_context else []),
        ],
    )
    lines += section(
        "Components",
        table(
            ["Component", "Responsibility", "Technology"],
            [(c.name, c.responsibility, c.technology) for c in parts],
        ),
    )
    lines += section("Diagram", diagram)
    lines += section("Main flows", bullets(flows))
    lines += section(
        "Quality attributes", table(["Requirement", "Design response"], _qualities(brief))
    )
    lines += section("Decisions", _decisions(brief.plan.decisions if brief.plan else []))
    lines += section(
        "Work breakdown",
        table(
            ["Task", "Role", "Title", "Depends on"],
            [(t.key, t.role, t.title, ", ".join(t.depends_on) or "—") for t in brief.tasks],
        ),
    )
    return lines


def _flow(brief: Brief, feature: str, core: list[Component]) -> str:
    entities = brief.entities_in(feature) or list(brief.entities[:1])
    wanted = {"client", "api", "store", "other"}
    if REPORTING.search(feature) or "scheduled" in brief.traits:
        wanted.add("worker")
    path = " → ".join(c.name for c in core if _tier(c) in wanted) or brief.subject
    stored = f"; data: {join_words([e.name for e in entities])}" if entities else ""
    keys = brief.requirements_for(feature)
    return f"{path}{stored}" + (f" (traces {', '.join(keys)})" if keys else "")


_QUALITY_RULES: tuple[tuple[str, str], ...] = (
    (
        r"p95|latency|ms\b|render|respon",
        "Indexes on hot read paths, cached reads, a load test at the expected peak.",
    ),
    (
        r"availab|uptime|99\.",
        "Health checks, two or more instances, automatic rollback on failed deploys.",
    ),
    (
        r"auth|authori[sz]|secret|role",
        "Authentication on every endpoint, authorisation in services, secrets server-side.",
    ),
    (r"wcag|accessib|keyboard", "Semantic HTML, visible focus, contrast checks in CI."),
    (
        r"log|metric|trac|observ",
        "Structured logs with request ids, RED metrics per endpoint, error tracking.",
    ),
    (
        r"personal|regulated|encrypt|privacy|gdpr|hipaa",
        "Field classification, encryption at rest, redacted logs, access audit.",
    ),
    (
        r"version|backward|compatib",
        "Versioned API paths; only additive changes within a version; contract tests in CI.",
    ),
    (
        r"constraint|orphan|integrity",
        "Foreign keys and check constraints in the database, not only in code.",
    ),
)


def _qualities(brief: Brief) -> list[tuple[str, str]]:
    rows = []
    features = [f.text.lower() for f in brief.features]
    for req in brief.requirements:
        if any(f and f in req.text.lower() for f in features):
            continue  # a feature requirement: covered by the flows above
        response = next(
            (text for pattern, text in _QUALITY_RULES if re.search(pattern, req.text, re.I)),
            f"Covered by tasks {', '.join(brief.traced_by(req.key)) or '(none yet)'}.",
        )
        rows.append((f"{req.key}: {req.text}", response))
    return rows


_NONE_RECORDED = "The plan records none; list them before this decision is accepted."


def _decisions(decisions: list[PlanDecision]) -> list[str]:
    """The plan's decisions, each as a subsection; no lines when the plan records none."""
    if not decisions:
        return []
    lines = ["From the plan; each stays proposed until the mission owner confirms it.", ""]
    for d in decisions:
        lines += [f"### {d.title}", "", f"**Choice:** {d.choice}", ""]
        for label, items in (
            ("Reasons", d.reasons),
            ("Trade-offs", d.trade_offs),
            ("Alternatives", d.alternatives),
        ):
            lines += [f"{label}:", *bullets(items), ""] if items else []
    return lines


def write_data_model(brief: Brief) -> list[str]:
    """``data-model.md``: entities with fields, relationships, indexes, privacy.

    A warehouse project models its sources into marts, in the warehouse's types
    (:func:`~.warehouse.write_warehouse_model`), even when its data comes from devices.
    Firmware keeps records on the device, not tables in a database: its data model is the
    record layout (:func:`write_device_records`).
    """
    if is_warehouse_project(brief):
        return write_warehouse_model(brief)
    if "firmware" in brief.traits:
        return write_device_records(brief)
    if not brief.entities:
        return section(
            "Entities",
            [
                f"The goal names no stored entities for the {brief.subject}; state lives in the "
                "systems it works on. Record here any table or file format the work introduces."
            ],
        )
    lines = section(
        "Entities",
        table(
            ["Entity", "Table", "From the goal", "Writes", "Personal data"],
            [
                (
                    e.name,
                    e.table,
                    e.origin or "—",
                    "append-only" if e.append_only else "create/update",
                    "yes" if e.personal else "no",
                )
                for e in brief.entities
            ],
        ),
    )
    for entity in brief.entities:
        rows = [(c.name, c.type, _note(c.note, c.ref)) for c in entity.attributes]
        lines += section(
            f"{entity.name} (`{entity.table}`)", table(["Field", "Type", "Notes"], rows), level=3
        )
    lines += section("Relationships", bullets(_relationships(brief.entities)))
    tables = {e.name: e.table for e in brief.entities}
    derived = [
        f"{d.phrase[:1].upper()}{d.phrase[1:]}: computed from `{tables[d.entity]}.{d.attribute}`"
        for d in brief.reading.derived
        if d.entity in tables
    ]
    if derived:
        lines += section("Derived, not stored", bullets(derived))
    lines += section("Indexes", bullets(_indexes(brief.entities)))
    personal = [e.name for e in brief.entities if e.personal]
    privacy = [
        f"Personal data in {join_words(personal)}: collect the minimum, encrypt at rest, "
        "redact from logs, and define how long it is kept and how it is deleted."
        if personal
        else "No entity holds personal data as modelled; re-check when fields are added.",
        *(
            f"{e.name} is append-only: partition or prune by time, and aggregate for reporting."
            for e in brief.entities
            if e.append_only
        ),
    ]
    lines += section("Retention and privacy", bullets(privacy))
    return lines + _requirements_served(brief, "Entities")


def write_device_records(brief: Brief) -> list[str]:
    """The data model of firmware: the records the device keeps and sends."""
    if not brief.entities:
        return section(
            "Records on the device",
            [
                f"The goal names nothing the {brief.subject} records; state lives in its "
                "registers and configuration. Record here any record format the work adds."
            ],
        )
    languages = [t.base for t in brief.reading.technologies if t.category == "language"]
    radio = radio_for(brief.reading.technologies)
    lines = write_records(brief.entities, radio, languages[0] if languages else "C")
    return lines + _requirements_served(brief, "Records")


def _requirements_served(brief: Brief, what: str) -> list[str]:
    """The requirements that name an entity, with the entities (``what`` heads the column)."""
    traced = [
        (r.key, r.text, join_words([e.name for e in brief.entities_in(r.text)]))
        for r in brief.requirements
        if brief.entities_in(r.text)
    ]
    return section("Requirements it serves", table(["Key", "Requirement", what], traced))


def _note(note: str, ref: str | None) -> str:
    return " ".join(p for p in (f"→ {ref}" if ref else "", note) if p) or "—"


def _relationships(entities: tuple[Entity, ...]) -> list[str]:
    """Each reference as many-to-one, and as the whole's one-to-many when it is part of it.

    "Logbook → Entry: one-to-many … (a logbook has many entries)" comes before "Entry →
    Logbook: many-to-one via `logbook_id`" when the goal says the entries are the logbook's.
    """
    lines = []
    for e in entities:
        for c in e.attributes:
            if c.ref and c.part_of:
                whole = c.ref[:1].lower() + c.ref[1:]
                lines.append(
                    f"{c.ref} → {e.name}: one-to-many via `{e.table}.{c.name}` "
                    f"({with_article(whole)} has many {plural(e.name).lower()})"
                )
            if c.ref:
                lines.append(f"{e.name} → {c.ref}: many-to-one via `{c.name}`")
    return lines


def _indexes(entities: tuple[Entity, ...]) -> list[str]:
    result = []
    for e in entities:
        time_column = next(
            (
                c.name
                for c in e.attributes
                if c.name.endswith(("_at", "_on")) and c.name != "created_at"
            ),
            "created_at",
        )
        for c in e.attributes:
            if c.ref:
                suffix = f", {time_column}" if e.append_only else ""
                result.append(f"`{e.table} ({c.name}{suffix})` — foreign key lookups")
            elif "unique" in c.note:
                result.append(f"`{e.table} ({c.name})` unique")
    return result or ["Primary keys only until a query needs more."]


def write_erd(brief: Brief) -> list[str]:
    """``erd.md``: a Mermaid entity-relationship diagram of the data model."""
    lines = ["```mermaid", "erDiagram"]
    for e in brief.entities:
        name = _mermaid_id(e.name)
        for c in e.attributes:
            if c.ref:
                lines.append(f'  {_mermaid_id(c.ref)} ||--o{{ {name} : "{c.name}"')
        lines.append(f"  {name} {{")
        lines += [f"    {c.type.split('(')[0].replace(' ', '_')} {c.name}" for c in e.attributes]
        lines.append("  }")
    lines.append("```")
    if not brief.entities:
        lines = [
            f"The goal names no stored entities for the {brief.subject}, so there is nothing to "
            "draw yet. Draw the diagram when the work introduces a table or file format."
        ]
    return section("Diagram", lines) + section("Entities", bullets(e.name for e in brief.entities))


def write_adr(brief: Brief, name: str = "") -> list[str]:
    """An ADR for the plan decision that best matches the file name (else the first one)."""
    decisions = brief.plan.decisions if brief.plan else []
    if not decisions:
        return section("Status", ["Proposed — the plan records no decision to document yet."])
    words = set(re.findall(r"[a-z]+", name.lower())) - {"adr", "md"}

    def overlap(d: PlanDecision) -> int:
        return len(words & set(re.findall(r"[a-z]+", f"{d.title} {d.choice}".lower())))

    decision = max(decisions, key=overlap)
    if overlap(decision) == 0:
        decision = next((d for d in decisions if d.title.lower() == "architecture"), decisions[0])
    return [
        *section("Title", [decision.title]),
        *section(
            "Status", ["Proposed (from the plan; accepted when the mission owner signs off)."]
        ),
        *section(
            "Context",
            [f"The {brief.subject} must: {cell(brief.goal)}", "", *bullets(decision.reasons)],
        ),
        *section("Decision", [decision.choice]),
        *section("Consequences", bullets(decision.trade_offs, empty=_NONE_RECORDED)),
        *section("Alternatives considered", bullets(decision.alternatives, empty=_NONE_RECORDED)),
        *section(
            "Violated when…",
            [
                f"Code or infrastructure of the {brief.subject} departs from "
                f"“{decision.choice}” without a new ADR."
            ],
        ),
    ]
