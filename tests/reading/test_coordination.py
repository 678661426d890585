"""Two things added to an existing system are two features of a change to that system."""

import pytest

from missionctl.reading import read_goal


@pytest.mark.parametrize(
    ("goal", "host", "features"),
    [
        (
            "Add two-factor sign-in and an audit log export to our invoicing portal",
            "invoicing portal",
            ["two-factor sign-in", "audit log export"],
        ),
        (
            "Add a CSV import and the usage report to our existing Rails booking app",
            "existing Rails booking app",
            ["CSV import", "usage report"],
        ),
    ],
)
def test_two_things_added_to_a_system_are_two_features_of_a_change_to_it(
    goal: str, host: str, features: list[str]
) -> None:
    reading = read_goal(goal=goal)
    assert [f.text for f in reading.features] == features
    assert reading.host == host and reading.subject_phrase == host
    assert reading.brownfield


def test_a_coordination_without_an_article_stays_one_feature() -> None:
    reading = read_goal(goal="Add search and filter to our product catalogue")
    assert reading.subject_phrase == "search and filter"
    assert reading.features == ()
