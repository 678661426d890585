"""Run receipts: one signed JSON document that vouches for a run, checked offline.

A receipt binds a run's events (its entries in the hash chain, each with both of its hashes),
the digest of each step's outputs, each artifact's hash and size, and each approval's decision,
and is signed with the audit signing key (``eventlog.checkpoints``). Whoever holds the public
key checks it with no database and no settings: each entry's hash is recomputed from its fields
as the chain computes it, each step, artifact and approval is matched with the entry that
recorded it, and the signature must hold over the whole document.

The document (``format`` is :data:`RECEIPT_FORMAT`)::

    {"format", "issued_at",
     "run": {"id", "workflow", "version", "status", "mission_id"},
     "chain": {"first_seq", "last_seq", "head_seq", "head_hash"},
     "entries": [{"seq", "ts", "type", "actor", "mission_id", "run_id", "step_id", "payload",
                  "prev_hash", "hash"}, ...],
     "steps": [{"step_id", "status", "attempt", "outputs_sha256"}, ...],
     "artifacts": [{"artifact_id", "name", "sha256", "size", "step_id"}, ...],
     "approvals": [{"approval_id", "step_id", "decision", "decided_by", "decided_by_user",
                    "decided_at"}, ...],
     "signature": {"algorithm": "ed25519", "key_id", "value"}}

``signature.value`` is the base64 Ed25519 signature of the UTF-8 canonical JSON (keys sorted,
no whitespace) of the document without ``signature``. The file holds the same document as
indented JSON, for people to read. ``chain.head_seq`` and ``chain.head_hash`` are the log's head
when the receipt was issued. The entries of one run are not contiguous in the chain (other runs'
events fall between them), so each entry's ``prev_hash`` is checked against the entry before it
only where their ``seq`` are adjacent.
"""

import base64
import binascii
import collections
import hashlib
import itertools
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from missionctl.bounded_reads import TooLarge, read_file
from missionctl.db.types import canonical_json
from missionctl.domain.events import OUTPUTS_DIGEST_KEY
from missionctl.eventlog.chain import GENESIS_HASH, compute_hash, format_ts
from missionctl.eventlog.checkpoints import SigningKey
from missionctl.eventlog.store import EventRecord

RECEIPT_FORMAT = "missionctl-run-receipt/1"
"""The ``format`` of every receipt this code writes and reads."""

RECEIPT_MAX_BYTES = 64 * 1024 * 1024
"""The largest receipt file :func:`read_receipt` reads (a run of ~100,000 events fits)."""

PAYLOAD_MAX_DEPTH = 100
"""The deepest nesting of an entry's payload a receipt may hold (the payload itself is 1).

Far below the interpreter's recursion limit, so that serialising a payload that was read never
fails on its depth; an event's payload is a few levels deep.
"""

SIGNATURE_ALGORITHM = "ed25519"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_TS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_FIX = "the receipt was damaged or edited: get it again from whoever issued it"
_SCALARS = frozenset({str, int, bool, type(None)})
# The events that record an approval's decision, and the decision each records.
_DECIDED_TYPES = {"approval.approved": "approved", "approval.rejected": "rejected"}
_APPROVAL_TYPES = ("approval.", "step.")


