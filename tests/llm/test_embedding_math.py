"""The embedder's vector math, with and without numpy: the same similarities."""

import math
from array import array

from missionctl.llm import embedding
from missionctl.llm.embedding import cosine, similarities


def _unit(*values: float) -> bytes:
    norm = math.sqrt(sum(v * v for v in values))
    return array("f", (v / norm for v in values)).tobytes()


def test_similarities_are_cosines_and_other_sizes_score_zero() -> None:
    wanted = _unit(1, 0, 0)
    vectors = [_unit(1, 0, 0), _unit(0, 1, 0), _unit(1, 1, 0), _unit(1, 0)]

    scores = similarities(wanted, vectors)

    assert [round(s, 4) for s in scores] == [1.0, 0.0, round(1 / math.sqrt(2), 4), 0.0]
    assert [round(cosine(wanted, v), 4) for v in vectors] == [round(s, 4) for s in scores]
    assert similarities(wanted, []) == []


def test_without_the_semantic_extra_there_is_no_embedder() -> None:
    if embedding.importlib.util.find_spec(embedding.SEMANTIC_PACKAGE) is None:
        assert embedding.load_embedder() is None
    else:
        loaded = embedding.load_embedder()
        assert loaded is not None and loaded.name == "all-MiniLM-L6-v2"
