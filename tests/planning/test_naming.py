"""A feature task is named after its feature's head noun, in the stack's convention.

The local planner names each feature task, and the files named after it, with the short name
of the feature (:func:`missionctl.planning.naming.short_name`): its head noun with at most two
more words, never the user's whole phrase. The goals here are this file's own (no goal file
holds them), in six stacks; the plans are made through the service and read back as stored.
"""

from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missionctl.planning import LocalPlanner
from missionctl.planning.base import PlanningInput
from missionctl.planning.local import build_local_plan
from missionctl.planning.naming import FALLBACK_NAME, MAX_NAME_CHARS, load_words, short_name
from missionctl.schemas.datafiles import DataFileError
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission, read_plan
from tests.planning.fidelity import phrase_made_names
from tests.planning.quality_text import words

ACTOR = "user:test"

# goal → its feature tasks, each with its expected artifacts, as the stored plan holds them.
STACK_GOALS: dict[str, dict[str, list[str]]] = {
    # Rust, a command-line tool: the profile's snake_case source and test files.
    "Create a Rust command-line tool that compresses old build artifacts nightly and uploads "
    "them to S3": {
        "build-artifact-compression": [
            "src/build_artifact_compression.rs",
            "tests/build_artifact_compression.rs",
        ],
        "s3-upload": ["src/s3_upload.rs", "tests/s3_upload.rs"],
    },
    # Kotlin, a service: the contract tests in PascalCase.
    "Build a Kotlin service that records beehive inspections and tracks honey harvests every "
    "season": {
        "beehive-inspections": [
            "endpoints + migrations: beehive-inspections",
            "src/test/kotlin/<package>/contract/BeehiveInspectionsTest.kt",
        ],
        "honey-harvest-tracking": [
            "endpoints + migrations: honey-harvest-tracking",
            "src/test/kotlin/<package>/contract/HoneyHarvestTrackingTest.kt",
        ],
    },
    # Go, a service: the figure and its cadence are no part of the name.
    "Build a Go service that ingests weather station readings from 500 greenhouses every minute": {
        "station-reading-ingestion": [
            "endpoints + migrations: station-reading-ingestion",
            "internal/contract/station_reading_ingestion_test.go",
        ],
    },
    # C firmware: the radio and the schedule are no part of the name; files in C's layout.
    "Write embedded C firmware for a beehive scale that reports hive weight over NB-IoT twice "
    "a day": {
        "hive-weight-reports": [
            "src/hive_weight_reports.c",
            "tests/test_hive_weight_reports.c",
            "HIL test: hive-weight-reports",
        ],
    },
    # SQL models of a data pipeline: the source and the warehouse are no part of the names.
    "Create a nightly data pipeline that loads ticket sales from Eventbrite into Snowflake and "
    "builds weekly attendance reports per venue": {
        "ticket-sales": ["models/ticket_sales.sql", "tests: ticket-sales"],
        "attendance-reports": ["models/attendance_reports.sql", "tests: attendance-reports"],
    },
    # Swift, a library: the profile's PascalCase source and test files.
    "Write a Swift library that converts recipe quantities to metric units": {
        "recipe-quantity-conversion": [
            "Sources/<Target>/RecipeQuantityConversion.swift",
            "Tests/<Target>Tests/RecipeQuantityConversionTests.swift",
        ],
    },
}


@pytest.mark.parametrize("goal", list(STACK_GOALS))
async def test_the_stored_plan_names_feature_tasks_and_files_after_the_head_noun(
    ctx: ServiceContext, goal: str
) -> None:
    mission = await create_mission(ctx, data=MissionCreate(goal=goal), actor=ACTOR)
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    plan = await read_plan(ctx, mission_id=mission.id)
    artifacts = {task.key: task.expected_artifacts for task in plan.tasks}
    for key, expected in STACK_GOALS[goal].items():
        assert artifacts.get(key) == expected, f"{key} in {sorted(artifacts)}"
    assert phrase_made_names(plan, PlanningInput(title=mission.title, goal=goal)) == []


def test_two_features_with_one_name_get_distinct_keys_and_files() -> None:
    goal = "Create a data pipeline that builds hourly footfall counts and daily footfall counts"
    plan = build_local_plan(PlanningInput(title="Footfall", goal=goal))
    artifacts = {task.key: task.expected_artifacts for task in plan.tasks}
    assert artifacts["footfall-counts"][0] == "models/footfall_counts.sql"
    assert artifacts["footfall-counts-2"][0] == "models/footfall_counts_2.sql"
    assert len(artifacts) == len(plan.tasks)


