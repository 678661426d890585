"""The start of an id as a person types it (``domain.id_prefixes``)."""

import uuid

import pytest

from missionctl.domain.id_prefixes import MIN_PREFIX_DIGITS, IdPrefix, id_or_prefix

WHOLE = uuid.UUID("01a21827-5807-7433-9c4a-f1035bd2e7ff")


def test_a_prefix_stands_for_the_range_of_ids_it_starts() -> None:
    prefix = IdPrefix.parse("01A21827-58")
    assert prefix.digits == "01a2182758"
    assert prefix.lowest == uuid.UUID("01a21827-5800-0000-0000-000000000000")
    assert prefix.highest == uuid.UUID("01a21827-58ff-ffff-ffff-ffffffffffff")
    assert prefix.lowest <= WHOLE <= prefix.highest


def test_a_whole_id_with_or_without_dashes_is_the_id_itself() -> None:
    assert id_or_prefix(str(WHOLE)) == WHOLE
    assert id_or_prefix(WHOLE.hex.upper()) == WHOLE
    assert id_or_prefix(str(WHOLE)[:-1]) == IdPrefix(WHOLE.hex[:-1])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("01a2xyz", "not an id or the start of one"),
        ("", "not an id or the start of one"),
        ("----", "not an id or the start of one"),
        ("01a", f"at least {MIN_PREFIX_DIGITS}"),
        ("0" * 33, "longer than an id"),
        ("01a2\x00", "not an id or the start of one"),
        ("../01a2", "not an id or the start of one"),
        ("\uff10\uff11\uff41\uff12", "not an id or the start of one"),  # full-width: not hex
    ],
)
def test_what_is_not_the_start_of_an_id_is_refused_with_the_fix(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        IdPrefix.parse(text)


def test_a_huge_text_is_quoted_short_in_the_refusal() -> None:
    with pytest.raises(ValueError) as refused:
        IdPrefix.parse("z" * 100_000)
    assert len(str(refused.value)) < 200
