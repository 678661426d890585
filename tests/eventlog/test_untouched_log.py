"""An untouched log verifies: 1,000 random appends and checkpoints give no false positive.

Batches of random size in transactions of random size, with random envelopes and payloads
(unicode keys and text, control characters, nesting, empty objects and lists, integers far
past 64 bits, extreme floats), and checkpoints written in between.
"""

import random
import uuid
from typing import Any

from missionctl.eventlog import NewEvent, append, read_events
from missionctl.services import ServiceContext
from missionctl.services.usecases.audit import verify_audit_log, write_audit_checkpoint

OPERATIONS = 1000
SEED = 20261202
_TEXT = (
    "abcXYZ 019_-./",
    "éüßøå",
    "日本語テキスト",
    "🙂🚀👩‍💻",
    "e\u0301",  # a combining accent
    "\"'\\/",
    "\n\t\r\x00\x1f\x7f",
    "\u2028\u2029\ufeff",
)
_FLOATS = (0.0, -0.0, 1.5, -2.25, 1e300, -1e-300, 5e-324, 0.1, 123456789.125)


def _text(rng: random.Random) -> str:
    return "".join(rng.choices(rng.choice(_TEXT), k=rng.randint(0, 10)))


def _value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return _text(rng)
    if kind == 1:
        return rng.choice([0, 1, -1, 2**63, -(2**63) - 1, 2**100, -(3**70)])
    if kind == 2:
        return rng.choice(_FLOATS)
    if kind == 3:
        return rng.choice([True, False])
    if kind == 4:
        return None
    if kind == 5:
        return rng.randint(-(10**6), 10**6)
    if kind in (6, 7):
        return _payload(rng, depth + 1)
    return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def _payload(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    return {_text(rng): _value(rng, depth) for _ in range(rng.randint(0, 5))}


def _event(rng: random.Random) -> NewEvent:
    def maybe_id() -> uuid.UUID | None:
        return uuid.UUID(int=rng.getrandbits(128)) if rng.random() < 0.5 else None

    return NewEvent(
        type=rng.choice(["mission.created", "step.succeeded", "run.completed", "test.it_happened"]),
        actor=rng.choice(["system", "user:ada", "token:ci-bot", "agent:builtin.noop"]),
        payload=_payload(rng),
        mission_id=maybe_id(),
        run_id=maybe_id(),
        step_id=rng.choice([None, "build", "ünïcode-step", "s" * 100]),
    )


async def test_random_appends_and_checkpoints_verify(ctx: ServiceContext) -> None:
    rng = random.Random(SEED)
    appended: list[NewEvent] = []
    checkpointed: set[int] = set()  # a checkpoint of a seq already signed replaces its file
    operations = 0
    while operations < OPERATIONS:
        if rng.random() < 0.1:
            checkpointed.add((await write_audit_checkpoint(ctx)).checkpoint.seq)
            operations += 1
            continue
        async with ctx.write() as session:  # one to eight appends in one transaction
            for _ in range(rng.randint(1, 8)):
                batch = [_event(rng) for _ in range(rng.randint(1, 8))]
                await append(session, batch)
                appended.extend(batch)
                operations += 1

    report = await verify_audit_log(ctx)
    assert report.ok, (str(report.chain), report.checkpoints.problems)
    assert report.chain.count == len(appended)
    assert report.checkpoints.verified == len(checkpointed) > 10
    async with ctx.read() as session:
        stored = await read_events(session, limit=len(appended))
    assert [e.payload for e in stored] == [e.payload for e in appended]
    assert [(e.actor, e.run_id, e.step_id) for e in stored] == [
        (e.actor, e.run_id, e.step_id) for e in appended
    ]
