"""The plan-quality oracle itself, on crafted plans: each check catches what it should and
passes a clean plan. Nothing here runs a planner."""

from collections.abc import Sequence

import pytest
from pydantic import ValidationError

from missionctl.planning.base import PlanningInput
from missionctl.schemas.plans import (
    PlanDecision,
    PlanDraft,
    PlanNextStep,
    PlanRequirement,
    PlanRisk,
    PlanTask,
)
from tests.planning.quality import (
    EcosystemTable,
    domain_nouns,
    duplicate_artifacts,
    judge,
    near_duplicate_risks,
    near_duplicates,
    noun_coverage,
    stack_leaks,
)
from tests.planning.quality_grammar import grammar_slips, plan_grammar_slips, sentences
from tests.planning.quality_text import fold

BAKERY = (
    "Build an inventory management system for a small bakery with supplier orders and expiry alerts"
)
RUST_SYNC = "Create a Rust command-line tool that syncs two S3 buckets incrementally"


def goal(text: str, *, repo_context: str = "") -> PlanningInput:
    return PlanningInput(title=text[:80], goal=text, repo_context=repo_context)


def task(key: str, text: str = "", *, artifacts: Sequence[str] = ()) -> PlanTask:
    """A task whose title, description and acceptance all say ``text`` (or a neutral line)."""
    line = text or f"The {key} work is done."
    return PlanTask(
        key=key,
        title=line,
        description=line,
        role="backend",
        acceptance=[line],
        expected_artifacts=list(artifacts),
        estimate_tokens=1000,
    )


def plan(
    *texts: str,
    summary: str = "A plan for the work.",
    artifacts: Sequence[Sequence[str]] = (),
    risks: Sequence[str] = (),
    alternatives: Sequence[str] = (),
) -> PlanDraft:
    """A valid draft: one task per text (at least four), the requirement says the first text."""
    lines = list(texts) + [""] * max(0, 4 - len(texts))
    per_task = list(artifacts) + [()] * (len(lines) - len(artifacts))
    return PlanDraft(
        summary=summary,
        requirements=[PlanRequirement(key="R1", text=lines[0] or "The work is done.")],
        tasks=[task(f"t{i}", line, artifacts=per_task[i]) for i, line in enumerate(lines)],
        risks=[
            PlanRisk(
                title=title,
                description="It could happen.",
                severity="medium",
                likelihood="low",
                mitigation="Watch it.",
            )
            for title in risks
        ],
        decisions=[
            PlanDecision(
                title="Stack",
                choice="The stack the mission names.",
                reasons=["The mission names it."],
                alternatives=list(alternatives),
            )
        ],
        next_steps=[PlanNextStep(text="Review the plan.")],
    )


# --- domain nouns ------------------------------------------------------------------------------


def test_domain_nouns_of_the_bakery_goal_leave_out_generic_words() -> None:
    assert domain_nouns(BAKERY) == ["inventory", "bakery", "supplier", "order", "expiry", "alert"]


def test_domain_nouns_fold_plurals_and_drop_adverbs_and_numbers() -> None:
    assert domain_nouns(RUST_SYNC) == ["rust", "s3", "bucket"]
    assert domain_nouns("Build a URL shortener with click analytics and custom aliases") == [
        "url",
        "shortener",
        "click",
        "analytics",
        "alias",
    ]


def test_verbs_of_relative_clauses_are_not_nouns() -> None:
    nouns = domain_nouns(
        "Build a Slack bot that summarizes incident channels and files a postmortem draft"
    )
    assert nouns == ["slack", "bot", "incident", "channel", "postmortem", "draft"]
    # "Train and deploy …": a first word joined by "and" is a verb too.
    assert "train" not in domain_nouns("Train and deploy a churn model")


def test_a_gerund_names_an_activity_even_when_its_verb_is_generic() -> None:
    assert "versioning" in domain_nouns("Build a docs generator with search and versioning")


def test_a_vague_goal_has_no_domain_nouns_and_is_fully_covered() -> None:
    assert domain_nouns("Build a thing.") == []
    assert noun_coverage(plan("Anything at all."), goal("Build a thing.")) == (1.0, [])


def test_french_goals_lose_their_function_words_too() -> None:
    nouns = domain_nouns(
        "Créer une application web de réservation pour un salon de coiffure avec rappels par SMS"
    )
    assert nouns == ["réservation", "salon", "coiffure", "rappel", "sms"]