class ReceiptError(ValueError):
    """A receipt that cannot be read: not JSON, not this format, or a field of the wrong shape.

    The message names the field (``entries[3].hash: not 64 lower-case hex digits``) and the fix.

    Attributes:
        field: The path of the field at fault (``entries[3].hash``); ``receipt`` when the text
            as a whole is (not JSON, nested too deeply), ``None`` when the file is unreadable.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _refuse(field: str, problem: str) -> ReceiptError:
    return ReceiptError(f"{field}: {problem}; {_FIX}", field=field)


# Each field's check: what is wrong with a value, or ``None`` when it is right.
_Check = Callable[[Any], str | None]


def _text(value: Any) -> str | None:
    return None if type(value) is str else "not text"


def _count(value: Any) -> str | None:
    ok = type(value) is int and value >= 0
    return None if ok else "not a whole number of at least 0"


def _seq(value: Any) -> str | None:
    ok = type(value) is int and value >= 1
    return None if ok else "not a whole number of at least 1"


def _hex64(value: Any) -> str | None:
    ok = type(value) is str and _HEX64.fullmatch(value) is not None
    return None if ok else "not 64 lower-case hex digits"


def _key_id(value: Any) -> str | None:
    ok = type(value) is str and _KEY_ID.fullmatch(value) is not None
    return None if ok else "not 16 lower-case hex digits"


def _time(value: Any) -> str | None:
    ok = type(value) is str and _TS.fullmatch(value) is not None
    return None if ok else "not a UTC time as missionctl writes it (2026-01-31T12:00:00.000000Z)"


def _algorithm(value: Any) -> str | None:
    return None if value == SIGNATURE_ALGORITHM else f"not {SIGNATURE_ALGORITHM!r}"


def _signature_value(value: Any) -> str | None:
    try:
        ok = type(value) is str and len(base64.b64decode(value, validate=True)) == 64
    except (binascii.Error, ValueError):
        ok = False
    return None if ok else "not the base64 of a 64-byte Ed25519 signature"


def _optional(check: _Check) -> _Check:
    def optional(value: Any) -> str | None:
        problem = None if value is None else check(value)
        return None if problem is None else f"{problem} or null"

    return optional


def _payload(value: Any) -> str | None:
    """What keeps ``value`` from being a payload as the log stores it (a JSON object)."""
    if type(value) is not dict:
        return "not a JSON object"
    # Iterative: a payload nested deeper than the recursion limit is refused, not a crash.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is dict or kind is list:
            if depth > PAYLOAD_MAX_DEPTH:
                return f"nested deeper than {PAYLOAD_MAX_DEPTH} levels"
            if kind is dict and any(type(key) is not str for key in item):
                return "holds a key that is not text"
            children = item.values() if kind is dict else item
            stack.extend((child, depth + 1) for child in children)
        elif kind is float:
            if not math.isfinite(item):
                return "holds a number that is not finite (NaN or infinity)"
        elif kind not in _SCALARS:
            return f"holds a {kind.__name__}, which is not JSON"
    return None


_OPTIONAL_TEXT = _optional(_text)
_RUN: dict[str, _Check] = {
    "id": _text,
    "workflow": _text,
    "version": _count,
    "status": _text,
    "mission_id": _OPTIONAL_TEXT,
}
_CHAIN: dict[str, _Check] = {
    "first_seq": _seq,
    "last_seq": _seq,
    "head_seq": _seq,
    "head_hash": _hex64,
}
_ENTRY: dict[str, _Check] = {
    "seq": _seq,
    "ts": _time,
    "type": _text,
    "actor": _text,
    "mission_id": _OPTIONAL_TEXT,
    "run_id": _OPTIONAL_TEXT,
    "step_id": _OPTIONAL_TEXT,
    "payload": _payload,
    "prev_hash": _hex64,
    "hash": _hex64,
}
_STEP: dict[str, _Check] = {
    "step_id": _text,
    "status": _text,
    "attempt": _count,
    "outputs_sha256": _optional(_hex64),
}
_ARTIFACT: dict[str, _Check] = {
    "artifact_id": _text,
    "name": _text,
    "sha256": _hex64,
    "size": _count,
    "step_id": _OPTIONAL_TEXT,
}
_APPROVAL: dict[str, _Check] = {
    "approval_id": _text,
    "step_id": _text,
    "decision": _OPTIONAL_TEXT,
    "decided_by": _OPTIONAL_TEXT,
    "decided_by_user": _OPTIONAL_TEXT,
    "decided_at": _optional(_time),
}
_SIGNATURE: dict[str, _Check] = {
    "algorithm": _algorithm,
    "key_id": _key_id,
    "value": _signature_value,
}
_TOP = ("format", "run", "issued_at", "chain", "entries", "steps", "artifacts", "approvals")


def _check_names(value: Any, path: str, names: Sequence[str]) -> None:
    """Refuse ``value`` unless it is an object with exactly the fields ``names``."""
    if type(value) is not dict:
        raise _refuse(path or "receipt", "not a JSON object")
    where = f"{path}." if path else ""
    missing = [name for name in names if name not in value]
    if missing:
        raise _refuse(where + missing[0], "missing")
    unknown = [name for name in value if name not in names]
    if unknown:
        raise _refuse(f"{where}{unknown[0]}", "not a field of a run receipt")


def _check_object(value: Any, path: str, fields: Mapping[str, _Check]) -> None:
    _check_names(value, path, list(fields))
    for name, check in fields.items():
        problem = check(value[name])
        if problem is not None:
            raise _refuse(f"{path}.{name}", problem)


def _check_list(value: Any, path: str, fields: Mapping[str, _Check]) -> None:
    if type(value) is not list:
        raise _refuse(path, "not a JSON list")
    for index, item in enumerate(value):
        _check_object(item, f"{path}[{index}]", fields)


def _check_document(document: Any, *, signed: bool) -> bytes:
    """Check every field of ``document``; return the bytes its signature covers.

    Raises:
        ReceiptError: a field is missing, unknown or of the wrong shape (the error names it).
    """
    if type(document) is not dict:
        raise _refuse("receipt", "not a JSON object")
    if document.get("format") != RECEIPT_FORMAT:
        message = f"format: not {RECEIPT_FORMAT}: this is not a run receipt this version reads"
        raise ReceiptError(message, field="format")
    _check_names(document, "", [*_TOP, "signature"] if signed else _TOP)
    _check_object(document["run"], "run", _RUN)
    problem = _time(document["issued_at"])
    if problem is not None:
        raise _refuse("issued_at", problem)
    _check_object(document["chain"], "chain", _CHAIN)
    _check_list(document["entries"], "entries", _ENTRY)
    if not document["entries"]:
        raise _refuse("entries", "empty (a receipt holds at least the run's run.created event)")
    _check_list(document["steps"], "steps", _STEP)
    _check_list(document["artifacts"], "artifacts", _ARTIFACT)
    _check_list(document["approvals"], "approvals", _APPROVAL)
    if signed:
        _check_object(document["signature"], "signature", _SIGNATURE)
    return _signed_bytes(document)


def _signed_bytes(document: Mapping[str, Any]) -> bytes:
    """The UTF-8 canonical JSON of ``document`` without its signature."""
    unsigned = {name: value for name, value in document.items() if name != "signature"}
    try:
        return canonical_json(unsigned).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, which JSON text may spell as \ud800
        raise _refuse("receipt", "holds text that is not valid Unicode") from exc
    except (TypeError, ValueError, RecursionError) as exc:
        raise _refuse("receipt", f"not JSON ({exc})") from exc


def entry_of(record: EventRecord) -> dict[str, Any]:
    """The receipt entry of a stored event: its hashed fields as JSON values, and both hashes.

    The payload is copied through its canonical JSON: the entry holds what a reader of the log
    gets back, which hashes as the stored event did.
    """
    return {
        "seq": record.seq,
        "ts": format_ts(record.ts),
        "type": record.type,
        "actor": record.actor,
        "mission_id": str(record.mission_id) if record.mission_id else None,
        "run_id": str(record.run_id) if record.run_id else None,
        "step_id": record.step_id,
        "payload": json.loads(canonical_json(record.payload)),
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The hash ``chain.compute_hash`` gives the event ``entry`` holds, from its fields.

    The body is ``chain.event_body``'s, built from the entry's text (its ``ts`` is already
    ``format_ts`` text), so it equals the stored event's hash while the entry is unchanged.
    """
    body = {
        name: entry[name]
        for name in ("seq", "ts", "type", "actor", "mission_id", "run_id", "step_id", "payload")
    }
    return compute_hash(entry["prev_hash"], body)


