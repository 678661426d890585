"""``missionctl events [--follow]``, ``health``, ``followers`` and ``workers list|show``, both
ways.

Followers run as real processes (they end on Ctrl-C, which ``CliRunner`` cannot send), against
the module's live server or its database directly.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from missionctl.db.models import Worker
from missionctl.db.types import utcnow
from missionctl.domain.workers import ALIVE_S, WorkerKind
from missionctl.repositories import workers as worker_repo
from missionctl.services.usecases import workers as worker_service
from missionctl.services.usecases.health import read_health_summary
from tests.cli.test_cli_audit_search import _runs_of as runs_of
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok, world
from tests.cli.test_remote_cli import text
from tests.engine.helpers import start, step
from tests.support.terminal import as_foreground_job, signal_state

__all__ = ["world"]

MISSIONCTL = str(Path(sys.executable).with_name("missionctl"))
WAIT_S = 60.0


def _env(world: World, mode: str) -> dict[str, str]:
    """The environment of a ``missionctl`` process in ``mode`` (as ``World.cli`` sets it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    env["COLUMNS"] = "300"
    if mode == "remote":
        return env | {
            "MISSIONCTL_URL": world.url,
            "MISSIONCTL_TOKEN": world.viewer,  # reading the feed needs no more than a viewer
            "MISSIONCTL_HOME": str(world.remote_home),
        }
    return env | {
        "MISSIONCTL_HOME": str(world.settings.home),
        "MISSIONCTL_DATABASE_URL": world.settings.database.url.get_secret_value(),
    }


class Follower:
    """A ``missionctl events --follow`` process whose output lines are read as they come."""

    def __init__(self, process: "subprocess.Popen[str]") -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None and process.stderr is not None
        self.stderr = process.stderr
        self.pump = threading.Thread(target=self._pump, args=(process.stdout,), daemon=True)
        self.pump.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def started_after(self) -> int:
        """Wait for the note that following began; the seq it starts after."""
        note = self.stderr.readline()
        assert note.startswith("following events after seq "), note
        return int(note.split()[4])

    def take_until(self, done: Any) -> list[str]:
        """The lines printed until ``done(lines)`` holds (fails after ``WAIT_S``)."""
        taken: list[str] = []
        deadline = time.monotonic() + WAIT_S
        while not done(taken):
            left = deadline - time.monotonic()
            assert left > 0, f"the follower printed only {taken}"
            try:
                taken.append(self.lines.get(timeout=left))
            except queue.Empty:
                continue
        return taken

    def close(self) -> None:
        """Kill it if it still runs; close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=WAIT_S)
        self.pump.join(timeout=WAIT_S)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C: its exit code and what it wrote on stderr after the start note."""
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            state = signal_state(self.process.pid)
            raise AssertionError(f"Ctrl-C did not stop it: {state}") from None
        return code, self.stderr.read()


@contextmanager
def following(world: World, mode: str, *args: str) -> Iterator[Follower]:
    process = subprocess.Popen(
        [MISSIONCTL, "events", "--follow", *args],
        env=_env(world, mode),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_foreground_job,  # it is stopped with Ctrl-C, as from a terminal
    )
    follower = Follower(process)
    try:
        yield follower
    finally:
        follower.close()


def _completed(run_id: str) -> Any:
    def done(lines: list[str]) -> bool:
        return any("run.completed" in line and run_id in line for line in lines)

    return done


@pytest.mark.parametrize("mode", MODES)
def test_a_follower_prints_the_events_appended_after_it_started_filtered(
    world: World, mode: str
) -> None:
    name = f"follow-{mode}-{uuid.uuid4().hex[:6]}"
    filters = ("--workflow", name, "--type", "run.")
    with (
        following(world, mode, *filters, "--json") as machine,
        following(world, mode, *filters) as person,
    ):
        start_seq = max(machine.started_after(), person.started_after())
        [mine] = runs_of(world, name, "builtin:noop", 1)
        runs_of(world, name + "-other", "builtin:noop", 1)  # another workflow: not shown
        world.wait_run(uuid.UUID(mine), {"completed"})
        printed = [json.loads(line) for line in machine.take_until(_completed(mine))]
        lines = person.take_until(_completed(mine))
        assert machine.interrupt() == (0, "")  # Ctrl-C ends it quietly
        assert person.interrupt() == (0, "")

    seqs = [e["seq"] for e in printed]
    assert seqs == sorted(set(seqs)) and seqs[0] > start_seq
    assert {e["run_id"] for e in printed} == {mine}
    assert printed[0]["type"] == "run.created"
    assert all(e["type"].startswith("run.") for e in printed)
    # Exactly what the feed holds for these filters: nothing missed, nothing repeated.
    page = as_json(world.cli(mode, "events", *filters, "--after", str(start_seq), "--json"))
    assert sorted(e["seq"] for e in page["items"]) == seqs
    assert [line.split()[0] for line in lines] == [str(seq) for seq in seqs]
    assert all(mine in line for line in lines) and "run.completed" in lines[-1]


@pytest.mark.parametrize("mode", MODES)
def test_events_prints_the_newest_page_and_pages_back(world: World, mode: str) -> None:
    name = f"page-{mode}-{uuid.uuid4().hex[:6]}"
    mine = runs_of(world, name, "builtin:noop", 3)
    for run_id in mine:
        world.wait_run(uuid.UUID(run_id), {"completed"})
    created = ("--workflow", name, "--type", "run.created")
    first = as_json(world.cli(mode, "events", *created, "--limit", "2", "--json"))
    assert len(first["items"]) == 2 and first["next_before"] is not None
    rest = as_json(
        world.cli(mode, "events", *created, "--cursor", str(first["next_before"]), "--json")
    )
    assert {e["run_id"] for e in first["items"] + rest["items"]} == mine
    table = text(ok(world.cli(mode, "events", "--run", sorted(mine)[0], "--severity", "success")))
    assert "run.completed" in table and "run.created" not in table


@pytest.mark.parametrize("mode", MODES)
def test_bad_event_filters_exit_2_naming_the_option(world: World, mode: str) -> None:
    for args, option in (
        (["--since", "yesterday"], "--since"),
        (["--until", "2026-01-01", "--since", "2026-02-01"], "swap"),
        (["--severity", "fatal"], "--severity"),
        (["--type", "Step Started"], "--type"),
        (["--run", "not-a-run"], "--run-id"),
        (["--actor", "x" * 5000], "--actor"),
        (["--follow", "--limit", "5"], "--limit"),
        (["--follow", "--cursor", "9"], "--cursor"),
        (["--cursor", "-1"], "--cursor"),
        (["--after", "-1"], "--after"),
    ):
        refused = world.cli(mode, "events", *args)
        assert refused.exit_code == 2, (args, refused.output)
        assert option in text(refused) and "Traceback" not in refused.output


def test_a_follower_with_a_bad_token_exits_2_at_once(world: World) -> None:
    refused = world.cli("remote", "events", "--follow", token="mc_" + "x" * 40)
    assert refused.exit_code == 2 and "following" not in refused.output


@pytest.mark.parametrize("mode", MODES)
def test_health_prints_the_figures_of_the_summary(world: World, mode: str) -> None:
    failing = step("jam", "builtin:fail", inputs={"message": "jammed", "retryable": False})
    run = world.service(lambda ctx: start(ctx, [failing]))
    world.wait_run(run.id, {"failed"})
    time.sleep(1.1)  # the server keeps its figures a second
    expected = world.service(read_health_summary)

    figures = as_json(world.cli(mode, "health", "--json", token=world.viewer))
    assert figures["failed_24h"] == expected.failed_24h >= 1
    for name in ("queued", "running", "approvals_waiting", "burn_usd_per_hour"):
        assert figures[name] == getattr(expected, name), name
    assert figures["workers_alive"] >= 1  # the live server's own engine
    shown = text(ok(world.cli(mode, "health")))
    assert f"failed 24 h {expected.failed_24h} " in shown
    assert f"workers alive {figures['workers_alive']} " in shown


@pytest.mark.parametrize("mode", MODES)
def test_followers_tell_how_far_behind_the_log_each_is(world: World, mode: str) -> None:
    run = world.service(lambda ctx: start(ctx, [step("tick", "builtin:noop")]))
    world.wait_run(run.id, {"completed"})
    listed = as_json(world.cli(mode, "followers", "--json", token=world.viewer))
    assert [f["name"] for f in listed] == [
        "search",
        "memory",
        "analytics",
        "orchestration",
        "risks",
        "webhooks",
    ]
    for follower in listed:
        assert follower["lag_events"] == follower["head"] - follower["read_to"] >= 0, follower
        assert follower["lag_s"] >= 0 and (follower["lag_s"] == 0) == (follower["lag_events"] == 0)
    shown = text(ok(world.cli(mode, "followers")))
    for follower in listed:
        assert f"{follower['name']} " in shown and follower["description"] in shown
    assert "log head" in shown


def _register(world: World, tag: str) -> tuple[str, str]:
    """A worker that stopped cleanly and one that went silent; their names."""
    stopped_name, silent_name = f"host:1:{tag}-stopped", f"host:2:{tag}-silent"

    async def make(ctx: Any) -> None:
        stopped = await worker_service.register_worker(
            ctx, name=stopped_name, kind=WorkerKind.worker, concurrency=2
        )
        await worker_service.mark_stopped(ctx, worker_id=stopped)
        long_ago = utcnow() - timedelta(seconds=ALIVE_S * 4)
        silent = Worker(
            name=silent_name,
            host="host",
            pid=2,
            version="0.0.1",
            kind=WorkerKind.worker.value,
            concurrency=3,
            started_at=long_ago,
            last_heartbeat_at=long_ago,
        )
        async with ctx.write() as session:
            worker_repo.add_worker(session, worker=silent)

    world.service(make)
    return stopped_name, silent_name


@pytest.mark.parametrize("mode", MODES)
def test_workers_are_listed_and_shown_with_their_status(world: World, mode: str) -> None:
    stopped, silent = _register(world, mode)
    listed = as_json(world.cli(mode, "workers", "list", "--json"))
    by_name = {w["name"]: w for w in listed}
    assert by_name[stopped]["status"] == "stopped" and not by_name[stopped]["alive"]
    assert by_name[silent]["status"] == "offline" and not by_name[silent]["alive"]
    embedded = [w for w in listed if w["kind"] == "embedded" and w["alive"]]
    assert embedded, "the live server's engine is registered and alive"
    assert embedded[0]["status"] == "online" and "command" in embedded[0]["capabilities"]

    table = ok(world.cli(mode, "workers", "list")).output
    rows = [line.split() for line in table.splitlines()]
    status = {row[0]: row[1] for row in rows if row and row[0] in by_name}
    assert status[stopped] == "stopped" and status[silent] == "offline"
    assert status[embedded[0]["name"]] == "online"

    shown = as_json(world.cli(mode, "workers", "show", silent, "--json"))
    assert {k: v for k, v in shown.items() if k not in ("held_steps", "offline_reported_at")} == {
        k: v for k, v in by_name[silent].items() if k != "offline_reported_at"
    }
    assert shown["held_steps"] == []
    by_id = text(ok(world.cli(mode, "workers", "show", by_name[stopped]["id"])))
    assert by_id.startswith(f"{stopped} stopped") and "steps at once 2" in by_id

    missing = world.cli(mode, "workers", "show", "host:9:nobody")
    assert missing.exit_code == 1 and "host:9:nobody" in text(missing)
    assert "workers list" in text(missing)
    unknown_id = world.cli(mode, "workers", "show", str(uuid.uuid4()))
    assert unknown_id.exit_code == 1 and "no worker" in text(unknown_id)


@pytest.mark.parametrize("mode", MODES)
def test_workers_are_drained_resumed_scaled_and_stopped_by_name_or_id(
    world: World, mode: str
) -> None:
    name = f"host:5:{mode}-ctl"
    worker_id = world.service(
        lambda ctx: worker_service.register_worker(
            ctx, name=name, kind=WorkerKind.worker, concurrency=2
        )
    )
    drained = as_json(world.cli(mode, "workers", "drain", name, "--json"))
    assert drained["desired_state"] == "drain" and drained["id"] == str(worker_id)
    assert drained["commanded_by"] == world.actor(mode)
    again = world.cli(mode, "workers", "drain", str(worker_id))
    assert again.exit_code == 2 and "already asked to drain" in text(again)
    said = text(ok(world.cli(mode, "workers", "resume", name)))
    assert f"worker {name} asked to resume" in said and "next heartbeat" in said

    for bad in ("0", "1001"):
        refused = world.cli(mode, "workers", "scale", name, bad)
        assert refused.exit_code == 2 and "concurrency" in text(refused), text(refused)
    not_a_number = world.cli(mode, "workers", "scale", name, "many")
    assert not_a_number.exit_code == 2
    scaled = as_json(world.cli(mode, "workers", "scale", str(worker_id), "6", "--json"))
    assert scaled["desired_concurrency"] == 6
    ok(world.cli(mode, "workers", "stop", name))
    shown = text(ok(world.cli(mode, "workers", "show", name)))
    assert f"asked stop, 6 at once (by {world.actor(mode)}" in shown

    if mode == "remote":
        refused = world.cli(mode, "workers", "drain", name, token=world.viewer)
        assert refused.exit_code == 2
        assert "workers:control needs the operator role" in text(refused)


@pytest.mark.parametrize("mode", MODES)
def test_a_worker_is_given_a_range_to_size_itself_and_let_go_of_it(world: World, mode: str) -> None:
    name = f"host:7:{mode}-auto"
    world.service(
        lambda ctx: worker_service.register_worker(
            ctx, name=name, kind=WorkerKind.worker, concurrency=3
        )
    )
    for args, option in (
        (["--min", "5", "--max", "2"], "--max"),
        (["--min", "0", "--max", "2"], "--min"),
        (["--min", "1"], "--min/--max/--off"),
        (["--off", "--max", "4"], "--min/--max/--off"),
    ):
        refused = world.cli(mode, "workers", "autoscale", name, *args)
        assert refused.exit_code == 2 and option in text(refused), (args, text(refused))
    said = text(ok(world.cli(mode, "workers", "autoscale", name, "--min", "1", "--max", "8")))
    assert f"worker {name} sizes itself between 1 and 8 at once" in said
    shown = text(ok(world.cli(mode, "workers", "show", name)))
    assert "1 to 8 at once, from the queue" in shown
    fixed = world.cli(mode, "workers", "scale", name, "4")
    assert fixed.exit_code == 2 and "autoscale" in text(fixed) and "--off" in text(fixed)
    off = as_json(world.cli(mode, "workers", "autoscale", name, "--off", "--json"))
    assert (off["autoscale_min"], off["autoscale_max"], off["desired_concurrency"]) == (
        None,
        None,
        3,
    )
    again = world.cli(mode, "workers", "autoscale", name, "--off")
    assert again.exit_code == 2 and "does not size itself" in text(again)
    if mode == "remote":
        refused = world.cli(mode, "workers", "autoscale", name, "--off", token=world.viewer)
        assert refused.exit_code == 2 and "workers:control" in text(refused)


# --- Reconnecting: a scripted server drops the stream in several ways --------------------------


def _event(seq: int) -> str:
    item = {
        "seq": seq,
        "ts": "2026-11-22T09:30:00Z",
        "type": "step.started",
        "severity": "info",
        "actor": "engine",
        "mission_id": None,
        "run_id": None,
        "step_id": "build",
        "payload": {},
    }
    return f"id: {seq}\ndata: {json.dumps(item)}\n\n"


class Stop(Exception):
    """Ends the test's follower, as Ctrl-C ends a person's."""


def _remote(handler: Any) -> Any:
    """A ``MissionControl`` whose requests ``handler`` answers."""
    import httpx2
    from pydantic import SecretStr

    from missionctl.cli._backend import MissionControl
    from missionctl.cli.remote import RemoteClient

    client = RemoteClient(base_url="http://mc.test", token=SecretStr("mc_test"))
    client._http.close()
    client._http = httpx2.Client(base_url="http://mc.test", transport=httpx2.MockTransport(handler))
    return MissionControl(client)


def test_a_dropped_stream_resumes_after_the_last_event_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpx2

    from missionctl.cli import remote
    from missionctl.schemas.events import EventFilters

    monkeypatch.setattr(remote, "RECONNECT_DELAYS_S", (0.0,))
    asked: list[tuple[str | None, str, list[str]]] = []

    def broken(*chunks: str) -> Iterator[bytes]:
        yield from (chunk.encode() for chunk in chunks)
        raise httpx2.ReadError("connection reset by peer")

    answers = iter(
        [
            # cut in the middle of the second message: seq 8 must come again, whole
            lambda: httpx2.Response(200, content=broken(_event(7), _event(8)[:30])),
            # a ping, two events, then the server closes the stream (it restarts)
            lambda: httpx2.Response(200, content=iter([b": ping\n\n", _event(8).encode()])),
            lambda: httpx2.Response(503, json={"error": {"code": "x", "message": "restarting"}}),
            lambda: httpx2.Response(200, content=iter([_event(9).encode()])),
        ]
    )

    def handler(request: httpx2.Request) -> httpx2.Response:
        params = request.url.params
        asked.append(
            (request.headers.get("last-event-id"), params["after"], params.get_list("type"))
        )
        return next(answers)()

    printed: list[int] = []

    def emit(item: Any) -> None:
        printed.append(item.seq)
        if item.seq == 9:
            raise Stop

    with pytest.raises(Stop):
        _remote(handler).follow_events(EventFilters(type=["step."]), after=5, emit=emit)
    assert printed == [7, 8, 9]
    # Each reconnection resumes after the last whole event; the filters and start stay.
    assert asked == [(last, "5", ["step."]) for last in (None, "7", "8", "8")]
    said = capsys.readouterr().err
    assert "resuming after seq 7" in said and "answered 503" in said


def test_a_stream_that_never_opens_exits_3_and_a_refusal_is_not_retried() -> None:
    import httpx2
    import typer

    from missionctl.schemas.events import EventFilters

    def unreachable(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused")

    with pytest.raises(typer.Exit) as exited:
        _remote(unreachable).follow_events(EventFilters(), after=0, emit=print)
    assert exited.value.exit_code == 3  # the network's fault, not the command's

    calls: list[int] = []

    def refusing(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        return httpx2.Response(403, json={"error": {"code": "forbidden", "message": "no"}})

    with pytest.raises(typer.Exit) as refused:
        _remote(refusing).follow_events(EventFilters(), after=0, emit=print)
    assert refused.value.exit_code == 2 and calls == [1]
