"""Product and docs documents: scope, PRD, user journeys, glossary, README outline."""

import re

from missionctl.agents.specialists.brief import Brief
from missionctl.agents.specialists.markdown import (
    bullets,
    checklist,
    join_words,
    numbered,
    section,
    table,
)
from missionctl.domain.english import with_article
from missionctl.reading import Feature, plural, singular

_AUDIENCES: tuple[tuple[str, str], ...] = (
    ("api", "Client developers who integrate with the API"),
    ("cli", "Developers and data engineers working in a terminal"),
    ("library", "Developers who import the library in their code"),
    ("mobile", "People using the app on their phone"),
    ("web", "People using the {subject} in a browser"),
    ("data", "Analysts who read the output tables"),
    ("ml", "Teams who act on the predictions"),
    ("bot", "Team members in the chat workspace"),
    ("infra", "Platform engineers who provision and operate environments"),
    ("firmware", "People who deploy the devices and read their data"),
    ("extension", "People browsing with the extension installed"),
)
_NO_METRICS = (
    "No requirement states a number yet: define measurable targets with the mission owner."
)
_RULE = re.compile(r"unique|→|\bno\b|≥|>|after|once|only", re.I)
_EXCLUSION = re.compile(r"\b(?:avoid|no|not|without|out of scope|don't|do not|never)\b", re.I)


def audience(brief: Brief) -> list[str]:
    """Who the software serves: named in the goal, else typical for its traits."""
    found = [u[:1].upper() + u[1:] for u in brief.users]
    found += [text.format(subject=brief.subject) for t, text in _AUDIENCES if t in brief.traits]
    if not found:
        found.append(f"People who use the {brief.subject}")
    if "auth" in brief.traits or "pii" in brief.traits:
        found.append("Administrators who manage accounts and access")
    return list(dict.fromkeys(found))


def feature_rows(brief: Brief) -> list[tuple[str, str, str]]:
    """``(feature, requirement keys, tasks)`` for each feature of the goal."""
    rows = []
    for f in brief.features:
        keys = brief.requirements_for(f.text)
        tasks = sorted({t for k in keys for t in brief.traced_by(k)})
        rows.append((f.title, ", ".join(keys) or "—", ", ".join(tasks) or "—"))
    return rows


def write_scope(brief: Brief) -> list[str]:
    """``scope.md``: problem, users, requirements, acceptance criteria, out of scope."""
    lines = section("Problem", [brief.goal])
    lines += section("Users", bullets(audience(brief)))
    lines += section("In scope", table(["Feature", "Requirements", "Tasks"], feature_rows(brief)))
    lines += section(
        "Requirements",
        table(
            ["Key", "Requirement", "Priority", "Traced by"],
            [
                (r.key, r.text, r.priority, ", ".join(brief.traced_by(r.key)) or "—")
                for r in brief.requirements
            ],
        ),
    )
    criteria = [(t.key, c) for t in brief.tasks for c in t.acceptance] or [
        (brief.task.key, c) for c in brief.task.acceptance
    ]
    lines += section("Acceptance criteria", table(["Task", "Criterion"], criteria))
    lines += section("Constraints", bullets(brief.constraints))
    lines += section("Out of scope", bullets(_out_of_scope(brief)))
    open_questions = [
        f"Is {r.key} ({r.priority}) needed for the first release: {r.text}"
        for r in brief.requirements
        if r.priority != "must"
    ]
    open_questions.append(f"Who signs off the scope of the {brief.subject}, and by when?")
    lines += section("Open questions", bullets(open_questions))
    return lines


def _out_of_scope(brief: Brief) -> list[str]:
    items = [c for c in brief.constraints if _EXCLUSION.search(c)]
    if "web" in brief.traits and "mobile" not in brief.traits:
        items.append("Native mobile apps (the web UI is responsive instead)")
    if "payments" not in brief.traits and brief.traits & {"web", "api", "mobile"}:
        items.append("Payments and billing")
    items.append("Anything not traced to a requirement above — new ideas go to the backlog")
    return items


def persona(brief: Brief) -> str:
    """The user a story speaks for ("a product leader", "a member of the bakery staff").

    Without people named in the goal, "a user of the <subject>".
    """
    if brief.users:
        words = brief.users[0].split()
        if words[-1].lower() == "staff":  # "bakery staff": a member of it, not "a staff"
            return f"a member of the {brief.users[0]}"
        return with_article(" ".join([*words[:-1], singular(words[-1])]))
    return f"a user of the {brief.subject}"


def _story(brief: Brief, feature: Feature) -> str:
    if feature.action:
        # "accepts a software goal": the system acts; the story is about what the user gets.
        return f"As {persona(brief)}, I rely on the {brief.subject}: it {feature.text}."
    return f"As {persona(brief)}, I can use {feature.text}."


