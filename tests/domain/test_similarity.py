"""Near-duplicate texts: what a plan must not list twice."""

import pytest

from missionctl.domain.similarity import content_words, near_duplicates


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Offline sync conflicts", "Sync conflicts after offline use"),
        ("Vulnerable dependencies", "Vulnerable third-party dependencies"),
        ("Data loss during the migration", "Data loss in migration"),
        ("Drift monitoring: in place", "Drift monitoring: reproducible and monitored"),
        ("Drift monitoring: in place for the model", "Input drift is monitored with alerts"),
    ],
)
def test_texts_that_say_the_same_thing(first: str, second: str) -> None:
    assert near_duplicates(first, second)
    assert near_duplicates(second, first)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Broken authorisation", "Broken input validation"),
        ("Offline sync conflicts", "Push notification fatigue"),
        ("Click analytics: delivered", "Custom aliases: delivered"),
        ("Secrets in logs", "Secrets on the device"),
    ],
)
def test_texts_that_differ(first: str, second: str) -> None:
    assert not near_duplicates(first, second)


def test_words_are_folded_and_function_words_dropped() -> None:
    assert content_words("The conflicts of the policies") == {"conflict", "policy"}
