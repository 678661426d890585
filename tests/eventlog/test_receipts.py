"""Run receipts: a run's events, outputs, artifacts and approvals, signed and checked offline.

No database: the events are made by hand and chained through ``chain.py`` as the log chains
them, so a receipt's entries hash as the stored events do.
"""

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from missionctl.db.types import canonical_json
from missionctl.eventlog import receipts
from missionctl.eventlog.chain import GENESIS_HASH, compute_hash, event_body, hash_event_json
from missionctl.eventlog.checkpoints import SigningKey, new_signing_key
from missionctl.eventlog.receipts import (
    OUTPUTS_DIGEST_KEY,
    RECEIPT_FORMAT,
    ReceiptError,
    build_receipt,
    entry_hash,
    entry_of,
    outputs_digest,
    parse_receipt,
    read_receipt,
    receipt_text,
    sign_receipt,
    verify_receipt,
)
from missionctl.eventlog.store import EventRecord

RUN_ID = uuid.UUID("11111111-1111-4111-8111-111111111111")
OTHER_RUN_ID = uuid.UUID("22222222-2222-4222-8222-222222222222")
MISSION_ID = uuid.UUID("33333333-3333-4333-8333-333333333333")
ARTIFACT_ID = "44444444-4444-4444-8444-444444444444"
APPROVAL_ID = "55555555-5555-4555-8555-555555555555"
OUTPUTS = {"answer": 42, "notes": "déjà vu", "ratio": 0.25}
ARTIFACT_SHA = "ab" * 32
T0 = datetime(2026, 3, 1, 9, 30, 0, 125000, tzinfo=UTC)


def _chain(specs: list[tuple[uuid.UUID, str, str | None, dict[str, Any]]]) -> list[EventRecord]:
    """Events ``(run_id, type, step_id, payload)`` chained from the genesis hash by chain.py."""
    records: list[EventRecord] = []
    prev = GENESIS_HASH
    for seq, (run_id, type_, step_id, payload) in enumerate(specs, start=1):
        ts = T0 + timedelta(seconds=seq)
        fields: dict[str, Any] = {
            "seq": seq,
            "ts": ts,
            "type": type_,
            "actor": "system",
            "mission_id": MISSION_ID,
            "run_id": run_id,
            "step_id": step_id,
            "payload": payload,
        }
        digest = compute_hash(prev, event_body(**fields))
        records.append(EventRecord(**fields, prev_hash=prev, hash=digest))
        prev = digest
    return records


def _log() -> list[EventRecord]:
    """Seq 3 and 8 are another run's: the run's entries are not contiguous in the chain."""
    decided = {"approval_id": APPROVAL_ID, "decided_by": "user:alice", "decided_by_user": "alice"}
    return _chain(
        [
            (RUN_ID, "run.created", None, {"status": "queued", "output_digests": True}),
            (RUN_ID, "step.started", "build", {"status": "running", "attempt": 1}),
            (OTHER_RUN_ID, "run.created", None, {"status": "queued"}),
            (
                RUN_ID,
                "step.succeeded",
                "build",
                {"status": "succeeded", "attempt": 1, OUTPUTS_DIGEST_KEY: outputs_digest(OUTPUTS)},
            ),
            (
                RUN_ID,
                "artifact.created",
                "build",
                {
                    "artifact_id": ARTIFACT_ID,
                    "name": "report.md",
                    "sha256": ARTIFACT_SHA,
                    "size": 12,
                },
            ),
            (RUN_ID, "approval.requested", "deploy", {"approval_id": APPROVAL_ID, "attempt": 1}),
            (
                RUN_ID,
                "approval.approved",
                "deploy",
                {**decided, "status": "queued", "reason": "ok"},
            ),
            (OTHER_RUN_ID, "step.started", "lint", {"status": "running", "attempt": 1}),
        ]
    )


