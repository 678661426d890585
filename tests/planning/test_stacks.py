"""A plan speaks of the stack its mission names: its tools, layout and packaging, no other's.

The yardstick is the plan-quality oracle (``tests/planning/quality.py``): a phrase of another
language's ecosystem in a plan's advice is a leak. Each stack's plan must also name that
stack's own test tool and where its files go, and a plan for a mission that names no stack
says which one it chose and why.
"""

import re
from importlib.resources import files
from pathlib import Path

import pytest
from bench.plan_quality import all_missions

from missionctl.domain.english import join_words, with_article
from missionctl.planning.base import PlanningInput
from missionctl.planning.kinds import KINDS, STACKS, load_kinds
from missionctl.planning.kinds.stacks import STACK_PLACEHOLDERS, load_stacks
from missionctl.planning.local import build_local_plan, detect_technologies
from missionctl.planning.signals import TECHNOLOGIES
from missionctl.planning.stack_choice import choose_stack
from missionctl.schemas.datafiles import DataFileError
from missionctl.schemas.plans import PlanDraft
from tests.planning.helpers import mission
from tests.planning.quality import stack_leaks

# goal → words the plan must contain: the stack's test tool, its layout, its packaging.
STACK_GOALS: dict[str, tuple[str, ...]] = {
    "Create a Rust command-line tool that syncs two S3 buckets incrementally": (
        "cargo test",
        "src/main.rs",
        "Cargo.toml",
        "crates.io",
        "tests/s3_bucket_sync.rs",
    ),
    "Build a Go service that receives Stripe webhooks and exposes a payment reconciliation API": (
        "go test",
        "internal/",
    ),
    "Write a TypeScript library that parses and validates ISO 8601 durations": (
        "Vitest",
        "fast-check",
        "src/index.ts",
        ".test.ts",
        "on npm",
    ),
    "Build a Kotlin Android app for dog walkers: route tracking and client invoices": (
        "Espresso",
        "Jetpack Compose",
        "Gradle",
        "Google Play",
    ),
    "Build a Swift iOS app that reminds a household to water its plants, with widgets": (
        "XCUITest",
        "SwiftUI",
        "Xcode",
        "TestFlight",
        "the App Store",
    ),
    "Build a C# REST API for a veterinary clinic with appointments and invoices": (
        "xUnit",
        "tests/<Project>.Tests/",
        "ASP.NET Core",
        "Entity Framework Core",
    ),
    "Build a Java Spring Boot REST API for a public library: loans, holds and overdue fines": (
        "JUnit 5",
        "src/test/java/<package>/",
        "Spring Data JPA",
        "Maven",
    ),
    "Build a Laravel web app for a car rental company with bookings and damage reports": (
        "PHPUnit",
        "Laravel Dusk",
        "Eloquent",
        "Composer",
    ),
    "Build a Next.js web app for a book club with reading lists and meeting polls": (
        "Vitest",
        "Playwright",
        "Prisma",
        ".test.ts",
    ),
}

PYTHON_WORDS = re.compile(r"\bpytest\b|\bwheels?\b|\bPyPI\b|\.py\b|\bpip\b|pyproject")


def everything(draft: PlanDraft) -> str:
    """Every text of a plan, as written."""
    parts = [draft.summary, *(r.text for r in draft.requirements)]
    for task in draft.tasks:
        parts += [task.title, task.description, *task.acceptance, *task.expected_artifacts]
    for risk in draft.risks:
        parts += [risk.title, risk.description, risk.mitigation]
    for decision in draft.decisions:
        parts += [decision.title, decision.choice, *decision.reasons, *decision.trade_offs]
    parts += [step.text for step in draft.next_steps]
    return "\n".join(parts)


@pytest.mark.parametrize("goal", list(STACK_GOALS))
def test_a_named_stack_gets_its_own_tools_and_no_others(goal: str) -> None:
    draft = build_local_plan(mission(goal))
    assert stack_leaks(draft, mission(goal)) == []
    text = everything(draft)
    for words in STACK_GOALS[goal]:
        assert words in text, f"{words!r} missing from the plan for {goal!r}"
    assert PYTHON_WORDS.search(text) is None


def test_a_rust_tool_speaks_of_cargo_crates_and_its_entry_point() -> None:
    goal = next(iter(STACK_GOALS))
    draft = build_local_plan(mission(goal))
    scaffold = next(t for t in draft.tasks if t.key == "scaffold")
    assert "Cargo.toml" in scaffold.expected_artifacts
    assert "src/main.rs" in scaffold.description and "clippy" in scaffold.description
    assert any("crates" in risk.mitigation for risk in draft.risks)
    assert any(step.text == "Reserve the crate name on crates.io." for step in draft.next_steps)
    assert "Suggested project shape: src/main.rs, src/core/, tests/fixtures/" in draft.summary


