"""Builder documents: screens, wireframes, pipeline, model notes, implementation notes."""

from missionctl.agents.specialists.brief import Brief
from missionctl.agents.specialists.contract import REPORTING, commands, endpoints
from missionctl.agents.specialists.markdown import (
    bullets,
    checklist,
    is_document_name,
    join_words,
    numbered,
    section,
    table,
)
from missionctl.agents.specialists.warehouse import is_warehouse_project, warehouse_marts
from missionctl.reading import Entity, plural, radio_for

STATES = ("Skeleton rows, no layout jump", "Message with the cause and a retry")
A11Y = (
    "Keyboard-only use of every journey",
    "Visible focus and labels on every control",
    "Contrast of at least 4.5:1",
    "Status changes announced to screen readers",
)
PIPELINE_STAGES = (
    ("Extract", "New and changed records since the watermark", "Watermark saved after the load"),
    ("Validate", "Schema, types, required fields, ranges", "Bad rows quarantined with the reason"),
    ("Load raw", "Append to raw tables as received", "Keyed on source id: re-runs add nothing"),
    ("Transform", "Build the modelled tables from raw", "Whole partitions rebuilt (idempotent)"),
    ("Publish", "Swap in new partitions, refresh reports", "Atomic swap; previous partition kept"),
)
ROLE_STEPS: dict[str, tuple[str, ...]] = {
    "backend": (
        "Migration for the tables touched",
        "Repository functions (one query per use)",
        "Service functions with the business rules and authorisation",
        "Routes exactly as in the API contract",
        "Contract tests for success and each error status",
    ),
    "cli": (
        "Core functions for the data touched, usable without the command line",
        "The command and its options exactly as in the CLI spec",
        "Progress on stderr, results on stdout, documented exit codes",
        "Tests on the fixture corpus, including interrupted and partial runs",
    ),
    "firmware": (
        "Drivers for the sensors and the radio, against the board's HAL",
        "The record layout of the data model, written whole with its CRC",
        "Power states: sleep between samples, wake sources, radio time budgeted",
        "Unit tests on the host; the hardware-in-the-loop test with current measured",
    ),
    "frontend": (
        "Components from the screen list, with empty/loading/error states",
        "Wire to the API contract; show field errors inline",
        "Keyboard and screen-reader pass",
        "End-to-end test of the journey in a real browser",
    ),
    "mobile": (
        "Screens and navigation",
        "Local cache and sync queue",
        "Push registration and handling",
        "Device tests on the smallest supported phone",
    ),
    "data": (
        "Capture events at the source with a documented schema",
        "Idempotent load keyed on source ids",
        "Daily aggregations with backfill",
        "Read endpoints or tables for the reports",
        "Quality checks that fail the run",
    ),
    "ml": (
        "Feature pipeline shared by training and scoring",
        "Training job that registers a model version",
        "Evaluation report against the baseline",
        "Scoring job and drift monitors",
    ),
    "devops": (
        "Infrastructure as code for each environment",
        "CI pipeline: lint, types, tests, build, deploy",
        "Health checks and automatic rollback",
        "Dashboards and alerts",
    ),
    "infrastructure": (
        "Modules for the network, compute and data tiers: inputs validated, outputs documented",
        "Remote state with locking, one state per environment",
        "A plan on every change in CI; apply only from an approved plan",
        "Policy checks (encryption, public access, least privilege) and a second plan that "
        "shows no changes",
    ),
    "security": (
        "Roles and permissions in one place",
        "Checks in the service layer for every object",
        "Audit log of changes and denials",
        "Tests generated from the authorisation matrix",
    ),
}


def screens(brief: Brief) -> list[tuple[str, str, str]]:
    """``(screen, purpose, data)`` for the UI of the goal."""
    rows: list[tuple[str, str, str]] = []
    if brief.traits & {"auth", "pii"}:
        rows.append(("Sign in", "Authenticate; link to reset access", "User"))
    for e in brief.entities:
        many = plural(e.name)
        if e.name == "User":
            continue
        if e.append_only:
            rows.append(
                (f"{many} overview", f"Charts and a filterable table of {many.lower()}", e.name)
            )
        else:
            rows.append((many, f"Find and open {many.lower()}", e.name))
            rows.append((f"{e.name} form", "Create or change one, with inline validation", e.name))
    for f in brief.features:
        if REPORTING.search(f.text) and not brief.entities_in(f.text):
            rows.append((f.title, f"See {f.text} over a chosen date range", "reports"))
    if not rows:
        rows = [(f.title, f"Do “{f.text}”", "—") for f in brief.features]
        rows = rows or [("Home", f"Use the {brief.subject}", "—")]
    if "offline" in brief.traits:
        rows.append(("Offline banner", "Shows cached data and what will sync later", "local cache"))
    if brief.traits & {"auth", "pii"}:
        rows.append(("Settings", "Profile, sessions and notifications", "User"))
    return rows