def _unsigned() -> dict[str, Any]:
    log = _log()
    mine = [record for record in log if record.run_id == RUN_ID]
    return build_receipt(
        run={
            "id": RUN_ID,
            "workflow": "ship",
            "version": 2,
            "status": "running",
            "mission_id": MISSION_ID,
            "ignored": "not a receipt field",
        },
        entries=[entry_of(record) for record in mine],
        steps=[
            {
                "step_id": "build",
                "status": "succeeded",
                "attempt": 1,
                "outputs_sha256": outputs_digest(OUTPUTS),
            },
            {"step_id": "deploy", "status": "queued", "attempt": 1, "outputs_sha256": None},
        ],
        artifacts=[
            {
                "artifact_id": uuid.UUID(ARTIFACT_ID),
                "name": "report.md",
                "sha256": ARTIFACT_SHA,
                "size": 12,
                "step_id": "build",
            }
        ],
        approvals=[
            {
                "approval_id": APPROVAL_ID,
                "step_id": "deploy",
                "decision": "approved",
                "decided_by": "user:alice",
                "decided_by_user": "alice",
                "decided_at": T0 + timedelta(seconds=7),
            }
        ],
        head_seq=log[-1].seq,
        head_hash=log[-1].hash,
        issued_at=T0 + timedelta(minutes=5),
    )


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_signing_key()


@pytest.fixture
def signed(key: SigningKey) -> dict[str, Any]:
    return sign_receipt(_unsigned(), key)


def _keys(key: SigningKey) -> dict[str, Any]:
    return {key.key_id: key.public_key}


def _entry(document: dict[str, Any], seq: int) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in document["entries"] if e["seq"] == seq)
    return found


# --- hashing: an entry hashes as chain.py hashed the stored event ---------------------------


def test_an_entry_hashes_as_the_chain_hashed_its_event() -> None:
    for record in _log():
        entry = entry_of(record)
        assert entry_hash(entry) == record.hash
        assert entry["ts"].endswith("Z") and entry["run_id"] == str(record.run_id)
        # Through the file's text too: what is read back hashes the same.
        assert entry_hash(json.loads(receipt_text(entry))) == record.hash


def test_an_entry_hashes_as_the_fast_path_hashed_it_whatever_its_time_zone() -> None:
    ts = datetime(2026, 3, 1, 11, 0, 0, 7, tzinfo=timezone(timedelta(hours=2)))
    payload = {"text": "ünïcode ✓", "nested": {"b": [1, 2.5, None, True]}, "a": -0.0}
    fields: dict[str, Any] = {
        "seq": 41,
        "ts": ts,
        "type": "step.log",
        "actor": "agent:ü-bot",
        "mission_id": None,
        "run_id": RUN_ID,
        "step_id": "Ünïcode step",
        "payload": payload,
    }
    digest = compute_hash("c" * 64, event_body(**fields))
    head = {name: value for name, value in fields.items() if name != "payload"}
    assert hash_event_json("c" * 64, **head, payload_json=canonical_json(payload)) == digest
    record = EventRecord(**fields, prev_hash="c" * 64, hash=digest)
    assert entry_hash(entry_of(record)) == digest


def test_outputs_digest_does_not_depend_on_key_order() -> None:
    assert outputs_digest({"a": 1, "b": [1, 2]}) == outputs_digest({"b": [1, 2], "a": 1})
    assert outputs_digest({}) == outputs_digest({})
    assert len(outputs_digest(OUTPUTS)) == 64


# --- a receipt that holds ----------------------------------------------------------------


def test_a_signed_receipt_verifies_with_its_key(signed: dict[str, Any], key: SigningKey) -> None:
    check = verify_receipt(signed, _keys(key))
    assert check.problems == []
    assert check.ok
    assert check.first_divergent_seq is None
    assert check.key_id == key.key_id
    assert check.entries == 6
    assert signed["chain"] == {
        "first_seq": 1,
        "last_seq": 7,
        "head_seq": 8,
        "head_hash": _log()[-1].hash,
    }
    assert signed["run"]["id"] == str(RUN_ID)
    assert signed["artifacts"][0]["artifact_id"] == ARTIFACT_ID
    assert signed["approvals"][0]["decided_at"] == "2026-03-01T09:30:07.125000Z"


def test_a_receipt_verifies_after_a_round_trip_through_its_file(
    signed: dict[str, Any], key: SigningKey, tmp_path: Path
) -> None:
    path = tmp_path / "receipt.json"
    text = receipt_text(signed)
    assert text.endswith("}\n") and "\n  " in text  # indented for people
    path.write_text(text, encoding="utf-8")
    read = read_receipt(path)
    assert read == signed
    assert verify_receipt(read, _keys(key)).ok


def test_signing_leaves_the_document_as_it_was(key: SigningKey) -> None:
    unsigned = _unsigned()
    before = copy.deepcopy(unsigned)
    signed = sign_receipt(unsigned, key)
    assert unsigned == before
    assert "signature" not in unsigned
    assert signed["signature"]["key_id"] == key.key_id
    # Signing a signed receipt again replaces its signature.
    assert sign_receipt(signed, key) == signed