def test_a_platform_named_alone_gets_its_native_toolkit_and_store_only() -> None:
    draft = build_local_plan(mission("Build an Android app for a bakery with preorders"))
    text = everything(draft)
    assert "Jetpack Compose" in text and "Google Play" in text
    assert not re.search(r"React Native|\biOS\b|App Store|TestFlight|APNs", text)
    framework = next(d for d in draft.decisions if d.title == "Mobile framework")
    assert framework.reasons[0].startswith("Jetpack Compose is the native toolkit for Android")


def test_a_cross_platform_app_ships_to_both_stores() -> None:
    draft = build_local_plan(mission("Build a Flutter app for a farmers' market with preorders"))
    release = next(t for t in draft.tasks if t.key == "store-release")
    assert "TestFlight and a Google Play testing track" in release.description
    assert "the App Store and Google Play" in " ".join(release.acceptance)
    assert stack_leaks(draft, mission("Build a Flutter app for a farmers' market")) == []


# -- a mission that names no stack --


def test_a_mission_without_a_stack_states_the_stack_it_chose_and_why() -> None:
    draft = build_local_plan(mission("Build a URL shortener with click analytics"))
    stack = next(d for d in draft.decisions if d.title == "Language and tooling")
    assert stack.choice == "Python, built with uv, tested with pytest, checked with ruff and mypy."
    assert stack.reasons[-1].startswith("Planner default for a web application;")
    assert "Python" not in stack.alternatives
    assert "Stack: planner defaults: Python," in draft.summary


def test_a_defaulted_choice_is_not_among_its_own_alternatives() -> None:
    draft = build_local_plan(mission("Build an internal tool that tracks vendor contracts"))
    stack = next(d for d in draft.decisions if d.title == "Stack")
    assert stack.choice == "Django with PostgreSQL."
    assert stack.alternatives == ["Rails", "Next.js + Prisma"]


def test_a_named_choice_is_not_among_its_alternatives_under_another_spelling() -> None:
    named = build_local_plan(mission("Build an internal tool on Ruby on Rails 7 for contracts"))
    stack = next(d for d in named.decisions if d.title == "Stack")
    assert stack.choice.startswith("Ruby on Rails 7")
    assert stack.alternatives == ["Django", "Next.js + Prisma"]


def test_an_implied_language_says_where_it_comes_from() -> None:
    draft = build_local_plan(mission("Build a Next.js web app for a book club"))
    stack = next(d for d in draft.decisions if d.title == "Language and tooling")
    assert stack.reasons[0] == "TypeScript comes with Next.js, named in the mission"


# -- every goal --

ALL_MISSIONS = all_missions()


@pytest.mark.parametrize("planning_input", ALL_MISSIONS, ids=lambda m: m.goal[:40])
def test_no_plan_of_the_fixture_and_benchmark_goals_leaks(planning_input: PlanningInput) -> None:
    assert stack_leaks(build_local_plan(planning_input), planning_input) == []


@pytest.mark.parametrize("planning_input", ALL_MISSIONS, ids=lambda m: m.goal[:40])
def test_no_decision_lists_its_own_choice_among_its_alternatives(
    planning_input: PlanningInput,
) -> None:
    for decision in build_local_plan(planning_input).decisions:
        chosen = technologies(decision.choice)
        for alternative in decision.alternatives:
            assert not chosen & technologies(alternative), (decision.choice, alternative)


def technologies(text: str) -> set[str]:
    """The technologies ``text`` names, without their versions."""
    return {re.sub(r" v?\d[\w.]*$", "", name) for name in detect_technologies(text)}


# -- the data --


def test_every_language_the_planner_recognises_has_a_profile() -> None:
    languages = {tech.name for tech in TECHNOLOGIES if tech.category == "language"}
    assert languages == set(STACKS.profiles)


def test_every_framework_and_toolkit_the_planner_recognises_is_described() -> None:
    frameworks = {tech.name for tech in TECHNOLOGIES if tech.category == "web_framework"}
    assert frameworks <= set(STACKS.frameworks)
    toolkits = {tech.name for tech in TECHNOLOGIES if tech.category == "mobile"}
    assert toolkits <= set(STACKS.mobile_frameworks)


@pytest.mark.parametrize("language", list(STACKS.profiles))
def test_every_profile_fills_every_stack_placeholder(language: str) -> None:
    kind = KINDS[0]
    slots = {"language": language, "web_framework": "FastAPI", "mobile": "React Native"}
    choice = choose_stack(
        kind, slots, named={"language": language}, implied={}, technologies=[], text=""
    )
    assert set(choice.values) == STACK_PLACEHOLDERS
    assert all(choice.values.values())
    files = choice.feature_files("sync-two-buckets")
    assert {"test_file", "e2e_test_file", "contract_test_file", "source_file"} == set(files)
    assert all("sync" in name.lower() and "{" not in name for name in files.values())