@pytest.mark.parametrize(
    ("clause", "action", "name"),
    [
        # A leading verb gives way to the noun of its work, after the head noun (singular).
        ("shows two FTP folders at once", False, "ftp-folders"),
        ("syncs three SFTP folders incrementally", False, "sftp-folder-sync"),
        ("converts scanned invoices to PDF/A", False, "scanned-invoice-conversion"),
        ("track daily water intake", True, "water-intake-tracking"),
        ("backs up and restores the Redis cache weekly", False, "redis-cache-backup"),
        ("uploads them to S3", False, "s3-upload"),
        # The people who do it are not the name: what they do it to is.
        ("members reserve beds by date", False, "bed-reservation"),
        ("hostel guests book rooms", False, "room-booking"),
        ("walkers log walks", False, "walk-log"),
        # The noun of the work counts in the span: "syncs sign-in sync" would run four words.
        ("syncs syncs sign-in", False, "sign-in-sync"),
        # Figures, units, number words, adverbs and vague modifiers name nothing.
        ("sends SMS reminders 24 hours before each visit", False, "sms-reminders"),
        ("2 TB of call recordings", False, "call-recordings"),
        ("merges several existing customer lists", False, "customer-list-merge"),
        # A possessive is a modifier; a phrase of only the software names nothing.
        ("the Rust daemon for a museum's visitor counters", False, "museum-visitor-counters"),
        ("the Kotlin app for a vet's vaccination records", False, "vet-vaccination-records"),
        # Nouns stay nouns; a hyphenated word counts each of its parts.
        ("reports", False, "reports"),
        ("seat maps", False, "seat-maps"),
        ("the production-ready fleet telemetry console", False, "fleet-telemetry-console"),
        ("three-factor sign-in", False, "three-factor-sign-in"),
        ("Café menus", False, "cafe-menus"),
        # Nothing to name it by.
        ("under 50 ms", False, FALLBACK_NAME),
        ("", False, FALLBACK_NAME),
    ],
)
def test_a_clause_is_named_by_its_head_noun(clause: str, action: bool, name: str) -> None:
    assert short_name(clause, action=action) == name


def span(name: str) -> int:
    """How many words of ``name`` the fidelity checkers could count as one run of the goal's."""
    stop = words().function_words
    parts = name.split("-")
    content = [i for i, part in enumerate(parts) if part not in stop]
    return content[-1] - content[0] + 1 if content else 0


POOL = (
    "syncs backs up and restores tracks the a of to for with every nightly incrementally "
    "two 500 ms GB S3 buckets Go service app tool library's per-site state-of-the-art "
    "orders invoices ISO 8601 durations sign-in customer vendor contracts renewal dates "
    "over BLE Café Ünïcødé C# Node.js 流水线 existing several reports"
)
"""The words a clause is drawn from: verbs, particles, figures, compounds, technologies."""


@given(st.lists(st.sampled_from(POOL.split()), max_size=14).map(" ".join), st.booleans())
def test_every_name_is_a_short_key_whatever_the_clause(clause: str, action: bool) -> None:
    name = short_name(clause, action=action)
    assert name[0].isalpha() and set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert len(name) <= MAX_NAME_CHARS and "--" not in name and not name.endswith("-")
    assert span(name) <= 3, (clause, name)


@given(st.text(max_size=300), st.booleans())
def test_any_text_gets_a_name(text: str, action: bool) -> None:
    name = short_name(text, action=action)
    assert name[0].isalpha() and len(name) <= MAX_NAME_CHARS and span(name) <= 3


def test_a_broken_word_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    shipped = (files("missionctl.planning") / "naming.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "naming.yaml"
    broken.write_text(shipped.replace("[again, always,", "[Again, always,", 1), encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_words(broken)
    assert "adverbs" in str(caught.value) and "naming.yaml" in str(caught.value)
    missing = tmp_path / "missing.yaml"
    missing.write_text(shipped.replace("software_words:", "other_words:", 1), encoding="utf-8")
    with pytest.raises(DataFileError, match="software_words: is required"):
        load_words(missing)
