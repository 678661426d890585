from wordcount import count_words, words


def test_words_are_lower_cased_in_order() -> None:
    assert words("The cat, the HAT.") == ["the", "cat", "the", "hat"]


def test_count_words_counts_each_word() -> None:
    assert count_words("a b a")["a"] == 2
