"""Workflow suggestions as read: open ones with their diff, applied ones with what they did."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class SuggestionRead(BaseModel):
    """An edit the history suggests, as the new version it would save."""

    key: str = Field(description="Stable for the same edit of the same version: apply by it.")
    kind: str = Field(description="`parallel`, `timeout`, `model` or `template`.")
    step_id: str
    title: str
    why: str = Field(description="The reason, with the counts behind it.")
    predicted: dict[str, Any] = Field(
        description="Each figure the edit should change: `[now, expected]`."
    )
    expected: list[str] = Field(description="The predicted figures in words.")
    diff: str = Field(
        description="The new version against the newest, as a unified diff (a `template`: the "
        "template as added lines)."
    )
    definition: dict[str, Any] = Field(
        description="The whole new version, ready to save (a `template`: the template)."
    )


class VersionRunsRead(BaseModel):
    """How the ended runs of one version went, and the suggestion's step in them."""

    version: int
    runs: int
    completed: int
    median_duration_s: float | None
    step_cost_usd: float | None
    step_retries_per_run: float | None


class AppliedSuggestionRead(BaseModel):
    """A suggestion someone applied, with the runs before and after it.

    A ``template`` made no version: ``before`` and ``after`` are both the version its steps
    came from, and ``template_uses`` says what it did.
    """

    id: uuid.UUID
    key: str
    kind: str
    step_id: str
    title: str
    why: str
    predicted: dict[str, Any]
    applied_by: str
    applied_at: datetime
    before: VersionRunsRead
    after: VersionRunsRead
    enough_runs: bool = Field(
        description="Whether both versions have the runs a comparison needs (MIN_RUNS each)."
    )
    template_uses: int | None = Field(
        default=None,
        description="A `template`: the workflow versions made from it since it was applied.",
    )


class SuggestionsRead(BaseModel):
    """What the history of a workflow suggests for its newest version, and what was applied."""

    workflow: str
    workflow_id: uuid.UUID = Field(description="The newest version's id: apply to it.")
    version: int
    runs: int = Field(description="Runs of the newest version that ended in the window.")
    window_days: int
    min_runs: int = Field(description="Runs below which nothing is suggested.")
    suggestions: list[SuggestionRead]
    applied: list[AppliedSuggestionRead]