def outputs_digest(outputs: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON of a step's outputs (its events' ``outputs_sha256``).

    Raises:
        TypeError, ValueError: the outputs are not JSON.
    """
    return hashlib.sha256(canonical_json(dict(outputs)).encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    """``value`` as the JSON value a receipt holds: ids and enums as text, times as ``ts``."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{value} has no time zone: a receipt holds UTC times")
        return format_ts(value)
    if isinstance(value, str) and type(value) is not str:
        return str.__str__(value)  # a StrEnum's value, as plain text
    if isinstance(value, int) and type(value) not in (int, bool):
        return int(value)
    return value


def _pick(item: Mapping[str, Any], path: str, fields: Mapping[str, _Check]) -> dict[str, Any]:
    missing = [name for name in fields if name not in item]
    if missing:
        raise ReceiptError(f"{path}.{missing[0]}: missing", field=f"{path}.{missing[0]}")
    return {name: _plain(item[name]) for name in fields}


def _chain_of(
    entries: Sequence[Mapping[str, Any]], head_seq: int, head_hash: str
) -> dict[str, Any]:
    first, last = entries[0].get("seq"), entries[-1].get("seq")
    return {"first_seq": first, "last_seq": last, "head_seq": head_seq, "head_hash": head_hash}


def build_receipt(
    *,
    run: Mapping[str, Any],
    entries: Sequence[Mapping[str, Any]],
    steps: Sequence[Mapping[str, Any]],
    artifacts: Sequence[Mapping[str, Any]],
    approvals: Sequence[Mapping[str, Any]],
    head_seq: int,
    head_hash: str,
    issued_at: datetime,
) -> dict[str, Any]:
    """The unsigned receipt of a run (:func:`sign_receipt` signs it).

    Args:
        run: ``id``, ``workflow``, ``version``, ``status``, ``mission_id``.
        entries: The run's events as :func:`entry_of` gives them, in ascending ``seq``.
        steps: Each ``step_id``, ``status``, ``attempt``, ``outputs_sha256`` (or ``None``).
        artifacts: Each ``artifact_id``, ``name``, ``sha256``, ``size``, ``step_id``.
        approvals: Each as in the module docstring (``decision`` ``None``: undecided).
        head_seq: The log's head when the receipt is issued.
        head_hash: The hash of the event at ``head_seq``.
        issued_at: When (timezone-aware).

    Only those fields are kept from each mapping; UUIDs become text and times ``format_ts``
    text. ``chain.first_seq`` and ``chain.last_seq`` are the first and last entry's ``seq``.

    Raises:
        ValueError: ``entries`` is empty or not in ascending ``seq``, a time has no time zone,
            or a field is missing or of the wrong shape (a :class:`ReceiptError` naming it).
    """
    if not entries:
        raise ValueError("a receipt needs the run's events: entries is empty")
    document = {
        "format": RECEIPT_FORMAT,
        "run": _pick(run, "run", _RUN),
        "issued_at": _plain(issued_at),
        "chain": _chain_of(entries, head_seq, head_hash),
        "entries": [dict(entry) for entry in entries],
        "steps": [_pick(step, f"steps[{i}]", _STEP) for i, step in enumerate(steps)],
        "artifacts": [_pick(a, f"artifacts[{i}]", _ARTIFACT) for i, a in enumerate(artifacts)],
        "approvals": [_pick(a, f"approvals[{i}]", _APPROVAL) for i, a in enumerate(approvals)],
    }
    _check_document(document, signed=False)
    seqs = [entry["seq"] for entry in document["entries"]]
    if any(later <= earlier for earlier, later in itertools.pairwise(seqs)):
        raise ValueError("entries must be in ascending seq, each event once")
    return document


