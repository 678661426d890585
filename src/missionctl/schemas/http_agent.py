"""The answer of an external HTTP agent (docs/http-agent.md, ADR 0061).

One contract for both ways an agent answers: the body of a synchronous ``200`` and the body it
POSTs to its ``callback_url`` later. Everything is bounded (sizes, counts, nesting) so that an
answer can neither exhaust the server nor nest past what a JSON column and a page can show;
a violation names the field.
"""

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from missionctl.schemas.missions import plain_text

MAX_OUTPUT_DEPTH = 32
MAX_OUTPUT_BYTES = 256 * 1024
MAX_ARTIFACTS = 20
MAX_ARTIFACT_CHARS = 1_000_000
MAX_LOG_LINES = 200
MAX_LOG_CHARS = 4000

ArtifactName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
]


class AnswerArtifact(BaseModel):
    """A document the external agent produced; stored as the step's artifact ``name``."""

    model_config = ConfigDict(extra="forbid")

    name: ArtifactName = Field(description="File name: letters, digits, '.', '_', '-'.")
    kind: Literal["markdown", "json", "diff", "file", "log", "report"] = "markdown"
    content: Annotated[str, plain_text(MAX_ARTIFACT_CHARS)] = Field(
        description="The document's text."
    )


class AgentAnswer(BaseModel):
    """What an external agent answers: outputs, artifacts and log lines, or an error.

    ``error`` set means the step failed (``retryable`` says whether another attempt may
    succeed); ``outputs`` may still say what was done.
    """

    model_config = ConfigDict(extra="forbid")

    outputs: dict[str, Any] = Field(
        default_factory=dict, description="The step's outputs, read by later steps."
    )
    artifacts: list[AnswerArtifact] = Field(default_factory=list, max_length=MAX_ARTIFACTS)
    logs: list[Annotated[str, plain_text(MAX_LOG_CHARS)]] = Field(
        default_factory=list, max_length=MAX_LOG_LINES
    )
    error: Annotated[str, plain_text(4000)] | None = Field(
        default=None, description="Set when the work failed: why, for the step's error."
    )
    retryable: bool = Field(default=False, description="With error: may another attempt work?")

    @field_validator("outputs")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if json_depth(value) > MAX_OUTPUT_DEPTH:
            raise ValueError(
                f"nests lists and objects deeper than {MAX_OUTPUT_DEPTH} levels; flatten them"
            )
        if holds_nul(value):
            # PostgreSQL cannot store it in every column a step's outputs reach.
            raise ValueError("must not hold a NUL character (\\u0000) in any key or string")
        size = len(json.dumps(value, ensure_ascii=False).encode())
        if size > MAX_OUTPUT_BYTES:
            raise ValueError(
                f"is {size} bytes of JSON, more than {MAX_OUTPUT_BYTES}; send large "
                "results as artifacts"
            )
        return value


def json_depth(value: Any) -> int:
    """How deeply ``value`` nests lists and dicts (a scalar is 0), without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def holds_nul(value: Any) -> bool:
    """Whether any key or string in ``value`` holds a NUL character, without recursion."""
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
