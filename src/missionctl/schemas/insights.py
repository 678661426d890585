"""The insights writer's phrasebook (``insights.yaml``) and the model's reply (ADR 0070).

:func:`load_phrasebook` reads the packaged file once into ``domain.insights.Phrasebook``; a
broken file (an unknown placeholder, a metric without both directions, a section without a
phrase) fails with the file and the field at fault. :class:`ModelInsights` is what the model is
asked for: a summary and the four sections, each bounded so a reply cannot flood an answer.
"""

import string
from functools import cache
from importlib.resources import files
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from missionctl.domain.insights import (
    DIRECTIONS,
    HEADLINE_UNITS,
    MAX_SENTENCES,
    SECTION_KEYS,
    TEMPLATE_FIELDS,
    MetricPhrases,
    MovePhrases,
    Phrasebook,
)
from missionctl.schemas.analytics import TREND_KEYS, InsightSections
from missionctl.schemas.datafiles import read_data_file

__all__ = ["ModelInsights", "ModelSections", "load_phrasebook"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
CANNED_KEYS = ("summary", *SECTION_KEYS)
METRIC_KEYS = (*TREND_KEYS, "funnel", "retention", "history", "default")


def _known_placeholders(text: str) -> str:
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    unknown = sorted(names - TEMPLATE_FIELDS)
    if unknown:
        allowed = ", ".join(f"{{{name}}}" for name in sorted(TEMPLATE_FIELDS))
        raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use only {allowed}")
    return text


Phrase = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=400),
    AfterValidator(_known_placeholders),
]


class Thresholds(BaseModel):
    """How far a figure must move to be told."""

    model_config = _FROZEN

    points: float = Field(gt=0, le=100)
    percent: float = Field(gt=0, le=1000)
    min_people: int = Field(ge=1, le=100_000)
    min_runs: int = Field(ge=1, le=100_000)


class MoveFile(BaseModel):
    """Why a move matters, what to do, what to ask."""

    model_config = _FROZEN

    why: Phrase
    action: Phrase
    question: Phrase


class MetricFile(BaseModel):
    """A metric's label and its phrases when it goes up and when it goes down."""

    model_config = _FROZEN

    label: Annotated[str, StringConstraints(max_length=80)]
    up: MoveFile
    down: MoveFile


Canned = tuple[Phrase, ...]


class PhrasebookFile(BaseModel):
    """The whole of ``insights.yaml``."""

    model_config = _FROZEN

    thresholds: Thresholds
    metrics: dict[str, MetricFile]
    funnel_unsettled: Phrase
    empty: dict[str, Annotated[Canned, Field(min_length=1, max_length=MAX_SENTENCES)]]
    steady: dict[str, Annotated[Canned, Field(min_length=1, max_length=MAX_SENTENCES)]]

    @model_validator(mode="after")
    def _complete(self) -> "PhrasebookFile":
        needed = (*HEADLINE_UNITS, "funnel", "retention", "history", "default")
        missing = [key for key in needed if key not in self.metrics]
        if missing:
            raise ValueError(f"metrics: add {', '.join(missing)}")
        unknown = sorted(set(self.metrics) - set(METRIC_KEYS))
        if unknown:
            raise ValueError(f"metrics: {unknown[0]} is not a metric; use one of {METRIC_KEYS}")
        for name in ("empty", "steady"):
            canned = getattr(self, name)
            if set(canned) != set(CANNED_KEYS):
                raise ValueError(f"{name}: give exactly {', '.join(CANNED_KEYS)}")
        return self


def _phrasebook(parsed: PhrasebookFile) -> Phrasebook:
    metrics = {
        key: MetricPhrases(
            label=metric.label,
            moves={
                direction: MovePhrases(**getattr(metric, direction).model_dump())
                for direction in DIRECTIONS
            },
        )
        for key, metric in parsed.metrics.items()
    }
    return Phrasebook(
        points=parsed.thresholds.points,
        percent=parsed.thresholds.percent,
        min_people=parsed.thresholds.min_people,
        min_runs=parsed.thresholds.min_runs,
        metrics=metrics,
        empty=dict(parsed.empty),
        steady=dict(parsed.steady),
        funnel_unsettled=parsed.funnel_unsettled,
    )


@cache
def load_phrasebook() -> Phrasebook:
    """The packaged phrasebook, read and validated once.

    Raises:
        DataFileError: the file is broken; the message names the field and the fix.
    """
    file = files("missionctl.schemas").joinpath("insights.yaml")
    return _phrasebook(read_data_file(file, TypeAdapter(PhrasebookFile)))


# --- what the model writes ------------------------------------------------------------------

Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
Sentences = Annotated[list[Sentence], Field(min_length=1, max_length=MAX_SENTENCES)]


class ModelSections(BaseModel):
    """The four sections as the model must write them: 1 to 5 sentences each."""

    model_config = ConfigDict(extra="forbid")

    what_changed: Sentences
    why_it_matters: Sentences
    suggested_actions: Sentences
    questions_to_investigate: Sentences


class ModelInsights(BaseModel):
    """The model's reply: an executive summary (2 to 4 sentences) and the four sections."""

    model_config = ConfigDict(extra="forbid")

    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1600)]
    sections: ModelSections

    def as_sections(self) -> InsightSections:
        """The sections in the answer's shape."""
        return InsightSections.model_validate(self.sections.model_dump())