def write_prd(brief: Brief) -> list[str]:
    """``prd.md``: summary, users, goals and metrics, stories per feature, phases, risks."""
    lines = section("Summary", [brief.plan.summary if brief.plan else brief.goal])
    lines += section("Problem and users", [brief.goal, "", *bullets(audience(brief))])
    metrics = [f"{r.key}: {r.text}" for r in brief.requirements if re.search(r"\d", r.text)]
    lines += section(
        "Goals and success metrics",
        bullets(metrics, empty=_NO_METRICS),
    )
    stories = ["One story per feature, with the acceptance criteria a person will check.", ""]
    for feature in brief.features or (Feature.noun(brief.subject),):
        stories += [f"### {feature.title}", "", _story(brief, feature), ""]
        task = next((t for t in brief.tasks if feature.text.lower() in t.title.lower()), None)
        checks = (
            list(task.acceptance)
            if task
            else [f"{feature.title} works end to end and has an automated acceptance test"]
        )
        stories += ["Acceptance:", *checklist(checks), ""]
    lines += section("Features and user stories", stories)
    phases = [
        f"**{p.name}** — {p.goal} ({', '.join(p.task_keys)})"
        for p in (brief.plan.phases if brief.plan else [])
    ]
    lines += section(
        "Release phases", bullets(phases, empty="One release: the plan has no phases.")
    )
    risks = [
        f"{r.title} ({r.severity}): {r.mitigation}"
        for r in (brief.plan.risks if brief.plan else [])
    ][:5]
    lines += section("Top risks", bullets(risks))
    return lines


def write_journeys(brief: Brief) -> list[str]:
    """``user-journeys.md``: one journey per feature with its happy and error paths."""
    entry = _entry(brief)
    lines: list[str] = []
    for feature in brief.features or (Feature.noun(brief.subject),):
        entities = join_words([e.name for e in brief.entities_in(feature.text)]) or "its records"
        keys = brief.requirements_for(feature.text)
        steps = [
            f"{entry}.",
            f"They start “{feature.text}”.",
            f"The {brief.subject} validates the input and stores or reads {entities}.",
            "They see the result at once, with a clear next action.",
        ]
        lines += section(
            f"{feature.title}" + (f" ({', '.join(keys)})" if keys else ""),
            [
                *numbered(steps),
                "",
                "Error path: invalid input gets a message naming the field and the fix; "
                "nothing is half-saved.",
            ],
            level=3,
        )
    if brief.traits & {"web", "mobile"}:
        lines += section(
            "States to design for every screen",
            bullets(["Empty (first use)", "Loading", "Error (with retry)", "Success"]),
        )
    return lines


def _entry(brief: Brief) -> str:
    if "mobile" in brief.traits:
        return "The user opens the app"
    if "cli" in brief.traits:
        return "The user runs the command with its arguments"
    if "web" in brief.traits:
        return f"The user opens the {brief.subject} in a browser"
    if "api" in brief.traits:
        return "A client calls the API with its token"
    return f"The user reaches the {brief.subject}"


def write_glossary(brief: Brief) -> list[str]:
    """``domain-glossary.md``: the domain's terms and the business rules its data implies."""
    terms = [f"**{brief.subject}** — {brief.goal}"]
    terms += [
        f"**{e.name}** — stored as `{e.table}`; from “{e.origin or e.name.lower()}” in the goal."
        for e in brief.entities
    ]
    terms += [
        f"**{f.title}** — a feature of the goal."
        for f in brief.features
        if not brief.entities_in(f.text)
    ]
    rules = [
        f"{e.name}.{c.name}: {c.note}"
        for e in brief.entities
        for c in e.attributes
        if _RULE.search(c.note)
    ]
    rules = rules or ["State each business rule as a testable sentence."]
    return section("Glossary", bullets(terms)) + section("Business rules", bullets(rules))


def write_use_cases(brief: Brief) -> list[str]:
    """``use-cases.md``: actors and their use cases, traced to requirements."""
    actors = audience(brief)
    cases: list[tuple[str, str, str]] = []
    for e in brief.entities:
        verbs = "Record and list" if e.append_only else "Create, read, update and archive"
        keys = ", ".join(brief.requirements_for(e.name)) or "—"
        cases.append((actors[0], f"{verbs} {plural(e.name.lower())}", keys))
    for f in brief.features:
        keys = ", ".join(brief.requirements_for(f.text)) or "—"
        if f.action:
            cases.append((f"The {brief.subject}", f.title, keys))
        elif not brief.entities_in(f.text):
            cases.append((actors[0], f"Use {f.text}", keys))
    return section("Actors", bullets(actors)) + section(
        "Use cases", table(["Actor", "Use case", "Requirements"], cases)
    )


def write_readme_outline(brief: Brief) -> list[str]:
    """``readme-outline.md``: the README's sections and what each must say."""
    docs = sorted({a for t in brief.tasks for a in t.expected_artifacts if a.endswith(".md")})
    usage = [f"{f.title}: the shortest working example" for f in brief.features]
    return [
        *section("1. What it is", [f"One paragraph: {brief.goal}"]),
        *section(
            "2. Quick start",
            numbered(
                [
                    "Prerequisites and versions",
                    "Install",
                    "Configure (environment variables, no secrets in files)",
                    "Run",
                    "Verify it works (a health check or sample command)",
                ]
            ),
        ),
        *section("3. Usage", bullets(usage, empty="One short working example per feature.")),
        *section(
            "4. Configuration",
            bullets([*brief.constraints, "Every setting with its default and effect"]),
        ),
        *section("5. Architecture", ["Link to architecture.md and data-model.md; one diagram."]),
        *section(
            "6. Operations",
            bullets(["Deploy and roll back", "Backups and restore", "Where logs and metrics are"]),
        ),
        *section(
            "7. Contributing",
            bullets(
                [
                    "How to run the tests",
                    "Code style and checks",
                    "How to propose a change (ADR when choosing between alternatives)",
                ]
            ),
        ),
        *section("Documents to link", bullets(docs)),
    ]