def test_building_a_receipt_without_entries_is_refused() -> None:
    document = _unsigned()
    with pytest.raises(ValueError, match="entries"):
        build_receipt(
            run=document["run"],
            entries=[],
            steps=[],
            artifacts=[],
            approvals=[],
            head_seq=1,
            head_hash="0" * 64,
            issued_at=T0,
        )


def test_building_a_receipt_refuses_entries_out_of_order_and_a_missing_field() -> None:
    document = _unsigned()
    kwargs: dict[str, Any] = {
        "run": document["run"],
        "steps": [],
        "artifacts": [],
        "approvals": [],
        "head_seq": 8,
        "head_hash": "0" * 64,
        "issued_at": T0,
    }
    with pytest.raises(ValueError, match="ascending"):
        build_receipt(entries=document["entries"][::-1], **kwargs)
    with pytest.raises(ReceiptError, match=r"artifacts\[0\]\.sha256: missing"):
        build_receipt(
            entries=document["entries"],
            **{**kwargs, "artifacts": [{"artifact_id": "a", "name": "x"}]},
        )
    with pytest.raises(ValueError, match="time zone"):
        build_receipt(entries=document["entries"], **{**kwargs, "issued_at": datetime(2026, 1, 1)})


# --- a receipt that was changed ------------------------------------------------------------


@pytest.mark.parametrize("seq", [1, 4, 7])
def test_a_changed_payload_names_its_entry(
    signed: dict[str, Any], key: SigningKey, seq: int
) -> None:
    _entry(signed, seq)["payload"]["status"] = "forged"
    check = verify_receipt(signed, _keys(key))
    assert not check.ok
    assert check.first_divergent_seq == seq
    assert check.problems[0].startswith(f"entry seq {seq} (type ")
    assert "its hash does not match its content" in check.problems[0]
    # Changed after signing: the signature no longer holds either.
    assert check.problems[-1].startswith("the signature does not verify")


def test_only_the_first_changed_entry_is_named(signed: dict[str, Any], key: SigningKey) -> None:
    _entry(signed, 2)["actor"] = "user:mallory"
    _entry(signed, 5)["ts"] = "2026-03-01T09:30:05.000000Z"
    check = verify_receipt(signed, _keys(key))
    assert check.first_divergent_seq == 2
    assert sum("does not match its content" in p for p in check.problems) == 1


def test_an_entry_changed_with_its_hash_recomputed_fails_the_signature(
    signed: dict[str, Any], key: SigningKey
) -> None:
    entry = _entry(signed, 1)
    entry["payload"]["status"] = "forged"
    entry["hash"] = entry_hash(entry)
    check = verify_receipt(signed, _keys(key))
    assert not check.ok
    assert "the signature does not verify: the receipt was changed after it was signed" in (
        check.problems
    )
    # Seq 2 follows seq 1 in the chain: its prev_hash no longer links.
    assert any("entry seq 2" in p and "prev_hash" in p for p in check.problems)


def test_a_changed_step_digest_is_refused(signed: dict[str, Any], key: SigningKey) -> None:
    signed["steps"][0]["outputs_sha256"] = outputs_digest({"answer": 43})
    check = verify_receipt(signed, _keys(key))
    assert not check.ok
    assert any(p.startswith("step 'build': its outputs digest") for p in check.problems)
    assert check.first_divergent_seq == 4


def test_a_step_digest_no_event_recorded_is_refused(
    signed: dict[str, Any], key: SigningKey
) -> None:
    signed["steps"][1]["outputs_sha256"] = outputs_digest({})
    check = verify_receipt(signed, _keys(key))
    assert any("step 'deploy'" in p and "none of the run's events" in p for p in check.problems)
    assert check.first_divergent_seq is None


def test_a_changed_artifact_hash_is_refused(signed: dict[str, Any], key: SigningKey) -> None:
    signed["artifacts"][0]["sha256"] = "cd" * 32
    check = verify_receipt(signed, _keys(key))
    assert not check.ok
    assert any(
        p.startswith(f"artifact 'report.md' ({ARTIFACT_ID}): its sha256") for p in check.problems
    )
    assert check.first_divergent_seq == 5


def test_a_changed_artifact_size_is_refused(signed: dict[str, Any], key: SigningKey) -> None:
    signed["artifacts"][0]["size"] = 13
    check = verify_receipt(signed, _keys(key))
    assert any("its size 13 is not the 12" in p for p in check.problems)


