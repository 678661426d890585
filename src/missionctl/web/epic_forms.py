"""What the epic pages' forms send, and how it becomes the epic use cases' requests.

A browser sends every field as text, an empty input as ``""``. ``EpicForm`` keeps that text,
so a refused form is shown again as it was typed, and turns it into ``EpicCreate`` or
``EpicEdit``: the contract decides what is valid, the messages here are rewritten for a person.
An edit sends only the fields that differ from the epic as it is, so its event names what
changed; an emptied target date or budget clears it.
"""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from missionctl.errors import Problem, ValidationFailed
from missionctl.schemas.epics import (
    MAX_MISSIONS_PER_REQUEST,
    EpicCreate,
    EpicEdit,
    EpicMissions,
    EpicRead,
)
from missionctl.schemas.identity import NAME_RULE
from missionctl.web.forms import field_message

NUL_MESSAGE = "Remove the NUL character: only plain text is kept."
DATE_MESSAGE = "Enter a date as YYYY-MM-DD, like 2030-04-30, or leave it empty."
_Body = TypeVar("_Body", bound=BaseModel)


class EpicForm(BaseModel):
    """The "New epic" and "Edit epic" forms as posted: every field text, an absent one empty."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = ""
    description: str = ""
    owner: str = ""
    target_date: str = ""
    budget_usd: str = ""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "description",
        "owner",
        "target_date",
        "budget_usd",
    )
    """The fields in the order the forms show them."""

    @classmethod
    def of(cls, epic: EpicRead) -> "EpicForm":
        """The edit form filled with ``epic`` as it is."""
        budget = "" if epic.budget_usd is None else _plain(Decimal(str(epic.budget_usd)))
        return cls(
            name=epic.name,
            description=epic.description,
            owner=epic.owner,
            target_date="" if epic.target_date is None else epic.target_date.isoformat(),
            budget_usd=budget,
        )

    def shown(self) -> "EpicForm":
        """The form as a page shows it again: each NUL as U+FFFD, as a browser reads one.

        A page carries no NUL character; everything else is shown as it was typed.
        """
        fields = {name: getattr(self, name).replace("\x00", "\ufffd") for name in self.FIELDS}
        return self.model_copy(update=fields)

    def to_create(self) -> EpicCreate:
        """The request to make an epic; a blank owner is the person who makes it.

        Raises:
            ValidationFailed: the contract refuses a field; each problem names it.
        """
        data = {
            "name": self.name,
            "description": _text(self.description),
            "owner": self.owner.strip() or None,
            "target_date": self.target_date.strip() or None,
            "budget_usd": self.budget_usd.strip() or None,
        }
        return _validated(EpicCreate, data)

    def to_edit(self, epic: EpicRead) -> EpicEdit | None:
        """The request to make ``epic`` what the form says; ``None`` if it says the same.

        Raises:
            ValidationFailed: the contract refuses a field; each problem names it.
        """
        data: dict[str, Any] = {}
        if self.name.strip() != epic.name:
            data["name"] = self.name
        if _text(self.description).strip() != epic.description:
            data["description"] = _text(self.description)
        if self.owner.strip() != epic.owner:
            data["owner"] = self.owner
        current_date = "" if epic.target_date is None else epic.target_date.isoformat()
        if self.target_date.strip() != current_date:
            data["target_date"] = self.target_date.strip() or None
        if _budget_changed(self.budget_usd.strip(), epic.budget_usd):
            data["budget_usd"] = self.budget_usd.strip() or None
        return _validated(EpicEdit, data) if data else None


def missions_request(mission_ids: list[str]) -> EpicMissions:
    """The request to put the missions ticked in the "Add missions" form in an epic.

    Raises:
        ValidationFailed: none was ticked, too many were, or one is not a mission's id (field
            ``mission_ids``).
    """
    return _validated(EpicMissions, {"mission_ids": mission_ids})


def _text(value: str) -> str:
    """A textarea's text with the browser's CRLF line breaks as plain ones."""
    return value.replace("\r\n", "\n")


def _plain(amount: Decimal) -> str:
    """An amount as a person would type it: ``12.5``, ``3``, ``0.0025``."""
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _budget_changed(typed: str, current: float | None) -> bool:
    """Whether the budget typed differs from ``current`` (text that is no amount does)."""
    if not typed:
        return current is not None
    try:
        return current is None or Decimal(typed) != Decimal(str(current))
    except InvalidOperation:
        return True


def _validated(model: type[_Body], data: Mapping[str, Any]) -> _Body:
    """``data`` as ``model``.

    Raises:
        ValidationFailed: one problem per field at fault, in words for a person.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(dict(detail)) for detail in exc.errors()]
        raise ValidationFailed(problems) from None


def _problem(detail: dict[str, Any]) -> Problem:
    location = detail.get("loc", ())
    field = str(location[0]) if location else None
    return Problem(field, _message(field or "", detail))


def _message(field: str, detail: Mapping[str, Any]) -> str:
    kind = str(detail.get("type", ""))
    if field == "name" and kind in {"missing", "string_too_short"}:
        return "Name the epic: the name people know it by."
    if field == "owner" and kind == "string_pattern_mismatch":
        return f"Name a user by their sign-in name, {NAME_RULE}."
    if kind == "string_pattern_mismatch":
        return NUL_MESSAGE
    if field == "target_date" and kind.startswith("date_"):
        return DATE_MESSAGE
    if field == "mission_ids":
        if kind == "too_short":
            return "Tick at least one mission to add."
        if kind == "too_long":
            return f"Add at most {MAX_MISSIONS_PER_REQUEST} missions at once."
        return "Choose missions from the list."
    return field_message(field, detail)
