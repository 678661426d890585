"""Turning a model's text reply into a validated Pydantic value, and explaining failures.

The explanations are written for two readers: the model, which gets them back in the repair
prompt, and the person reading ``LLMOutputInvalid``. Both need the location and the reason, not
the (possibly huge) offending input, so inputs are never echoed.
"""

import json
import re
from collections.abc import Sequence
from typing import TypeVar

import pydantic_core
from pydantic import BaseModel, ValidationError

from missionctl.llm.protocol import ReplyPreparer

T = TypeVar("T", bound=BaseModel)

# A reply wrapped in a Markdown code fence, with or without a language tag.
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\r?\n?(.*?)\r?\n?[ \t]*```", re.DOTALL)
# Finds where the JSON object that prose surrounds ends.
_DECODER = json.JSONDecoder()
# How many validation errors one message lists; the rest are counted, not spelled out.
MAX_LISTED_ERRORS = 10


class ReplyError(Exception):
    """A reply that is not valid JSON for the wanted model; ``problems`` are (location, reason).

    ``mended`` are the notes of what a reply preparer had already changed in the reply before
    it still failed validation (told to the model with the problems, so it need not guess).
    """

    def __init__(self, problems: list[tuple[str, str]], *, mended: Sequence[str] = ()) -> None:
        super().__init__(describe_problems(problems))
        self.problems = problems
        self.mended = tuple(mended)

    @property
    def first_location(self) -> str | None:
        """Dotted path of the first problem, or None when the reply as a whole is at fault."""
        location = self.problems[0][0] if self.problems else ""
        return location or None


def strip_code_fences(text: str) -> str:
    """Return the JSON inside a Markdown code fence, or ``text`` stripped when there is none.

    A reply that already starts like JSON is left alone even if a fence appears inside a string
    value further on.
    """
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        return stripped
    match = _FENCE.search(stripped)
    return match.group(1).strip() if match else stripped


def extract_json(text: str) -> str:
    """The JSON a reply carries: inside a code fence, or the object that prose surrounds.

    Models asked for JSON in the prompt alone (no ``response_format``) often wrap it in a
    Markdown fence or put a sentence before and after it. Text that is JSON as it stands, or
    whose first ``{`` does not open a complete object (a reply cut short), is returned as
    :func:`strip_code_fences` leaves it, so its parse error is the one reported.
    """
    candidate = strip_code_fences(text)
    try:
        json.loads(candidate)
    except ValueError:
        start = candidate.find("{")
        if start != -1:
            try:
                _, end = _DECODER.raw_decode(candidate, start)
            except ValueError:
                return candidate
            return candidate[start:end]
    return candidate


def parse_reply(content: str | None, output_model: type[T]) -> T:
    """Validate a reply's text against ``output_model``.

    Raises:
        ReplyError: the reply is empty, is not JSON, or breaks the model's schema.
    """
    try:
        return output_model.model_validate_json(extract_json(_non_empty(content)))
    except ValidationError as exc:
        raise ReplyError(validation_problems(exc)) from exc


def parse_prepared_reply(
    content: str | None, output_model: type[T], prepare: ReplyPreparer
) -> tuple[T, tuple[str, ...]]:
    """Parse a reply's JSON, let ``prepare`` mend it, then validate it against ``output_model``.

    Returns:
        The value and ``prepare``'s notes on what it changed.

    Raises:
        ReplyError: the reply is empty or not JSON, or still breaks the schema once prepared
            (its ``mended`` lists what ``prepare`` had changed).
    """
    text = extract_json(_non_empty(content))
    try:
        data = pydantic_core.from_json(text)
    except ValueError as exc:  # worded as Pydantic words it for an unprepared reply
        raise ReplyError([("", f"Invalid JSON: {exc}")]) from exc
    prepared, notes = prepare(data)
    try:
        return output_model.model_validate(prepared), tuple(notes)
    except ValidationError as exc:
        raise ReplyError(validation_problems(exc), mended=notes) from exc


def _non_empty(content: str | None) -> str:
    if content is None or not content.strip():
        raise ReplyError([("", "the reply was empty; expected a JSON object")])
    return content


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """(dotted location, message) for each error of a Pydantic validation failure."""
    return [(".".join(str(part) for part in error["loc"]), error["msg"]) for error in exc.errors()]


def describe_problems(problems: list[tuple[str, str]]) -> str:
    """One line listing the problems as ``location: reason; ...`` (root errors as ``(root)``)."""
    listed = [f"{loc or '(root)'}: {msg}" for loc, msg in problems[:MAX_LISTED_ERRORS]]
    hidden = len(problems) - len(listed)
    if hidden > 0:
        listed.append(f"... and {hidden} more")
    return "; ".join(listed)


def repair_prompt(error: ReplyError) -> str:
    """The user message that asks the model to correct its previous reply.

    When a preparer had mended part of the reply, it lists the preparer's notes, so the model's
    next reply keeps those fixes rather than repeating the slips.
    """
    mended = ""
    if error.mended:
        listed = "; ".join(error.mended[:MAX_LISTED_ERRORS])
        hidden = len(error.mended) - MAX_LISTED_ERRORS
        more = f"; ... and {hidden} more" if hidden > 0 else ""
        mended = f" (Noted before validation: {listed}{more}.)"
    return (
        f"Your reply did not match the schema: {describe_problems(error.problems)}.{mended} "
        "Reply with corrected JSON only."
    )


def schema_instructions(output_model: type[BaseModel], schema_name: str) -> str:
    """System-prompt text that carries the JSON Schema when the server cannot enforce it."""
    schema = json.dumps(output_model.model_json_schema(), indent=2, sort_keys=True)
    return (
        f"Reply with a single JSON object named {schema_name} that conforms to this JSON Schema, "
        f"and nothing else (no prose, no Markdown):\n{schema}"
    )
