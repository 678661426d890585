"""The board's columns: every step status has exactly one, and no column claims more than its
steps did (ADR 0100)."""

from missionctl.domain.board import COLUMN_LABELS, COLUMNS, column_of
from missionctl.domain.states import StepRunStatus


def test_every_status_has_a_column_and_every_column_a_label() -> None:
    assert column_of(None) == "planned"
    assert {column_of(status) for status in StepRunStatus} | {"planned"} == set(COLUMNS)
    assert list(COLUMN_LABELS) == list(COLUMNS)


def test_done_is_success_only_and_failed_is_failure_only() -> None:
    holds = {column: {s for s in StepRunStatus if column_of(s) == column} for column in COLUMNS}
    assert holds["done"] == {StepRunStatus.succeeded}
    assert holds["failed"] == {StepRunStatus.failed}
    assert holds["canceled"] == {StepRunStatus.canceled, StepRunStatus.skipped}
    assert COLUMN_LABELS["canceled"] == "Canceled or skipped"
    # Left to right as work moves: what ended without doing its work sits between the two ends.
    assert COLUMNS.index("failed") < COLUMNS.index("canceled") < COLUMNS.index("done")
