"""The plan-fidelity checkers can fail: each finds a planted case and passes a clean one."""

from collections.abc import Sequence

from missionctl.schemas.plans import PlanDecision, PlanDraft, PlanRequirement, PlanTask
from tests.planning.fidelity import (
    clause_coverage,
    clauses,
    figure_misses,
    figures,
    judge_fidelity,
    phrase_made_names,
    repeated_templates,
    stack_contradictions,
)
from tests.planning.helpers import mission

FILLER = ("review", "docs", "release")


def plan(
    requirements: Sequence[str],
    *,
    key: str = "core",
    artifacts: Sequence[str] = (),
    description: str = "Implement the core.",
    acceptance: Sequence[str] = ("It works.",),
    choices: Sequence[str] = (),
) -> PlanDraft:
    """A valid plan: ``requirements``, one task ``key`` with the given texts, three fillers."""
    tasks = [
        PlanTask(
            key=key,
            title="Core",
            description=description,
            role="backend",
            expected_artifacts=list(artifacts),
            acceptance=list(acceptance),
            estimate_tokens=1000,
        ),
        *(
            PlanTask(
                key=name,
                title=name.title(),
                description=f"Do the {name}.",
                role="docs",
                acceptance=[f"The {name} is done."],
                estimate_tokens=1000,
            )
            for name in FILLER
        ),
    ]
    return PlanDraft(
        summary="A plan.",
        requirements=[PlanRequirement(key=f"R{i}", text=t) for i, t in enumerate(requirements, 1)],
        tasks=tasks,
        decisions=[PlanDecision(title="Stack", choice=c, reasons=["Asked."]) for c in choices],
    )


CHESS = mission("Build a chess engine in C++ that plays at 2000 Elo", "p99 move time under 200 ms")


def test_clauses_cut_at_connectors_and_named_languages() -> None:
    assert clauses("Build a chess engine in C++ that plays at 2000 Elo, with UCI and logs") == [
        "Build a chess engine",
        "in C++",
        "that plays",
        "at 2000 Elo",
        "with UCI",
        "logs",
    ]
    assert clauses("Pay 40,000 employees") == ["Pay 40,000 employees"]


def test_clause_coverage_finds_a_dropped_clause() -> None:
    clean = plan(["A chess engine in C++ that plays at 2000 Elo.", "p99 move time under 200 ms."])
    planted = plan(["A chess engine in C++ that plays well.", "Fast moves."])

    assert clause_coverage(clean, CHESS)[1] == []
    counted, dropped = clause_coverage(planted, CHESS)
    assert dropped == ["at 2000 Elo", "p99 move time under 200 ms"]
    assert len(counted) == 5  # "Build a chess engine", "in C++", "that plays", …


def test_figures_are_numbers_with_units_percentiles_and_names() -> None:
    text = "p99 under 200 ms for 18 months at 2000 Elo, HIPAA, SOC 2 and PCI DSS over a REST API"

    assert figures(text) == ["p99", "200 ms", "18 months", "2000 Elo", "HIPAA", "SOC 2", "PCI DSS"]


def test_figure_misses_finds_a_figure_not_repeated_verbatim() -> None:
    clean = plan(["Plays at 2000 Elo.", "Moves in 200ms at p99."])
    planted = plan(["Plays at a strong club level.", "Moves fast at p99."])

    assert figure_misses(clean, CHESS) == (["2000 Elo", "p99", "200 ms"], [])
    assert figure_misses(planted, CHESS)[1] == ["2000 Elo", "200 ms"]


def test_stack_contradictions_find_another_languages_files_and_tools() -> None:
    kotlin = mission("Build a Kotlin Android app for dog walkers")
    clean = plan(
        ["Dog walkers."],
        artifacts=["app/src/main/kotlin/Walks.kt", "build.gradle.kts"],
        description="Run `./gradlew test` in CI.",
    )
    planted = plan(["Dog walkers."], artifacts=["app/walks.py"], description="Test with pytest.")

    assert stack_contradictions(clean, kotlin) == []
    assert stack_contradictions(planted, kotlin) == [
        "app/walks.py (python) in tasks[core].expected_artifacts[0]",
        "pytest (python) in tasks[core].description",
    ]
    assert stack_contradictions(planted, mission("Build an app for dog walkers")) == []


def test_stack_contradictions_find_another_hosted_service() -> None:
    firebase = mission("Build a Flutter app on Firebase for a language school")
    clean = plan(["Lessons."], choices=["Firestore collections for lessons"])
    planted = plan(["Lessons."], choices=["PostgreSQL with a migrations folder"])

    assert stack_contradictions(clean, firebase) == []
    assert stack_contradictions(planted, firebase) == [
        "PostgreSQL (database, not Firebase) in decisions[0].choice"
    ]


def test_a_store_on_the_device_contradicts_no_server_database() -> None:
    app = mission("Add offline mode to our booking app; the API is a Node.js service on PostgreSQL")
    device = plan(["Offline mode."], choices=["SQLite on the device with a sync queue"])
    server = plan(["Offline mode."], choices=["SQLite as the API's database"])

    assert stack_contradictions(device, app) == []
    assert stack_contradictions(server, app) == [
        "SQLite (database, not PostgreSQL) in decisions[0].choice"
    ]


def test_repeated_templates_finds_one_sentence_filled_three_times() -> None:
    shop = mission("Build a web shop with gift cards, wish lists and order tracking")
    template = "{}: available end to end in the web shop with tests and docs."
    planted = plan([template.format(f) for f in ("Gift cards", "Wish lists", "Order tracking")])
    clean = plan(
        [
            "Gift cards can be bought, redeemed and refunded.",
            "Each customer keeps wish lists that others can view by link.",
            "Order tracking shows every parcel's carrier status.",
        ]
    )

    assert repeated_templates(clean, shop) == []
    assert repeated_templates(planted, shop) == [
        ("…: available end to end in the … with tests and docs.", 3)
    ]


def test_phrase_made_names_finds_names_glued_from_the_goal() -> None:
    sync = mission("Create a Rust command-line tool that syncs two S3 buckets incrementally")
    planted = plan(
        ["Sync."],
        key="sync-two-s3-buckets-incrementally",
        artifacts=["src/syncTwoS3BucketsIncrementally.rs"],
        description="Tests live in tests/sync_two_s3_buckets_incrementally.rs.",
    )
    clean = plan(["Sync."], key="sync", artifacts=["src/sync.rs", "src/s3_bucket.rs"])

    assert phrase_made_names(clean, sync) == []
    assert phrase_made_names(planted, sync) == [
        "sync-two-s3-buckets-incrementally in tasks[sync-two-s3-buckets-incrementally].key",
        "src/syncTwoS3BucketsIncrementally.rs in "
        "tasks[sync-two-s3-buckets-incrementally].expected_artifacts[0]",
        "tests/sync_two_s3_buckets_incrementally.rs in "
        "tasks[sync-two-s3-buckets-incrementally].description",
    ]


def test_judge_fidelity_gathers_every_checker() -> None:
    verdict = judge_fidelity(plan(["A chess engine in C++ that plays well."]), CHESS)

    assert verdict.named_ecosystems == ("c-cpp",)
    assert "at 2000 Elo" in verdict.dropped_clauses
    assert verdict.missed_figures == ("2000 Elo", "p99", "200 ms")
    assert verdict.contradictions == verdict.repeated_templates == verdict.phrase_made_names == ()