def test_a_changed_approval_decision_is_refused(signed: dict[str, Any], key: SigningKey) -> None:
    signed["approvals"][0]["decision"] = "rejected"
    check = verify_receipt(signed, _keys(key))
    assert not check.ok
    named = [p for p in check.problems if p.startswith(f"approval {APPROVAL_ID}")]
    assert named and "records approved by user:alice" in named[0]
    assert check.first_divergent_seq == 7


def test_a_changed_approver_is_refused(signed: dict[str, Any], key: SigningKey) -> None:
    signed["approvals"][0]["decided_by"] = "user:mallory"
    check = verify_receipt(signed, _keys(key))
    assert any(p.startswith(f"approval {APPROVAL_ID}") for p in check.problems)


def test_an_approval_made_undecided_is_refused(signed: dict[str, Any], key: SigningKey) -> None:
    signed["approvals"][0].update(decision=None, decided_by=None, decided_at=None)
    check = verify_receipt(signed, _keys(key))
    assert any("is undecided here" in p for p in check.problems)


def test_a_removed_entry_is_refused(signed: dict[str, Any], key: SigningKey) -> None:
    signed["entries"] = [e for e in signed["entries"] if e["seq"] != 5]
    check = verify_receipt(signed, _keys(key))
    assert any("is in no artifact.created event" in p for p in check.problems)
    assert check.problems[-1].startswith("the signature does not verify")


def test_entries_of_another_run_or_out_of_order_are_refused(
    signed: dict[str, Any], key: SigningKey
) -> None:
    _entry(signed, 2)["run_id"] = str(OTHER_RUN_ID)
    signed["entries"][2], signed["entries"][3] = signed["entries"][3], signed["entries"][2]
    problems = verify_receipt(signed, _keys(key)).problems
    assert any(f"is an event of run {OTHER_RUN_ID}" in p for p in problems)
    assert any("entries ascend by seq" in p for p in problems)


def test_a_chain_past_its_head_is_refused(signed: dict[str, Any], key: SigningKey) -> None:
    signed["chain"]["head_seq"] = 6
    problems = verify_receipt(signed, _keys(key)).problems
    assert any("past the log's head" in p for p in problems)


# --- keys -----------------------------------------------------------------------------------


def test_an_unknown_key_is_refused(signed: dict[str, Any], key: SigningKey) -> None:
    other = new_signing_key()
    check = verify_receipt(signed, _keys(other))
    assert check.problems == [
        f"signed by key {key.key_id}, which is not among the public keys given"
    ]
    assert not check.ok
    assert not verify_receipt(signed, {}).ok


def test_a_wrong_key_is_refused(signed: dict[str, Any], key: SigningKey) -> None:
    other = new_signing_key()
    check = verify_receipt(signed, {key.key_id: other.public_key})
    assert check.problems == [
        "the signature does not verify: the receipt was changed after it was signed"
    ]


def test_a_receipt_signed_by_another_key_id_is_refused(
    signed: dict[str, Any], key: SigningKey
) -> None:
    other = new_signing_key()
    signed["signature"]["key_id"] = other.key_id
    check = verify_receipt(signed, {**_keys(key), **_keys(other)})
    assert check.problems == [
        "the signature does not verify: the receipt was changed after it was signed"
    ]


# --- malformed files ------------------------------------------------------------------------


def _text(signed: dict[str, Any]) -> str:
    return receipt_text(signed)


def _refused(text: str) -> ReceiptError:
    with pytest.raises(ReceiptError) as raised:
        parse_receipt(text)
    return raised.value


def test_text_that_is_not_json_is_refused() -> None:
    error = _refused("{not json")
    assert str(error).startswith("receipt: not JSON")
    assert "get it again" in str(error)
    assert _refused("").field == "receipt"
    assert _refused("[1, 2]").field == "receipt"


def test_a_wrong_format_is_refused(signed: dict[str, Any]) -> None:
    signed["format"] = "missionctl-run-receipt/2"
    error = _refused(_text(signed))
    assert error.field == "format"
    assert str(error).startswith(f"format: not {RECEIPT_FORMAT}")