def test_fold_makes_inflections_alike_and_keeps_invariant_words() -> None:
    assert fold("orders") == fold("ordering") == fold("order")
    assert fold("scheduling") == fold("schedules") == fold("schedule")
    assert fold("aliases") == fold("alias") == "alias"
    assert fold("databases") == fold("database")
    assert fold("status") == "status"


# --- noun coverage -----------------------------------------------------------------------------


def test_coverage_counts_any_inflection_in_requirements_and_tasks() -> None:
    draft = plan(
        "Track the bakery inventory.",
        "Ordering from a supplier.",
        "Alerting before expiry.",
    )
    assert noun_coverage(draft, goal(BAKERY)) == (1.0, [])


def test_coverage_names_the_missing_nouns() -> None:
    draft = plan("Track the bakery inventory.", "Supplier orders and their alerts.")
    share, missing = noun_coverage(draft, goal(BAKERY))
    assert missing == ["expiry"]
    assert share == pytest.approx(5 / 6)


def test_nouns_only_in_summary_or_risks_are_not_covered() -> None:
    draft = plan(
        "Track the bakery inventory and supplier orders.",
        summary="Expiry alerts for the bakery.",
        risks=["Expiry alerts fire late"],
    )
    assert noun_coverage(draft, goal(BAKERY))[1] == ["expiry", "alert"]


def test_artifacts_count_as_coverage() -> None:
    draft = plan(
        "Track the bakery inventory and supplier orders.", artifacts=[["expiry-alerts.md"]]
    )
    assert noun_coverage(draft, goal(BAKERY)) == (1.0, [])


# --- stack leaks -------------------------------------------------------------------------------


def test_a_rust_plan_with_python_packaging_leaks_each_phrase_with_its_place() -> None:
    draft = plan(
        "Write the sync in Rust and run cargo test in CI.",
        "Add pytest tests and pip install the tool.",
        "Build wheels and fill pyproject.toml.",
        summary="Project shape: src/<package>/cli.py and Cargo.toml.",
    )
    leaks = stack_leaks(draft, goal(RUST_SYNC))
    assert {leak.split(" (")[0] for leak in leaks} == {
        "src/<package>/cli.py",
        "pytest",
        "pip install",
        "Build wheels",
        "pyproject.toml",
    }
    assert leaks[:3] == [
        "src/<package>/cli.py (Python) in summary",
        "pytest (Python) in tasks[t1].title",
        "pip install (Python) in tasks[t1].title",
    ]
    assert "Build wheels (Python) in tasks[t2].acceptance[0]" in leaks


def test_the_ecosystem_the_mission_names_does_not_leak() -> None:
    draft = plan(
        "Write the sync in Rust.", "Run cargo test and clippy in CI.", "Publish to crates.io."
    )
    assert stack_leaks(draft, goal(RUST_SYNC)) == []


@pytest.mark.parametrize(
    ("mission_goal", "advice", "leak"),
    [
        ("Build a Go service that stores receipts", "Install the client with npm.", "npm"),
        ("Create a Python library for retries", "Release it with cargo publish.", "cargo publish"),
        ("Build a TypeScript SDK for the API", "Test it with JUnit.", "JUnit"),
        ("Write embedded C firmware for a scale", "Add a Gemfile for the tools.", "Gemfile"),
    ],
)
def test_advice_for_another_language_leaks(mission_goal: str, advice: str, leak: str) -> None:
    leaks = stack_leaks(plan(advice), goal(mission_goal))
    assert leaks and all(entry.startswith(f"{leak} (") for entry in leaks)


def test_a_mission_without_a_language_may_pick_one_but_not_two() -> None:
    mission = goal("Build a URL shortener with click analytics")
    chosen = plan(
        "Serve it with Django.", "Test it with pytest.", "Describe models in app/models.py."
    )
    assert stack_leaks(chosen, mission) == []
    mixed = plan("Serve it with Django.", "Test it with pytest.", "Bundle the assets with npm.")
    assert stack_leaks(mixed, mission) == [
        "npm (JavaScript/TypeScript) in tasks[t2].title",
        "npm (JavaScript/TypeScript) in tasks[t2].description",
        "npm (JavaScript/TypeScript) in tasks[t2].acceptance[0]",
    ]


def test_the_repository_context_names_the_ecosystem() -> None:
    mission = goal("Add audit logging", repo_context="Next.js app with Prisma and Vitest")
    draft = plan("Log every admin action.", artifacts=[["tests/e2e/test_audit.py"]])
    assert stack_leaks(draft, mission) == [
        "tests/e2e/test_audit.py (Python) in tasks[t0].expected_artifacts[0]"
    ]


