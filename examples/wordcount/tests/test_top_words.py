import pytest

from wordcount import top_words


def test_most_frequent_first_ties_alphabetical() -> None:
    text = "b a c b a b"
    assert top_words(text, 2) == [("b", 3), ("a", 2)]


def test_n_larger_than_distinct_words_returns_all() -> None:
    assert top_words("x y x", 10) == [("x", 2), ("y", 1)]


def test_n_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        top_words("x", 0)
