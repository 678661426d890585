"""Partial edits: a body whose omitted fields are kept and whose ``null`` must mean something.

An edit sends only the fields it changes. A field sent as ``null`` is refused unless the
subclass lists it in ``_NULLABLE`` (where ``null`` clears it: a schedule's budget, a
decision's ``supersedes``), so a client cannot blank a required value by accident.
"""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class PartialEdit(BaseModel):
    """The fields sent, validated; ``changed()`` gives them by name."""

    model_config = ConfigDict(extra="forbid")

    # Fields whose ``null`` means something; any other field sent as null is refused.
    _NULLABLE: ClassVar[frozenset[str]] = frozenset()
    # Fields sent with every edit that change nothing themselves (a version to check).
    _NOT_CHANGES: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _no_null(cls, value: object, info: ValidationInfo) -> object:
        # Only a field the client sent is validated, so ``None`` here was sent as ``null``.
        if value is None and info.field_name not in cls._NULLABLE:
            raise ValueError("may not be null: leave the field out to keep its value")
        return value

    def changed(self) -> dict[str, Any]:
        """The fields the edit sets, by name."""
        return {
            name: getattr(self, name)
            for name in self.model_fields_set
            if name not in self._NOT_CHANGES
        }