def test_decision_alternatives_are_roads_not_taken() -> None:
    draft = plan("Write the sync in Rust.", alternatives=["Python with boto3", "Go"])
    assert stack_leaks(draft, goal(RUST_SYNC)) == []


def test_react_native_allows_the_native_build_tools() -> None:
    draft = plan("Build iOS with Xcode.", "Build Android with Gradle.", "Share code in TypeScript.")
    assert stack_leaks(draft, goal("Build a React Native app for a gym")) == []


def test_other_platforms_leak_from_a_platform_app_only() -> None:
    phones = plan("Sync works with the listed iOS and Android phones.", "Ship on the App Store.")
    android = stack_leaks(phones, goal("Build a Kotlin Android app for dog walkers"))
    assert "iOS (Swift/Apple) in requirements[R1]" in android
    assert "App Store (Swift/Apple) in tasks[t1].title" in android
    assert not any("Android" in leak for leak in android)
    firmware = goal("Write embedded C firmware for a temperature logger")
    assert stack_leaks(phones, firmware) == []


def test_ordinary_words_and_browser_javascript_are_not_ecosystems() -> None:
    draft = plan(
        "Track cargo shipments; do not reinvent the wheel.",
        "Go live after the Go/no-go review; the gem of the release is speed.",
        "Pages work without JavaScript.",
        "Binaries for Linux, macOS and Windows.",
    )
    assert stack_leaks(draft, goal("Build a Django shipping tracker")) == []


def test_an_ecosystem_that_allows_an_unknown_one_is_refused() -> None:
    bad = {"ecosystems": {"python": {"label": "Python", "markers": ["pip"], "allows": ["cobol"]}}}
    with pytest.raises(ValidationError, match="unknown"):
        EcosystemTable.model_validate(bad)


# --- duplicates --------------------------------------------------------------------------------


def test_duplicate_artifacts_ignore_case_extension_and_separators() -> None:
    draft = plan(
        "a",
        "b",
        "c",
        artifacts=[
            ["runbook.md", "release-notes.md", "tests/e2e/"],
            ["Runbook.MD", "release notes"],
            ["tests/e2e", "data-model.md"],
        ],
    )
    assert duplicate_artifacts(draft) == ["runbook.md", "release-notes.md", "tests/e2e/"]


def test_distinct_artifacts_are_not_duplicates() -> None:
    draft = plan(
        artifacts=[["data-model.md"], ["data-model-v2.md"], ["module: search"], ["search"]]
    )
    assert duplicate_artifacts(draft) == []


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Offline sync conflicts", "Sync conflicts after offline use"),
        ("Missed notifications", "Notifications missed"),
        ("Scope creep", "Scope creep from stakeholders"),
        ("Data loss", "DATA LOSS"),
    ],
)
def test_risks_that_say_the_same_thing_are_near_duplicates(first: str, second: str) -> None:
    assert near_duplicate_risks(plan(risks=[first, "Cost overrun", second])) == [(first, second)]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Vendor API rate limits", "Vendor API changes"),
        ("Push notifications not delivered", "Push notification fatigue"),
        ("Data loss or corruption", "Data loss during cutover"),
        ("Security", "Security of payment data"),
    ],
)
def test_risks_about_different_things_are_not(first: str, second: str) -> None:
    assert near_duplicate_risks(plan(risks=[first, second])) == []


def test_template_requirements_are_compared_by_their_subject() -> None:
    tail = ": available end to end in the URL shortener (UI, API and storage), with tests."
    labels = ["Constraint: Must be written in Go", "Constraint: No external database"]
    assert near_duplicates([f"Click analytics{tail}", f"Custom aliases{tail}", *labels]) == []
    overlapping = ["Audit logging: enforced on the API.", "Admin actions are audit-logged."]
    assert near_duplicates(overlapping) == [tuple(overlapping)]


# --- grammar -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slip"),
    [
        ("Create a API for it.", "“a API”"),
        ("Invite an user to the team.", "“an user”"),
        ("Copy it to a S3 bucket.", "“a S3”"),
        ("Use an REST API.", "“an REST”"),
        ("An dashboard shows it.", "“An dashboard”"),
        ("Build the the app.", "“the the”"),
        ("The the app is ready.", "“The the”"),
        ("Write a tests for it.", "“a tests”"),
        ("The plan is ready. then ship it.", "sentence starts in lower case"),
        ("Ship it (after review.", "“(” never closed"),
        ("Ship it) now.", "“)” closes nothing"),
        ("Run `make test to check.", "odd number of `"),
        ("Call it “done.", "never closed in “Call"),
        ("Review the a plan.", "“the a”: article before an article"),
        ("Build the core of the app.", "empty template phrase"),
        ("The core of the app: done.", "empty template phrase"),
        ("Ship {feature} first.", "unfilled placeholder"),
        ("Deploy it to the.", "article with nothing after it"),
        ("Deploy it to production .", "gap before punctuation"),
    ],
)
def test_each_grammar_rule_catches_its_slip(text: str, slip: str) -> None:
    slips = grammar_slips(text)
    assert len(slips) == 1 and slip in slips[0], slips