def write_screens(brief: Brief) -> list[str]:
    """``screens.md`` / ``ui-flows.md``: screens with their states, navigation, copy, checks."""
    rows = screens(brief)
    states = [
        (s, p, d, f"What {s.lower()} will show, and the first action", *STATES) for s, p, d in rows
    ]
    main = [s for s, _, _ in rows if "form" not in s.lower() and s != "Sign in"][:6]
    lines = section(
        "Screens and states",
        table(["Screen", "Purpose", "Data", "Empty", "Loading", "Error"], states),
    )
    lines += section(
        "Navigation",
        bullets(
            [
                f"Primary navigation: {join_words(main)}.",
                "Forms open from their list and return to it with a confirmation.",
            ]
        ),
    )
    if "mobile" in brief.traits:
        mobile = [
            "Deep links open the matching screen.",
            "Ask for push permission only after the user books or subscribes.",
        ]
        if "offline" in brief.traits:
            mobile.append(
                "Cache the schedule offline; queue writes and sync with conflict messages."
            )
        lines += section("Mobile specifics", bullets(mobile))
    words = join_words([e.name.lower() for e in brief.entities][:6]) or brief.subject
    copy = [
        "Errors say what happened and how to fix it, naming the field.",
        "Empty states say what will appear and how to start.",
        f"Use the words of the domain: {words}.",
    ]
    return lines + section("Copy", bullets(copy)) + section("Accessibility checks", checklist(A11Y))


def write_wireframes(brief: Brief) -> list[str]:
    """``wireframes.md``: a text wireframe per screen."""
    lines: list[str] = []
    rule = f"+{'-' * 58}+"
    for name, purpose, data in screens(brief):
        entity = next((e for e in brief.entities if e.name == data), None)
        body = [purpose]
        if entity is not None:
            body = [c.name for c in entity.attributes if c.name not in ("id", "created_at")][:5]
        box = ["```", rule, f"| {brief.subject[:40]:<40} [nav] [account] |", rule]
        box += [f"| {name[:44]:<44} [ Primary ] |", *(f"|   {item[:54]:<54} |" for item in body)]
        lines += section(name, [purpose, "", *box, rule, "```"], level=3)
    return lines


def write_pipeline(brief: Brief) -> list[str]:
    """``pipeline.md``: sources, schedule, stages, outputs, quality checks, operations.

    A warehouse project's outputs are the marts of its data model, at their grain; any other
    pipeline's are the tables of the goal's entities.
    """
    words = ("nightly", "hourly", "daily", "weekly")
    schedule = next((w for w in words if w in brief.goal.lower()), "hourly")
    sources = [f.text for f in brief.features if f.action] or [brief.subject]
    outputs, checks = (
        _mart_outputs(brief, schedule)
        if is_warehouse_project(brief)
        else _table_outputs(brief, schedule)
    )
    operations = [
        "A failed check fails the run and alerts; nothing partial is published.",
        "Backfill: re-run a date range; idempotent loads make it safe.",
        "Credentials are read-only, scoped and come from the secret manager.",
    ]
    return [
        *section("Sources", bullets(sources)),
        *section("Schedule", [f"Runs {schedule}, plus on-demand backfills for a date range."]),
        *section("Stages", table(["Stage", "What", "Idempotency / safety"], PIPELINE_STAGES)),
        *section("Outputs", table(["Table", "Grain", "Fields"], outputs)),
        *section(
            "Data quality checks",
            bullets(checks, empty="Row-count and freshness checks on every output table."),
        ),
        *section("Operations", bullets(operations)),
    ]


def _table_outputs(brief: Brief, schedule: str) -> tuple[list[tuple[str, ...]], list[str]]:
    """The output tables of the goal's entities, and their checks."""
    outputs: list[tuple[str, ...]] = [
        (e.table, f"one row per {e.name.lower()}", ", ".join(c.name for c in e.attributes))
        for e in brief.entities
    ]
    checks = [
        f"`{e.table}`: no null keys; unique "
        f"{', '.join(c.name for c in e.attributes if c.note.startswith('unique')) or 'id'}; "
        f"fresh within one {schedule} cycle"
        for e in brief.entities
    ]
    return outputs, checks


def _mart_outputs(brief: Brief, schedule: str) -> tuple[list[tuple[str, ...]], list[str]]:
    """The marts of a warehouse project as outputs, at their grain, and their checks."""
    outputs: list[tuple[str, ...]] = []
    checks = []
    for mart in warehouse_marts(brief):
        grain = ", ".join(c.name for c in mart.grain)
        fields = ", ".join(c.name for c in (*mart.grain, *mart.columns))
        outputs.append((f"`{mart.name}`", f"one row per {grain}", fields))
        checks.append(
            f"`{mart.name}`: ({grain}) unique and not null; fresh within one {schedule} cycle"
        )
    return outputs, checks


