"""The hash chain: what is hashed, and how.

``hash = sha256(prev_hash ‖ canonical_json(body))`` where ``body`` holds every stored field of the
event except the two hashes. Changing any field of any event, deleting one, or reordering them
changes a hash that a later event (or the chain head) vouches for.
"""

import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from missionctl.db.types import canonical_json

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event."""

# What ``canonical_json`` does with a string (``ensure_ascii=False``), without its dispatch: the
# hot path hashes five strings per event. A UUID's text needs no escaping at all.
_json_text = encode_basestring


def format_ts(ts: datetime) -> str:
    """Canonical text of an event time: UTC, microseconds, ``Z`` suffix."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_body(
    *,
    seq: int,
    ts: datetime,
    type: str,
    actor: str,
    mission_id: uuid.UUID | None,
    run_id: uuid.UUID | None,
    step_id: str | None,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """The hashed content of an event, as JSON-ready values."""
    return {
        "seq": seq,
        "ts": format_ts(ts),
        "type": type,
        "actor": actor,
        "mission_id": str(mission_id) if mission_id else None,
        "run_id": str(run_id) if run_id else None,
        "step_id": step_id,
        "payload": payload,
    }


def compute_hash(prev_hash: str, body: dict[str, Any]) -> str:
    """sha256 hex of ``prev_hash`` followed by the canonical JSON of ``body``."""
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(canonical_json(body).encode("utf-8"))
    return digest.hexdigest()


def hash_event_json(
    prev_hash: str,
    *,
    seq: int,
    ts: datetime,
    type: str,
    actor: str,
    mission_id: uuid.UUID | None,
    run_id: uuid.UUID | None,
    step_id: str | None,
    payload_json: str,
    ts_text: str | None = None,
) -> str:
    """``compute_hash`` for a payload already in canonical JSON, without serialising it again.

    The body's keys are fixed, so its canonical JSON is composed from its sorted keys around
    ``payload_json``; a property test holds this equal to ``compute_hash(prev, event_body(...))``.
    ``ts_text`` is ``format_ts(ts)`` when the caller has it (a batch shares one time).
    """
    body = (
        '{"actor":' + _json_text(actor)
        + ',"mission_id":' + ('"' + str(mission_id) + '"' if mission_id else "null")
        + ',"payload":' + payload_json
        + ',"run_id":' + ('"' + str(run_id) + '"' if run_id else "null")
        + ',"seq":' + str(seq)
        + ',"step_id":' + ("null" if step_id is None else _json_text(step_id))
        + ',"ts":"' + (ts_text or format_ts(ts)) + '"'
        + ',"type":' + _json_text(type)
        + "}"
    )  # fmt: skip
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(body.encode("utf-8"))
    return digest.hexdigest()


def payload_text_problem(text: str) -> str | None:
    """Why ``text`` is not a payload as the log writes it, or ``None`` if it is one.

    The log stores each payload as the canonical JSON of an object, and hashes that text. Any
    other text of the same value (whitespace, key order, a number written differently) or text
    with a duplicate key is refused: readers that parse it could disagree on what it says (one
    JSON reader takes the first of two ``"status"`` keys, another the last).
    """
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
        if type(value) is not dict:
            return "not a JSON object"
        canonical = canonical_json(value)
    except ValueError as exc:  # malformed JSON, a duplicate key, NaN or an infinite number
        return f"not JSON the log writes ({exc})"
    if canonical != text:
        return "not canonical JSON (whitespace, key order or a number's form differs)"
    return None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        counts = Counter(key for key, _ in pairs)
        raise ValueError(f"duplicate key {next(k for k, n in counts.items() if n > 1)!r}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Result of recomputing the chain: ``ok`` with ``count`` events, or the first break."""

    ok: bool
    count: int
    broken_seq: int | None = None
    reason: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"OK {self.count} events"
        return f"BROKEN at seq {self.broken_seq}: {self.reason}"
