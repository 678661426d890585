"""The one canonical JSON text: what is stored and hashed."""

import json
from typing import Any

import pytest

from missionctl.db.types import CanonicalJson, canonical_json


@pytest.mark.parametrize(
    "value",
    [{}, [], {"b": 1, "a": {}}, {"é": "ünïcode", "n": None}, [1, 2.5, True, "x"], {"k": []}],
)
def test_canonical_json_is_sorted_compact_and_keeps_unicode(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = canonical_json(value)
    assert text == expected
    assert type(text) is CanonicalJson
    assert canonical_json(text) is text  # already canonical: passed through


def test_an_empty_object_is_not_shared_with_its_caller() -> None:
    value: dict[str, Any] = {}
    assert canonical_json(value) == "{}"
    value["added"] = 1  # the text made before does not change with the dict
    assert canonical_json(value) == '{"added":1}'


def test_values_json_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        canonical_json({"x": object()})