def sign_receipt(document: Mapping[str, Any], key: SigningKey) -> dict[str, Any]:
    """A copy of ``document`` with its ``signature`` by ``key`` (any signature it had replaced).

    The signature covers the UTF-8 canonical JSON of the document without ``signature``.

    Raises:
        ReceiptError: ``document`` is not an unsigned receipt's shape; the error names the field.
    """
    unsigned = {name: value for name, value in document.items() if name != "signature"}
    data = _check_document(unsigned, signed=False)
    value = base64.b64encode(key.private_key.sign(data)).decode("ascii")
    signature = {"algorithm": SIGNATURE_ALGORITHM, "key_id": key.key_id, "value": value}
    return {**unsigned, "signature": signature}


def receipt_text(document: Mapping[str, Any]) -> str:
    """The receipt file's text: indented JSON with sorted keys, non-ASCII kept, a final newline.

    Raises:
        ValueError: a number in ``document`` is not finite (JSON has no NaN).
    """
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True, allow_nan=False)
    return text + "\n"


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two readers of a repeated key may take either value: a signature would vouch for both.
    value = dict(pairs)
    if len(value) != len(pairs):
        counts = collections.Counter(key for key, _ in pairs)
        repeated = next(key for key, count in counts.items() if count > 1)
        raise ValueError(f"the key {repeated!r} is repeated in one object")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999 reads as infinity
        raise ValueError(f"{text} is too large a number for JSON")
    return number