@pytest.mark.parametrize(
    "text",
    [
        "Open an hour-long window for a user, with a one-time code and a unique link.",
        "Store it in an S3 bucket behind an HTTP API, an SLA and an MVP.",
        "Send a URL, a JSON file, a UI, a YAML file and a REST call.",
        "Ship an iOS app on an nRF52 board with an RTOS and an LLM.",
        "Publish it as an npm package.",
        "Run a SQL query; run an SQL query.",
        "Plan an 8-hour window, an 11-node cluster and a 2 TB copy.",
        "Add a users table and a settings page.",
        "Keep it simple, e.g. the cache. Then ship.",
        "`npm test` passes. iOS builds pass. pytest runs in CI.",
        "Use an `llm:writer` step and a `[` in code.",
        "Plan A or B, that that is fine.",
        "Serve GET /missions/{id} and src/<package>/cli.py.",
        "A user story exists for each feature.",
        "The core of the tool is usable without the CLI.",
    ],
)
def test_correct_english_has_no_slips(text: str) -> None:
    assert grammar_slips(text) == []


def test_names_may_start_in_lower_case() -> None:
    assert grammar_slips("boto3 (Python)", sentence=False) == []
    assert grammar_slips("server-rendered HTML", sentence=False) == []
    assert grammar_slips("server-rendered HTML") != []


def test_abbreviations_do_not_end_sentences() -> None:
    assert sentences("Use a queue, e.g. Redis. Then scale it.") == [
        "Use a queue, e.g. Redis.",
        "Then scale it.",
    ]


def test_plan_grammar_slips_name_the_place_and_skip_artifact_names() -> None:
    draft = plan("Build the the app.", artifacts=[["an user guide.md"]])
    assert plan_grammar_slips(draft) == [
        "requirements[R1]: “the the”: doubled word",
        "tasks[t0].title: “the the”: doubled word",
        "tasks[t0].description: “the the”: doubled word",
        "tasks[t0].acceptance[0]: “the the”: doubled word",
    ]


# --- the verdict -------------------------------------------------------------------------------


def test_a_clean_plan_has_full_coverage_and_no_findings() -> None:
    draft = plan(
        "Model the bakery inventory in Django.",
        "Record supplier orders with pytest tests.",
        "Send expiry alerts every morning.",
        "Deploy the app with a rollback.",
        artifacts=[["data-model.md"], ["orders.py"], ["alerts.md"], ["runbook.md"]],
        risks=["Stale stock counts", "Missed supplier deliveries"],
    )
    quality = judge(draft, goal(BAKERY))
    assert quality.nouns == ("inventory", "bakery", "supplier", "order", "expiry", "alert")
    assert quality.noun_coverage == 1.0
    assert quality.missing_nouns == ()
    assert quality.leaks == ()
    assert quality.duplicate_artifacts == ()
    assert quality.near_duplicate_risks == ()
    assert quality.near_duplicate_requirements == ()
    assert quality.grammar_slips == ()


def test_a_sloppy_plan_is_caught_by_every_check() -> None:
    draft = plan(
        "Build the core of the bakery inventory.",
        "Package it with cargo build.",
        "Add a order screen with npm.",
        artifacts=[["runbook.md"], ["Runbook"], [], []],
        risks=["Offline sync conflicts", "Sync conflicts after offline use"],
    )
    quality = judge(draft, goal(BAKERY + " in Python"))
    assert quality.missing_nouns == ("supplier", "expiry", "alert", "python")
    assert any(leak.startswith("cargo build (Rust)") for leak in quality.leaks)
    assert any(leak.startswith("npm (JavaScript/TypeScript)") for leak in quality.leaks)
    assert quality.duplicate_artifacts == ("runbook.md",)
    assert quality.near_duplicate_risks == (
        ("Offline sync conflicts", "Sync conflicts after offline use"),
    )
    assert any("empty template phrase" in slip for slip in quality.grammar_slips)
    assert any("“a order”" in slip for slip in quality.grammar_slips)
