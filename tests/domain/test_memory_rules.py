"""Mission memory's pure rules: lessons from runs, the words that look for similar missions."""

from missionctl.domain.memory import (
    MAX_LESSONS,
    MAX_QUERY_WORDS,
    RunFact,
    StepFact,
    is_similar,
    lessons,
    shared_words,
    significant_words,
    usd,
)


def test_a_failed_step_a_retried_step_and_the_cost_make_lessons_failures_first() -> None:
    runs = [
        RunFact(
            "failed",
            (
                StepFact("design", "succeeded", 1, 120_000),
                StepFact("tests", "succeeded", 3, 40_000),
                StepFact("deploy", "failed", 2, 5_000, error="connection refused by db:5432"),
            ),
            error="step deploy failed",
        )
    ]

    taught = lessons(outcome="failed", spent_micros=2_500_000, runs=runs)

    assert taught == [
        "A run ended failed: step deploy failed",
        "Step deploy failed after 2 attempts: connection refused by db:5432",
        "Step tests succeeded on attempt 3 (2 retries; it cost $0.04)",
        "The mission ended failed and cost $2.50 over 1 run; its dearest step was design ($0.12)",
    ]


def test_a_mission_that_never_ran_teaches_nothing_and_long_errors_are_cut() -> None:
    assert lessons(outcome="canceled", spent_micros=0, runs=[]) == []
    steps = tuple(StepFact(f"s{i}", "failed", 1, 0, error="x" * 1000) for i in range(20))
    taught = lessons(outcome="failed", spent_micros=0, runs=[RunFact("failed", steps)])
    assert len(taught) == MAX_LESSONS and all(len(t) < 260 for t in taught)


def test_planning_cost_alone_is_a_lesson() -> None:
    assert lessons(outcome="failed", spent_micros=1234, runs=[]) == [
        "The mission ended failed and cost $0.0012"
    ]
    assert usd(12_345_678) == "$12.35"


def test_significant_words_are_letters_and_digits_without_syntax_or_common_words() -> None:
    words = significant_words(['Build a web shop: "NEAR(cart*" AND {title} for OAuth2 the app'])
    assert words == ["web", "shop", "near", "cart", "title", "oauth2"]
    many = significant_words([" ".join(f"word{i}" for i in range(100))])
    assert len(many) == MAX_QUERY_WORDS


def test_similar_missions_share_two_content_words() -> None:
    new = "Build a web shop for ceramic mugs with a shopping cart"
    assert is_similar(new, "Tea web shop. Build a web shop for tea with a cart")
    assert not is_similar(new, "CSV converter. Convert CSV files to Parquet")
    assert "build" not in shared_words("build a shop", "build a shop")