def parse_receipt(text: str) -> dict[str, Any]:
    """The receipt ``text`` holds, with every field's shape checked (not its signature).

    Raises:
        ReceiptError: ``text`` is not JSON (NaN, infinity and repeated keys included), is
            nested too deeply to read, or is not a signed receipt of :data:`RECEIPT_FORMAT`;
            the message names the field at fault and the fix.
    """
    try:
        document = json.loads(
            text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite
        )
    except RecursionError:
        # Raised while the stack is deep: nothing of it is kept.
        raise _refuse("receipt", "nested too deeply to be a run receipt") from None
    except ValueError as exc:  # JSONDecodeError, a repeated key, NaN, a huge integer
        raise _refuse("receipt", f"not JSON ({exc})") from exc
    _check_document(document, signed=True)
    result: dict[str, Any] = document
    return result


def read_receipt(path: Path) -> dict[str, Any]:
    """The receipt in the file at ``path`` (blocking), as :func:`parse_receipt` checks it.

    At most :data:`RECEIPT_MAX_BYTES` are read, whatever the file is (a FIFO, a device).

    Raises:
        ReceiptError: the file cannot be read, is larger than the limit, is not UTF-8, or
            :func:`parse_receipt` refuses its text; the message names the path.
    """
    fix = f"a run receipt is at most {RECEIPT_MAX_BYTES} bytes: this file is not one"
    try:
        text = read_file(path, limit=RECEIPT_MAX_BYTES, fix=fix).decode("utf-8")
    except TooLarge as exc:
        raise ReceiptError(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise ReceiptError(f"{path}: not UTF-8 text ({exc.reason}); {_FIX}") from exc
    except OSError as exc:
        raise ReceiptError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        return parse_receipt(text)
    except ReceiptError as exc:
        raise ReceiptError(f"{path}: {exc}", field=exc.field) from exc


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    """What checking a receipt found.

    Attributes:
        problems: Each thing wrong, in the order checked (empty: the receipt holds).
        first_divergent_seq: The first entry that was changed (its hash does not recompute),
            or else the first entry a step, artifact or approval disagrees with; ``None`` when
            no entry is known to be at fault.
        key_id: The key the receipt says signed it.
        entries: How many entries it holds.
    """

    problems: list[str]
    first_divergent_seq: int | None
    key_id: str
    entries: int

    @property
    def ok(self) -> bool:
        """Whether the receipt holds: every check passed."""
        return not self.problems


# A problem a step, artifact or approval check found, with the seq of the entry it disagrees
# with when there is one.
_Finding = tuple[str, int | None]


def _named(entry: Mapping[str, Any]) -> str:
    return f"entry seq {entry['seq']} (type {entry['type']})"


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 16 else text[:16] + "…"


def _changed_entry(entries: Sequence[Mapping[str, Any]]) -> tuple[int, str] | None:
    """The first entry whose hash does not recompute from its fields, and the problem."""
    for entry in entries:
        if entry_hash(entry) != entry["hash"]:
            problem = f"{_named(entry)}: its hash does not match its content: the entry was changed"
            return entry["seq"], problem
    return None


def _order_problems(document: Mapping[str, Any]) -> list[str]:
    """Whether the entries are the run's, in order, within ``chain`` and up to the head."""
    chain, entries = document["chain"], document["entries"]
    first, last, head = chain["first_seq"], chain["last_seq"], chain["head_seq"]
    problems: list[str] = []
    if entries[0]["seq"] != first:
        problems.append(
            f"chain.first_seq is {first} but the first entry is seq {entries[0]['seq']}"
        )
    if entries[-1]["seq"] != last:
        problems.append(f"chain.last_seq is {last} but the last entry is seq {entries[-1]['seq']}")
    if last > head:
        problems.append(f"chain.last_seq {last} is past the log's head (chain.head_seq {head})")
    previous: Mapping[str, Any] | None = None
    for entry in entries:
        problems += _place_problems(entry, previous, document["run"]["id"], chain)
        previous = entry
    return problems


def _place_problems(
    entry: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    run_id: str,
    chain: Mapping[str, Any],
) -> list[str]:
    """What is wrong with where ``entry`` stands: its order, its run, its links in the chain."""
    seq, name = entry["seq"], _named(entry)
    first, last = chain["first_seq"], chain["last_seq"]
    problems: list[str] = []
    if previous is not None and seq <= previous["seq"]:
        problems.append(f"{name} comes after seq {previous['seq']}: entries ascend by seq")
    if not first <= seq <= last:
        problems.append(f"{name} is outside chain.first_seq..chain.last_seq ({first}..{last})")
    if entry["run_id"] != run_id:
        problems.append(f"{name} is an event of run {entry['run_id']}, not of run {run_id}")
    # Other runs' events fall between a run's: only adjacent entries must link.
    if (
        previous is not None
        and seq == previous["seq"] + 1
        and entry["prev_hash"] != previous["hash"]
    ):
        problems.append(f"{name}: its prev_hash is not the hash of entry seq {seq - 1}")
    if seq == 1 and entry["prev_hash"] != GENESIS_HASH:
        problems.append(f"{name}: the first event's prev_hash is not the genesis hash")
    if seq == chain["head_seq"] and entry["hash"] != chain["head_hash"]:
        problems.append(f"{name} is the log's head but its hash is not chain.head_hash")
    return problems


def _step_findings(
    entries: Sequence[Mapping[str, Any]], steps: Sequence[Mapping[str, Any]]
) -> list[_Finding]:
    """Each step's outputs digest against the last entry of the step that recorded one."""
    recorded: dict[str, Mapping[str, Any]] = {}
    for entry in entries:
        if entry["step_id"] is not None and OUTPUTS_DIGEST_KEY in entry["payload"]:
            recorded[entry["step_id"]] = entry
    findings: list[_Finding] = []
    for step in steps:
        digest, name = step["outputs_sha256"], f"step {step['step_id']!r}"
        if digest is None:
            continue
        last = recorded.get(step["step_id"])
        if last is None:
            problem = f"{name}: its outputs digest {_short(digest)} is in none of the run's events"
            findings.append((f"{problem}: the chain does not vouch for its outputs", None))
        elif last["payload"][OUTPUTS_DIGEST_KEY] != digest:
            theirs = _short(last["payload"][OUTPUTS_DIGEST_KEY])
            problem = f"{name}: its outputs digest {_short(digest)} is not the {theirs} that"
            message = f"{problem} {_named(last)} recorded: the step's outputs were changed"
            findings.append((message, last["seq"]))
    return findings


def _artifact_findings(
    entries: Sequence[Mapping[str, Any]], artifacts: Sequence[Mapping[str, Any]]
) -> list[_Finding]:
    """Each artifact's hash and size against its ``artifact.created`` entry."""
    created = {
        entry["payload"].get("artifact_id"): entry
        for entry in entries
        if entry["type"] == "artifact.created"
    }
    findings: list[_Finding] = []
    for artifact in artifacts:
        name = f"artifact {artifact['name']!r} ({artifact['artifact_id']})"
        entry = created.get(artifact["artifact_id"])
        if entry is None:
            findings.append((f"{name} is in no artifact.created event of the run", None))
            continue
        payload = entry["payload"]
        differ = [
            f"its {field} {_short(artifact[field])} is not the {_short(payload.get(field))}"
            for field in ("sha256", "size")
            if payload.get(field) != artifact[field]
        ]
        if differ:
            message = f"{name}: {' and '.join(differ)} {_named(entry)} recorded"
            findings.append((f"{message}: the artifact was changed", entry["seq"]))
    return findings


def _recorded_decision(entry: Mapping[str, Any]) -> Any:
    """The decision ``entry`` records (its type's, or its payload's ``decision``), or ``None``."""
    return _DECIDED_TYPES.get(entry["type"], entry["payload"].get("decision"))


def _agrees(approval: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    """Whether ``entry`` records ``approval``'s decision, by the same person."""
    payload = entry["payload"]
    if "decided_by" not in payload or payload["decided_by"] != approval["decided_by"]:
        return False
    if payload.get("decided_by_user", approval["decided_by_user"]) != approval["decided_by_user"]:
        return False
    recorded = _recorded_decision(entry)
    # Lenient: a step event that names the approval and its decider need not say the decision.
    return recorded is None or recorded == approval["decision"]


def _approval_findings(
    entries: Sequence[Mapping[str, Any]], approvals: Sequence[Mapping[str, Any]]
) -> list[_Finding]:
    """Each approval's decision against the entries that name the approval."""
    naming: dict[str, list[Mapping[str, Any]]] = {}
    for entry in entries:
        approval_id = entry["payload"].get("approval_id")
        if isinstance(approval_id, str) and entry["type"].startswith(_APPROVAL_TYPES):
            naming.setdefault(approval_id, []).append(entry)
    findings = [_approval_finding(a, naming.get(a["approval_id"], [])) for a in approvals]
    return [finding for finding in findings if finding is not None]


def _approval_finding(
    approval: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]]
) -> _Finding | None:
    name = f"approval {approval['approval_id']} (step {approval['step_id']!r})"
    decided = [entry for entry in candidates if _recorded_decision(entry) is not None]
    decision, by = approval["decision"], approval["decided_by"]
    if decision is None:
        if not decided:
            return None
        entry = decided[-1]
        recorded = f"{_recorded_decision(entry)} by {entry['payload'].get('decided_by')}"
        message = f"{name} is undecided here, but {_named(entry)} records it {recorded}"
        return f"{message}: the approval was changed", entry["seq"]
    if any(_agrees(approval, entry) for entry in candidates):
        return None
    if not candidates:
        return f"{name}: its decision ({decision} by {by}) is in none of the run's events", None
    entry = (decided or candidates)[-1]
    recorded = f"{_recorded_decision(entry)} by {entry['payload'].get('decided_by')}"
    message = f"{name}: {decision} by {by} here, but {_named(entry)} records {recorded}"
    return f"{message}: the approval was changed", entry["seq"]


