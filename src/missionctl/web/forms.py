"""What the HTML forms of the pages send, and how it becomes a service request.

A browser sends every field as text: an empty input arrives as ``""``, a textarea "one per line"
as one string with line breaks. The classes here keep that raw text (so a form can be shown again
exactly as the user typed it) and turn it into the service's contract; the contract itself
(``schemas``) decides what is valid. Error messages are rewritten for a person filling a form.
"""

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from missionctl.domain.states import MissionStatus
from missionctl.domain.test_commands import split_test_command
from missionctl.errors import Problem, ValidationFailed
from missionctl.schemas.clarifications import ClarificationAnswers
from missionctl.schemas.missions import ANSWER_MAX_CHARS, MAX_CONSTRAINTS, MissionCreate
from missionctl.schemas.plans import PlanAgain

FORM_ERROR = "__form__"
"""Key of an error that belongs to no single field (shown at the top of the form)."""

FieldErrors = dict[str, str]
"""Form field name → the one message shown beside it."""


class MissionForm(BaseModel):
    """The "New mission" form exactly as posted: every field is text, absent fields are empty."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    goal: str = ""
    title: str = ""
    constraints: str = ""
    repo_context: str = ""
    budget_usd: str = ""
    engine: str = ""
    repository: str = ""
    base_branch: str = ""
    coding_agent: str = ""
    model_endpoint: str = ""
    model_secret: str = ""
    model_name: str = ""
    test_command: str = ""
    review: str = ""  # the checkbox: "true" when ticked

    FIELDS: ClassVar[tuple[str, ...]] = (
        "goal",
        "title",
        "constraints",
        "repo_context",
        "budget_usd",
        "engine",
        "repository",
        "base_branch",
        "coding_agent",
        "model_endpoint",
        "model_secret",
        "model_name",
        "test_command",
        "review",
    )
    """The fields in the order the form shows them."""

    def uses_model(self, model_available: bool) -> bool:
        """Whether to plan with the model: asked for, or by default when one is configured."""
        choice = self.engine.strip()
        return model_available and choice in {"", "model"}

    def engine_error(self, model_available: bool) -> str | None:
        """Why the planner choice cannot be honoured, or ``None``."""
        choice = self.engine.strip()
        if choice not in {"", "local", "model"}:
            return "Choose the local engine or the model."
        if choice == "model" and not model_available:
            return "No model is configured here; plan with the local engine."
        return None

    def constraint_lines(self) -> list[str]:
        """One constraint per non-blank line, trimmed."""
        return [line.strip() for line in self.constraints.splitlines() if line.strip()]

    def to_create(self) -> MissionCreate:
        """The service request this form stands for.

        Blank title and budget mean "not given"; constraints are split by lines; the test
        command is one line, split as a shell would.

        Raises:
            pydantic.ValidationError: the input breaks a rule of ``MissionCreate`` (a test
                command that cannot be split at ``repository.test_command``, beside the rest).
        """
        source, agent = self.repository.strip(), self.coding_agent.strip()
        coding, split_problem = self._coding_fields()
        base = self.base_branch.strip() or "main"
        repository = {"source": source, "base": base, "agent": agent or None} | coding
        if self.review:
            # Anything but the checkbox's own value is refused by the schema, at the field.
            repository["review"] = True if self.review.strip() == "true" else self.review
        named = source or agent or coding or split_problem or self.review
        data = {
            "goal": self.goal,
            "title": self.title.strip() or None,
            "constraints": self.constraint_lines(),
            "repo_context": self.repo_context.strip(),
            "budget_usd": self.budget_usd.strip() or None,
            "repository": repository if named else None,
        }
        problems: list[Any] = []
        try:
            created = MissionCreate.model_validate(data)
        except ValidationError as exc:
            problems = [_again(detail) for detail in exc.errors()]
        if split_problem is not None:
            problems.append(
                {
                    "type": PydanticCustomError("test_command_line", split_problem),
                    "loc": ("repository", "test_command"),
                    "input": "",
                }
            )
        if problems:
            raise ValidationError.from_exception_data("MissionCreate", problems)
        return created

    def _coding_fields(self) -> tuple[dict[str, Any], str | None]:
        """The model endpoint and the test command, and why the command cannot be split."""
        fields: dict[str, Any] = {}
        endpoint, secret = self.model_endpoint.strip(), self.model_secret.strip()
        if endpoint or secret or self.model_name.strip():
            fields["model"] = {
                "base_url": endpoint or None,
                "secret": secret or None,
                "name": self.model_name.strip() or None,
            }
        if not self.test_command.strip():
            return fields, None
        try:
            fields["test_command"] = split_test_command(self.test_command.strip())
        except ValueError as exc:
            return fields, str(exc)
        return fields, None


def _again(detail: Mapping[str, Any]) -> dict[str, Any]:
    """A reported problem as one to report again (its message already written out)."""
    error = PydanticCustomError(str(detail["type"]), str(detail["msg"]), detail.get("ctx"))
    return {"type": error, "loc": detail["loc"], "input": detail.get("input")}


def plan_again_request(constraints: str | None, repo_context: str | None) -> PlanAgain | None:
    """The changes the "Plan again" form asks for, or ``None`` for the plain Plan again button.

    The form sends both fields, prefilled with the mission's values: constraints one per line
    (blank lines dropped; an empty box removes them all), and the repository context.

    Raises:
        ValidationFailed: a field breaks a rule of ``PlanAgain``; each problem names its field
            (``constraints`` or ``repo_context``) with a message for a person.
    """
    if constraints is None and repo_context is None:
        return None
    lines = None
    if constraints is not None:
        lines = [line.strip() for line in constraints.splitlines() if line.strip()]
    try:
        return PlanAgain.model_validate({"constraints": lines, "repo_context": repo_context})
    except ValidationError as exc:
        errors = errors_from_validation(exc)
        problems = [Problem(None if f == FORM_ERROR else f, m) for f, m in errors.items()]
        raise ValidationFailed(problems) from None


def clarification_request(answers: list[str]) -> ClarificationAnswers:
    """The answers the planner's questions form sends, one text box per question, in order.

    Raises:
        ValidationFailed: no box was filled in, or there are more boxes than questions allows,
            or one answer is too long; each problem names ``answers`` with a message for a
            person (``answers.N`` for the box at fault).
    """
    try:
        return ClarificationAnswers.model_validate({"answers": answers})
    except ValidationError as exc:
        problems = [_answer_problem(detail) for detail in exc.errors()]
        raise ValidationFailed(problems) from None


def _answer_problem(detail: Mapping[str, Any]) -> Problem:
    location = detail.get("loc", ())
    kind = detail.get("type", "")
    if len(location) > 1 and kind == "string_too_long":
        return Problem(
            f"answers.{location[1]}",
            f"Answer {int(location[1]) + 1} is too long: keep it under {ANSWER_MAX_CHARS:,} "
            "characters.",
        )
    if kind in {"answers_empty", "too_short"}:
        return Problem("answers", "Answer at least one question before sending.")
    return Problem("answers", str(detail.get("msg", "Check the answers.")))


def errors_from_validation(error: ValidationError) -> FieldErrors:
    """Map a ``MissionCreate`` validation error to one readable message per form field.

    Args:
        error: what Pydantic reported (a constraint's index says which line is at fault).

    Returns:
        The first problem of each field, keyed by form field name (``FORM_ERROR`` for the rest).
    """
    errors: FieldErrors = {}
    for detail in error.errors():
        location = detail.get("loc", ())
        field = (
            _NESTED_FIELDS.get(tuple(location[:3]))
            or _NESTED_FIELDS.get(tuple(location[:2]))
            or (str(location[0]) if location else FORM_ERROR)
        )
        if field not in MissionForm.FIELDS:
            field = FORM_ERROR
        errors.setdefault(field, _message(field, detail, location))
    return errors


# A nested field of ``MissionCreate`` → the form field that sets it.
_NESTED_FIELDS: dict[tuple[Any, ...], str] = {
    ("repository", "source"): "repository",
    ("repository", "base"): "base_branch",
    ("repository", "agent"): "coding_agent",
    ("repository", "model"): "model_endpoint",
    ("repository", "model", "base_url"): "model_endpoint",
    ("repository", "model", "secret"): "model_secret",
    ("repository", "model", "name"): "model_name",
    ("repository", "test_command"): "test_command",
    ("repository", "review"): "review",
}
# What a form field that must go with another says when it is left empty.
_NEEDED = {
    "model_endpoint": "Give the endpoint's base URL too, such as https://llm.example.com/v1.",
    "model_secret": "Give the name of the secret that holds the endpoint's key too.",
}


def errors_from_problems(problems: Iterable[Problem]) -> FieldErrors:
    """Map the problems of a ``ValidationFailed`` to form fields (first problem per field wins)."""
    errors: FieldErrors = {}
    for problem in problems:
        name = (problem.field or "").split(".")[0]
        field = name if name in MissionForm.FIELDS else FORM_ERROR
        errors.setdefault(field, problem.message)
    return errors


def field_message(field: str, detail: Mapping[str, Any]) -> str:
    """The message a person reads beside ``field`` for one problem Pydantic reported.

    The rules every form shares (a text too long, a budget in US dollars) get the same words on
    every page; any other problem keeps Pydantic's own message.
    """
    return _message(field, detail, tuple(detail.get("loc", ())))


def _message(field: str, detail: Mapping[str, Any], location: tuple[Any, ...]) -> str:
    kind = detail.get("type", "")
    ctx = detail.get("ctx") or {}
    if field == "goal" and kind in {"string_too_short", "missing"}:
        return "Describe the goal: what should be built or changed?"
    if field == "constraints" and kind == "too_long":
        return f"Keep it to {MAX_CONSTRAINTS} constraints or fewer (one per line)."
    if field == "constraints" and len(location) > 1 and kind == "string_too_long":
        line = int(location[1]) + 1
        return f"Constraint {line} is too long: keep each under {ctx['max_length']:,} characters."
    if field in _NEEDED and kind in {"string_type", "missing"}:
        return _NEEDED[field]
    if field == "test_command" and kind == "too_long":
        return f"Keep it to {ctx['max_length']} arguments or fewer."
    if field == "repository" and kind == "string_too_short":
        return "Name the repository the coding agent works on: an absolute path or a clone URL."
    if kind == "string_too_long":
        return f"Too long: keep it under {ctx['max_length']:,} characters."
    if field == "budget_usd":
        if kind in {"decimal_parsing", "decimal_type", "finite_number"}:
            return "Enter an amount in US dollars, like 25 or 12.50."
        if kind == "greater_than_equal":
            return "The budget cannot be negative."
        if kind == "less_than_equal":
            return f"The budget cannot be more than ${ctx['le']:,}."
        if kind in {"decimal_max_places", "decimal_max_digits"}:
            return "Use at most six decimal places."
    return str(detail.get("msg", "Check this value.")).removeprefix("Value error, ")


class MissionFilters(BaseModel):
    """The search and status filter of the missions list, as the query string carries them."""

    model_config = ConfigDict(frozen=True)

    q: str = ""
    status: str = ""

    @property
    def status_filter(self) -> MissionStatus | None:
        """The status to filter on; an empty or unknown value means "any status"."""
        try:
            return MissionStatus(self.status) if self.status else None
        except ValueError:
            return None

    @property
    def query(self) -> str | None:
        """The text to search for, or ``None``."""
        return self.q.strip() or None

    @property
    def active(self) -> bool:
        """Whether any filter narrows the list."""
        return self.query is not None or self.status_filter is not None