def write_model_notes(brief: Brief) -> list[str]:
    """``model-notes.md``: framing, data, training, evaluation, serving, monitoring."""
    words = ("weekly", "daily", "monthly", "nightly")
    retrain = next((w for w in words if w in brief.goal.lower()), "monthly")
    inputs = [
        f"{e.name}: {', '.join(c.name for c in e.attributes if c.name not in ('id', 'created_at'))}"
        for e in brief.entities
    ]
    training = [
        "Build features with the same code used for scoring",
        "Split by time: train on the past, test on the latest period",
        "Baseline first (a rule or logistic regression), then the candidate",
        f"Retrain {retrain}; register every model version with its metrics",
    ]
    evaluation = [
        "ROC AUC and precision at the top decile on the hold-out period",
        "Calibration curve",
        "Performance by segment, to catch unfair gaps",
    ]
    serving = [
        "Batch scores written with the model version",
        "Promotion only when the candidate beats production on the hold-out set",
        "One-command rollback to the previous version",
    ]
    monitoring = [
        "Input drift (PSI per feature) and prediction drift, with alert thresholds",
        "Realised performance reported when labels arrive",
    ]
    return [
        *section(
            "Framing", [f"What it predicts, for whom, and the decision it changes: {brief.goal}"]
        ),
        *section("Data", bullets(inputs, empty="Name the source tables and define the label.")),
        *section("Training", numbered(training)),
        *section("Evaluation", bullets(evaluation)),
        *section("Serving", bullets(serving)),
        *section("Monitoring", bullets(monitoring)),
    ]


def _kind(name: str) -> str:
    lower = name.lower()
    if "test" in lower:
        return "tests"
    if "migration" in lower or lower.endswith(".sql"):
        return "migration"
    if lower.endswith((".yml", ".yaml", ".json", ".toml", ".tf")):
        return "configuration"
    return "code change" if "pull request" in lower or "endpoint" in lower else "code"


def _links(brief: Brief) -> list[tuple[str, str]]:
    """A device's interfaces: its radio link and the records it sends over it."""
    radio = radio_for(brief.reading.technologies)
    records = join_words([e.name for e in brief.entities]) or "its records"
    return [
        (f"{radio.name} link", f"{radio.link}; sends {records} to {radio.peer}"),
        ("Sensor drivers", "Read the sensors the goal names, on the schedule it sets"),
    ]


def _touched(brief: Brief, touched: list[Entity], text: str) -> list[str]:
    """What a task's data is: its marts in a warehouse project, else its records or tables."""
    if is_warehouse_project(brief):
        marts = warehouse_marts(brief)
        own = [m for m in marts if m.feature.phrase.lower() in text.lower()] or marts
        return bullets(
            f"`{m.name}`, built from {join_words([f'`{s}`' for s in m.sources])} (see the "
            "data model)"
            for m in own
        )
    if "firmware" in brief.traits:
        return bullets(f"{e.name} record (see the data model)" for e in touched)
    return bullets(f"{e.name} (`{e.table}`)" for e in touched)


def _serves_records(brief: Brief) -> bool:
    """Whether the goal's records are served over HTTP.

    A warehouse project's marts are read where they are built, unless the mission asks for an
    API.
    """
    return brief.serves_http and (not is_warehouse_project(brief) or "api" in brief.traits)


def write_implementation(brief: Brief) -> list[str]:
    """``<task>-implementation.md``: what a write-tier task must build, for a coding agent."""
    task = brief.task
    text = f"{task.title} {task.description}"
    touched = brief.entities_in(text) or list(brief.entities)
    deliverables = [
        (a, "document" if is_document_name(a) else _kind(a)) for a in task.expected_artifacts
    ]
    lines = section("What to build", [task.description or task.title])
    lines += section("Deliverables to produce", table(["Deliverable", "Kind"], deliverables))
    lines += section("Data it will touch", _touched(brief, touched, text))
    # A device task builds firmware whatever role an earlier plan or a model gave it.
    device = task.role == "firmware" or (
        "firmware" in brief.traits and task.role in ("backend", "data")
    )
    if device:
        lines += section("Interfaces to build", table(["Interface", "Does"], _links(brief)))
    elif task.role in ("backend", "data", "security") and touched and _serves_records(brief):
        ops = [(o.method, o.path, o.purpose) for o in endpoints(brief, touched, about=text)]
        lines += section("Interfaces to build", table(["Method", "Path", "Purpose"], ops))
    elif task.role in ("backend", "data") and "cli" in brief.traits:
        lines += section("Interfaces to build", table(["Command", "Does"], commands(brief)))
    if task.role in ("frontend", "mobile"):
        lines += section(
            "Screens to build", table(["Screen", "Purpose"], [(s, p) for s, p, _ in screens(brief)])
        )
    surface = (
        "firmware"
        if device
        else "cli"
        if task.role == "backend" and not brief.serves_http
        else task.role
    )
    steps = ROLE_STEPS.get(surface, ("Make the change", "Test it", "Document it"))
    # The task's own criteria follow in "How to verify this task"; these are the usual extras.
    done = ["CI green: lint, types, tests", "Docs and changelog updated"]
    if task.acceptance:
        done.insert(0, "Every criterion under “How to verify this task” checked")
    hand_off = (
        "The builtin specialist writes the specification, not the code: run this task with a "
        "coding agent (a `command` step) or a configured model to produce the deliverables above."
    )
    return [
        *lines,
        *section("Steps", numbered(steps)),
        *section("Tests to write", bullets(f"Test: {c}" for c in task.acceptance)),
        *section("Definition of done", checklist(done)),
        *section("Hand-off", [hand_off]),
    ]