def _signature_problem(
    signature: Mapping[str, Any], data: bytes, public_keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    key_id = signature["key_id"]
    key = public_keys.get(key_id)
    if key is None:
        return f"signed by key {key_id}, which is not among the public keys given"
    try:
        key.verify(base64.b64decode(signature["value"], validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return "the signature does not verify: the receipt was changed after it was signed"
    return None


def verify_receipt(
    document: Mapping[str, Any], public_keys: Mapping[str, Ed25519PublicKey]
) -> ReceiptCheck:
    """Check a signed receipt offline, with public keys alone.

    In order: (a) each entry's hash recomputes from its fields (the first that does not is
    reported, and the chain part stops there); (b) the entries ascend by ``seq`` within
    ``chain``, are the run's, link where adjacent, and end at or before the head; (c) each
    step's outputs digest is the one its last digest-carrying entry recorded; (d) each
    artifact's hash and size are its ``artifact.created`` entry's; (e) each decided approval
    is recorded by an ``approval.*`` or ``step.*`` entry naming it, its decider and no other
    decision; (f) the signature is by a key of ``public_keys`` and holds. Every problem is
    reported: an entry changed after signing fails (a) and (f).

    Raises:
        ReceiptError: ``document`` is not a signed receipt's shape (as :func:`parse_receipt`
            checks it); the error names the field.
    """
    data = _check_document(document, signed=True)
    entries = document["entries"]
    problems: list[str] = []
    changed = _changed_entry(entries)
    if changed is not None:
        problems.append(changed[1])
    problems += _order_problems(document)
    findings = [
        *_step_findings(entries, document["steps"]),
        *_artifact_findings(entries, document["artifacts"]),
        *_approval_findings(entries, document["approvals"]),
    ]
    problems += [message for message, _ in findings]
    signature_problem = _signature_problem(document["signature"], data, public_keys)
    if signature_problem is not None:
        problems.append(signature_problem)
    referenced = [seq for _, seq in findings if seq is not None]
    first = changed[0] if changed is not None else min(referenced, default=None)
    return ReceiptCheck(problems, first, document["signature"]["key_id"], len(entries))
