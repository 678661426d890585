"""The fast hash (composed body) equals the reference hash (canonical JSON of the whole body)."""

import uuid
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from missionctl.db.types import canonical_json
from missionctl.eventlog.chain import compute_hash, event_body, format_ts, hash_event_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(
    payload=st.dictionaries(st.text(), json_values, max_size=6),
    actor=st.sampled_from(["system", "user:alice", "agent:ü-bot"]),
    type_=st.sampled_from(["step.log", "run.created"]),
    step_id=st.none() | st.text(max_size=20),
    with_ids=st.booleans(),
    seq=st.integers(min_value=1, max_value=10**12),
)
def test_composed_hash_equals_reference(
    payload: dict[str, object],
    actor: str,
    type_: str,
    step_id: str | None,
    with_ids: bool,
    seq: int,
) -> None:
    ts = datetime(2026, 11, 21, 12, 0, 0, 123000, tzinfo=UTC)
    mission_id = uuid.uuid4() if with_ids else None
    run_id = uuid.uuid4() if with_ids else None
    reference = compute_hash(
        "a" * 64,
        event_body(
            seq=seq,
            ts=ts,
            type=type_,
            actor=actor,
            mission_id=mission_id,
            run_id=run_id,
            step_id=step_id,
            payload=payload,
        ),
    )
    fast = hash_event_json(
        "a" * 64,
        seq=seq,
        ts=ts,
        type=type_,
        actor=actor,
        mission_id=mission_id,
        run_id=run_id,
        step_id=step_id,
        payload_json=canonical_json(payload),
    )
    assert fast == reference
    batched = hash_event_json(
        "a" * 64,
        seq=seq,
        ts=ts,
        type=type_,
        actor=actor,
        mission_id=mission_id,
        run_id=run_id,
        step_id=step_id,
        payload_json=canonical_json(payload),
        ts_text=format_ts(ts),  # as a batch passes it, computed once
    )
    assert batched == reference
