"""The palette's fuzzy match: which names a query means, in which order, and its LIKE bound."""

import re

import pytest

from missionctl.domain.palette import (
    EXACT,
    INITIALS,
    MAX_QUERY_CHARS,
    MAX_WORDS,
    PREFIX,
    SUBSEQUENCE,
    SUBSTRING,
    WORD_PREFIX,
    QueryTooLong,
    best_score,
    like_patterns,
    query_words,
    score,
    word_score,
)


@pytest.mark.parametrize(
    ("word", "text", "expected"),
    [
        ("billing", "Billing", EXACT),
        ("bill", "Billing export", PREFIX),
        ("bill", "Ship the billing page", WORD_PREFIX),
        ("build", "nightlyBuild", WORD_PREFIX),  # a case change starts a word
        ("illing", "Ship the billing page", SUBSTRING),
        ("nb", "nightly-build", INITIALS),
        ("pgs", "Ship the billing page", None),  # no "s" after the "g"
        ("xyz", "Ship the billing page", None),
    ],
)
def test_each_kind_of_match_has_its_score(word: str, text: str, expected: int | None) -> None:
    assert word_score(word, text) == expected


def test_kinds_of_match_rank_in_order() -> None:
    assert EXACT > PREFIX > WORD_PREFIX > SUBSTRING > INITIALS > SUBSEQUENCE


def test_a_scattered_match_prefers_word_starts_and_runs_of_letters() -> None:
    starts = word_score("bp", "Billing page")  # initials, in fact
    scattered = word_score("bgpg", "Billing page")
    loose = word_score("pae", "Billing page")
    assert starts is not None and scattered is not None and loose is not None
    assert scattered > loose >= SUBSEQUENCE
    # A letter that can start a later word is taken there: the "p" of "page", not of "spa".
    assert (word_score("pg", "spa page") or 0) > (word_score("pg", "spaxpxg") or 0)


@pytest.mark.parametrize(
    ("word", "text"),
    [
        ("iae", "Billing page"),  # starts no word
        ("heart", "the gallery of workflow templates"),  # over four words
        ("rate", "engines and their heartbeats"),  # no word starts with its "r"
        ("work", "your password and your API tokens"),
    ],
)
def test_scattered_letters_must_start_a_word_and_keep_to_two_words(word: str, text: str) -> None:
    assert word_score(word, text) is None


def test_a_query_of_several_words_matches_no_scattered_letters() -> None:
    # "heart" starts a word of Workers' description, "rate" is only scattered letters there.
    assert score(["heart", "rate"], "engines and their heartbeats") is None
    assert score(["heart", "rate"], "A heart rate monitor for runners") is not None
    assert score(["hrt", "rate"], "A heart rate monitor for runners") is None
    assert score(["hrt"], "A heart rate monitor for runners") is not None
    assert score(["ahrm"], "A heart rate monitor for runners") is not None  # its initials


def test_every_word_must_match_and_shorter_names_win_ties() -> None:
    assert score(["ship", "page"], "Ship the billing page") is not None
    assert score(["ship", "invoice"], "Ship the billing page") is None
    short = score(["bill"], "Ship the billing page")
    long = score(["bill"], "Ship the billing page and the whole invoicing flow end to end")
    assert short is not None and long is not None and short > long
    assert score([], "anything") == 0


def test_best_score_takes_the_best_text_less_its_handicap() -> None:
    assert best_score(["nightly"], [("Ship it", 0), ("nightly-build", 150)]) == (
        (score(["nightly"], "nightly-build") or 0) - 150
    )
    assert best_score(["zzz"], [("Ship it", 0)]) is None


def test_query_words_are_folded_split_and_bounded() -> None:
    assert query_words("  Ship\tTHE\x00page ") == ["ship", "the", "page"]
    assert query_words("") == []
    with pytest.raises(QueryTooLong, match=f"at most {MAX_QUERY_CHARS}"):
        query_words("x" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(QueryTooLong, match=f"at most {MAX_WORDS}"):
        query_words(" ".join("w" * (MAX_WORDS + 1)))


def _like(pattern: str, text: str) -> bool:
    """SQL LIKE with escape ``\\``, case-insensitive, in Python."""
    regex = ""
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            regex += re.escape(next(chars))
        elif char == "%":
            regex += ".*"
        elif char == "_":
            regex += "."
        else:
            regex += re.escape(char)
    return re.fullmatch(regex, text.casefold(), re.DOTALL) is not None


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("bilpg", "Ship the billing page"),
        ("50%", "Cut costs by 50% now"),
        ("a_b", "the a_b test"),
        ("back\\slash", "back\\slash"),
        ("NB", "nightly-build"),
    ],
)
def test_the_like_prefilter_never_hides_a_match(query: str, text: str) -> None:
    words = query_words(query)
    assert score(words, text) is not None
    assert all(_like(p, text) for p in like_patterns(words))


def test_wildcards_typed_mean_themselves() -> None:
    [pattern] = like_patterns(["50%"])
    assert pattern == "%5%0%\\%%"
    assert not _like(pattern, "500 things")
    assert not _like(like_patterns(["a_b"])[0], "axb")
