"""The command palette's answer (``GET /api/v1/palette``, the palette on every page)."""

from typing import Any, Literal

from pydantic import BaseModel, Field

PaletteKind = Literal[
    "mission", "run", "workflow", "agent", "worker", "schedule", "page", "action", "template"
]


class PaletteNumber(BaseModel):
    """A whole number the palette asks for before it acts (how many steps a worker runs)."""

    field: str = Field(description="The body's key the number is sent under.")
    label: str
    minimum: int
    maximum: int
    value: int = Field(description="The number shown at first (the current one).")


class PaletteAction(BaseModel):
    """How to do what an ``action`` item says: a request to an existing route.

    ``GET`` opens ``url`` (a page, or the form that asks for more). ``POST`` and ``PATCH`` send
    ``body`` as JSON to ``url`` with the session's CSRF token, after asking ``confirm`` when
    there is one, and the ``number`` when there is one.
    """

    method: Literal["GET", "POST", "PATCH"]
    url: str
    confirm: str | None = Field(
        default=None,
        description="The question to ask before a destructive action (cancel, reject, stop); "
        "none: no confirmation.",
    )
    reason: Literal["none", "optional", "required"] = Field(
        default="none",
        description="Whether to ask for a reason, sent as the body's `reason`.",
    )
    body: dict[str, Any] = Field(
        default_factory=dict, description="The JSON body to send (with `reason` added)."
    )
    number: PaletteNumber | None = Field(
        default=None, description="A number to ask for, sent in the body under its `field`."
    )
    then: str | None = Field(
        default=None,
        description="The page to open after success; `{id}` is replaced by the answer's `id`. "
        "None: stay and say it was done.",
    )
    danger: bool = Field(
        default=False, description="Whether it destroys or stops work (shown in red)."
    )
    label: str = Field(default="Confirm", description="The text of the confirming button.")
    done: str = Field(description="What to tell the user once it succeeded.")


class PaletteItem(BaseModel):
    """One thing the palette offers: a place to go, or an action to take."""

    kind: PaletteKind
    title: str
    subtitle: str = ""
    url: str = Field(description="Where the item leads (for an action: the page of its object).")
    action: PaletteAction | None = Field(
        default=None, description="For `kind: action`: what to send; none for other kinds."
    )
    score: int = Field(description="How well it matched the query; higher first.")


class PalettePage(BaseModel):
    """The best matches for a query, best first (for a blank query: places and actions)."""

    items: list[PaletteItem]
