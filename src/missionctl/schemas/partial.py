"""Partial edits: a body whose omitted fields are kept and whose ``null`` must mean something.

An edit sends only the fields it changes. A field sent as ``null`` is refused unless the
subclass lists it in ``_NULLABLE`` (where ``null`` clears it: a schedule's budget, a
decision's ``supersedes``), so a client cannot blank a required value by accident. The OpenAPI
schema says the same: only the ``_NULLABLE`` fields admit ``null`` there.
"""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, ValidationInfo, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


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

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The schema Pydantic makes, with ``null`` left out of every field but ``_NULLABLE``.

        The fields are typed ``X | None`` so that an omitted one reads as ``None``; the
        validator above refuses a ``null`` sent, so the document must not offer it.
        """
        schema = handler(core_schema)
        properties = handler.resolve_ref_schema(schema).get("properties", {})
        for name, field_schema in properties.items():
            if name not in cls._NULLABLE:
                _without_null(field_schema)
        return schema

    def changed(self) -> dict[str, Any]:
        """The fields the edit sets, by name."""
        return {
            name: getattr(self, name)
            for name in self.model_fields_set
            if name not in self._NOT_CHANGES
        }


def _without_null(field_schema: dict[str, Any]) -> None:
    """Drop ``{"type": "null"}`` (and a ``null`` default) from a field's schema, in place."""
    if field_schema.get("default", ...) is None:
        del field_schema["default"]
    options = field_schema.get("anyOf")
    if not isinstance(options, list):
        return
    kept = [option for option in options if option != {"type": "null"}]
    if len(kept) == 1:  # ``anyOf`` of one: the option itself, beside the title and description
        del field_schema["anyOf"]
        field_schema.update(kept[0])
    else:
        field_schema["anyOf"] = kept