# -- a broken data file is refused by name --

STACK_FILE = files("missionctl.planning.kinds.stacks") / "stacks.yaml"


def refusal_of(tmp_path: Path, old: str, new: str) -> str:
    text = STACK_FILE.read_text(encoding="utf-8")
    assert old in text, old
    (tmp_path / "stacks.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_stacks(tmp_path)
    return str(caught.value)


def test_the_packaged_stacks_load() -> None:
    assert load_stacks(files("missionctl.planning.kinds.stacks")) == STACKS


def test_a_file_name_pattern_may_only_name_the_feature(tmp_path: Path) -> None:
    message = refusal_of(tmp_path, "test_name: '{slug_}.rs'", "test_name: '{name}.rs'")
    assert "stacks.yaml: profiles.Rust.test_name: unknown fields ['name']" in message


def test_a_directory_ends_with_a_slash(tmp_path: Path) -> None:
    message = refusal_of(tmp_path, "test_dir: spec/", "test_dir: spec")
    assert "profiles.Ruby.test_dir" in message and "should match pattern" in message


def test_a_profile_names_only_frameworks_the_file_describes(tmp_path: Path) -> None:
    message = refusal_of(tmp_path, "web_framework: Axum", "web_framework: Rocket")
    assert "profiles.Rust.web_framework: 'Rocket' is not under frameworks" in message


def test_a_sentence_field_starts_with_a_capital(tmp_path: Path) -> None:
    old = "name_step: Reserve the crate name on crates.io"
    message = refusal_of(tmp_path, old, "name_step: reserve the crate name on crates.io.")
    assert "profiles.Rust.name_step: start with a capital letter" in message


def test_a_feature_file_is_named_in_feature_templates_only(tmp_path: Path) -> None:
    for entry in files("missionctl.planning.kinds").iterdir():
        if entry.name.endswith(".yaml"):
            (tmp_path / entry.name).write_text(entry.read_text(encoding="utf-8"), "utf-8")
    kind_file = tmp_path / "cli_tool.yaml"
    text = kind_file.read_text(encoding="utf-8")
    kind_file.write_text(text.replace("  - bench/\n", "  - '{test_file}'\n", 1), "utf-8")
    with pytest.raises(DataFileError) as caught:
        load_kinds(tmp_path)
    assert "cli_tool.yaml: project_shape.3: test_file names a feature's file" in str(caught.value)


def test_every_package_artifact_gets_its_article() -> None:
    articles = {
        language: with_article(profile.package_artifact)
        for language, profile in STACKS.profiles.items()
    }
    assert articles["TypeScript"] == "an npm package"
    assert articles["Rust"] == "a crate"
    assert articles["Go"] == "a Go module"
    assert articles["Java"] == "a JAR"
    assert articles["C#"] == "a NuGet package"
    assert join_words(["ruff", "mypy", "pytest"]) == "ruff, mypy and pytest"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Build a Go service that receives Stripe webhooks", ["Go", "Stripe"]),
        ("Write a Go command-line tool that checks links", ["Go"]),
        ("Must be written in Go", ["Go"]),
        ("Go live next week, then go build a tool", []),
        ("A go-to-market tool", []),
    ],
)
def test_go_is_the_language_before_a_kind_of_program_not_the_verb(
    text: str, found: list[str]
) -> None:
    assert detect_technologies(text) == found


def test_a_command_line_tool_keeps_its_code_in_its_library() -> None:
    draft = build_local_plan(mission("Write a Ruby command-line tool that renames photos"))
    feature = next(t for t in draft.tasks if t.key.startswith("rename"))
    assert feature.expected_artifacts == [
        "lib/<gem>/renames_photos.rb",
        "spec/renames_photos_spec.rb",
    ]


@pytest.mark.parametrize(
    "goal",
    [
        "Build a mobile app for a climbing gym, with the backend written in Go",
        "A mobile app for a ferry company's tickets, on our Ruby on Rails backend",
        "Build a mobile app for a bakery's preorders with a Laravel API",
        "Build a Rust mobile app for hikers with offline trail maps",
        "A mobile app in Elixir for a choir's rehearsal schedule",
    ],
)
def test_a_mobile_client_follows_a_language_without_a_mobile_toolkit(goal: str) -> None:
    draft = build_local_plan(mission(goal))
    assert stack_leaks(draft, mission(goal)) == []
    framework = next(d for d in draft.decisions if d.title == "Mobile framework")
    assert "native iOS and Android toolkits" in framework.choice
    assert "has no mobile toolkit of its own" in framework.reasons[0]


def test_every_profile_names_the_mobile_client_it_plans() -> None:
    for language, profile in STACKS.profiles.items():
        assert profile.mobile in STACKS.mobile_frameworks, language