def test_a_hash_that_is_not_hex_is_refused(signed: dict[str, Any]) -> None:
    signed["entries"][3]["hash"] = "Z" * 64
    error = _refused(_text(signed))
    assert error.field == "entries[3].hash"
    assert str(error).startswith("entries[3].hash: not 64 lower-case hex digits")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["chain"].update(head_hash="ab" * 32 + "\n"), "chain.head_hash"),
        (lambda d: d["run"].update(version=True), "run.version"),
        (lambda d: d["run"].pop("status"), "run.status"),
        (lambda d: d["run"].update(extra=1), "run.extra"),
        (lambda d: d.update(issued_at="yesterday"), "issued_at"),
        (lambda d: d["entries"][0].update(seq=0), "entries[0].seq"),
        (lambda d: d["entries"][1].update(payload=[1]), "entries[1].payload"),
        (lambda d: d["steps"].append("build"), "steps[2]"),
        (lambda d: d["steps"][0].update(outputs_sha256=1), "steps[0].outputs_sha256"),
        (lambda d: d["artifacts"][0].update(size=-1), "artifacts[0].size"),
        (lambda d: d["approvals"][0].update(decided_at=5), "approvals[0].decided_at"),
        (lambda d: d.update(approvals={}), "approvals"),
        (lambda d: d.update(entries=[]), "entries"),
        (lambda d: d.pop("signature"), "signature"),
        (lambda d: d["signature"].update(key_id="ABC"), "signature.key_id"),
        (lambda d: d["signature"].update(algorithm="rsa"), "signature.algorithm"),
        (lambda d: d["signature"].update(value="not base64!"), "signature.value"),
        (lambda d: d["signature"].update(value="AAAA"), "signature.value"),
    ],
)
def test_a_field_of_the_wrong_shape_is_named(
    signed: dict[str, Any], change: Any, field: str
) -> None:
    change(signed)
    error = _refused(_text(signed))
    assert error.field == field
    assert str(error).startswith(f"{field}: ")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_refused(signed: dict[str, Any], constant: str) -> None:
    text = _text(signed).replace('"attempt": 1', f'"attempt": {constant}', 1)
    assert constant in text
    error = _refused(text)
    assert error.field == "receipt"
    assert "not JSON" in str(error)


def test_a_repeated_key_is_refused(signed: dict[str, Any]) -> None:
    text = _text(signed).replace('"format":', '"format": "x", "format":', 1)
    assert "repeated" in str(_refused(text))


def test_deep_nesting_is_refused() -> None:
    error = _refused("[" * 100_000 + "]" * 100_000)
    assert error.field == "receipt"
    assert "nested too deeply" in str(error)
    assert _refused('{"a": ' * 100_000 + "1" + "}" * 100_000).field == "receipt"


def test_a_payload_nested_deeper_than_the_limit_is_refused(signed: dict[str, Any]) -> None:
    deep: Any = 1
    for _ in range(receipts.PAYLOAD_MAX_DEPTH + 5):
        deep = [deep]
    signed["entries"][0]["payload"]["deep"] = deep
    error = _refused(_text(signed))
    assert error.field == "entries[0].payload"
    assert "nested deeper" in str(error)


def test_text_that_is_not_unicode_is_refused(signed: dict[str, Any]) -> None:
    text = _text(signed).replace('"queued"', '"\\ud800"', 1)
    assert _refused(text).field == "receipt"


def test_a_file_over_the_limit_is_refused(
    signed: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "receipt.json"
    path.write_text(_text(signed), encoding="utf-8")
    monkeypatch.setattr(receipts, "RECEIPT_MAX_BYTES", 1000)
    with pytest.raises(ReceiptError) as raised:
        read_receipt(path)
    assert str(path) in str(raised.value)
    assert "larger than 1000 bytes" in str(raised.value)


def test_unreadable_files_are_refused_naming_the_path(
    signed: dict[str, Any], tmp_path: Path
) -> None:
    for path in (tmp_path / "missing.json", tmp_path):
        with pytest.raises(ReceiptError, match=str(path)):
            read_receipt(path)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ReceiptError, match="not UTF-8"):
        read_receipt(binary)
    malformed = tmp_path / "malformed.json"
    signed["entries"][1]["prev_hash"] = "x"
    malformed.write_text(_text(signed), encoding="utf-8")
    with pytest.raises(ReceiptError) as raised:
        read_receipt(malformed)
    assert raised.value.field == "entries[1].prev_hash"
    assert str(raised.value).startswith(f"{malformed}: entries[1].prev_hash: ")


def test_verify_refuses_a_document_that_is_not_a_receipt(
    signed: dict[str, Any], key: SigningKey
) -> None:
    signed["entries"][0]["payload"] = {"when": datetime(2026, 1, 1, tzinfo=UTC)}
    with pytest.raises(ReceiptError, match=r"entries\[0\]\.payload: holds a datetime"):
        verify_receipt(signed, _keys(key))
