"""`missionctl replay RUN_ID`: a run rebuilt from its events, checked against the store.

Runs are real: `missionctl workflow run` executes a small definition on an engine in-process,
against each database. These tests use no `ctx` fixture, so no end-of-test consistency check
runs on their databases; the one that changes a stored row behind the log's back puts it back
before it ends all the same, leaving a database every run of which replays to its stored state.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from missionctl.cli.replay import describe_differences
from missionctl.domain.replay import RunState, StepState

# `flaky` fails its first attempt and succeeds on its second: the replay must get attempts right.
COMPLETES = """\
name: completes
steps:
  - id: fetch
    agent: builtin:noop
  - id: flaky
    agent: builtin:fail
    inputs: {fail_attempts: 1}
    retry: {max_attempts: 2, backoff_s: 0, jitter: false}
  - id: report
    agent: builtin:noop
    depends_on: [fetch, flaky]
"""
FAILS = """\
name: fails
steps:
  - id: broken
    agent: builtin:fail
    retry: {max_attempts: 2, backoff_s: 0, jitter: false}
  - id: after
    agent: builtin:noop
    depends_on: [broken]
"""
UNKNOWN_ID = "01234567-89ab-7def-8123-456789abcdef"
# One row of the steps table: step, status, attempt.
STEP_ROW = re.compile(r"^│ (\S+)\s+│ (\S+)\s+│ (\d+)\s+│$", re.MULTILINE)
# One row of the timeline table starts with its seq, then its time.
EVENT_ROW = re.compile(r"^\s*\d+ │\d{4}-\d\d-\d\dT")
UTC_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def run_workflow(cli: Any, tmp_path: Path, definition: str) -> dict[str, Any]:
    """Run ``definition`` to its end here; the stored run as `workflow run --json` prints it."""
    path = tmp_path / "workflow.yaml"
    path.write_text(definition)
    result = cli("workflow", "run", str(path), "--json")
    assert result.exit_code in (0, 1), result.output
    run: dict[str, Any] = json.loads(result.stdout)
    return run


def stored_steps(run: dict[str, Any]) -> dict[str, tuple[str, int]]:
    return {step["step_id"]: (step["status"], step["attempt"]) for step in run["steps"]}


def sql(database_url: str, statement: str) -> None:
    engine = create_engine(database_url.replace("sqlite+aiosqlite", "sqlite"))
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def test_a_completed_run_replays_to_its_stored_statuses_and_attempts(
    cli: Any, tmp_path: Path
) -> None:
    run = run_workflow(cli, tmp_path, COMPLETES)
    assert run["status"] == "completed"
    stored = stored_steps(run)
    assert stored == {
        "fetch": ("succeeded", 1),
        "flaky": ("succeeded", 2),
        "report": ("succeeded", 1),
    }

    shown = cli("replay", run["id"])
    assert shown.exit_code == 0, shown.output
    assert f"run {run['id']}  replayed status completed" in shown.stdout
    rows = STEP_ROW.findall(shown.stdout)
    assert [step for step, _, _ in rows] == ["fetch", "flaky", "report"]
    assert {step: (status, int(attempt)) for step, status, attempt in rows} == stored
    assert shown.stdout.rstrip().endswith("matches the stored run")
    assert shown.stderr == ""
    assert "Events (" not in shown.stdout and "run.created" not in shown.stdout  # no timeline

    replayed = json.loads(cli("replay", run["id"], "--json").stdout)
    assert replayed == {
        "run_id": run["id"],
        "status": "completed",
        "steps": [
            {"step": "fetch", "status": "succeeded", "attempt": 1},
            {"step": "flaky", "status": "succeeded", "attempt": 2},
            {"step": "report", "status": "succeeded", "attempt": 1},
        ],
        "matches": True,
        "differences": [],
    }


def test_a_failed_run_replays_to_its_failure(cli: Any, tmp_path: Path) -> None:
    run = run_workflow(cli, tmp_path, FAILS)
    assert run["status"] == "failed"
    assert stored_steps(run)["broken"] == ("failed", 2)

    result = cli("replay", run["id"], "--json")
    assert result.exit_code == 0, result.output
    replayed = json.loads(result.stdout)
    assert replayed["status"] == "failed" and replayed["matches"] is True
    assert {s["step"]: (s["status"], s["attempt"]) for s in replayed["steps"]} == stored_steps(run)


def test_events_lists_the_runs_events_in_seq_order(cli: Any, tmp_path: Path) -> None:
    first = run_workflow(cli, tmp_path, COMPLETES)
    second = run_workflow(cli, tmp_path, COMPLETES)

    result = cli("replay", first["id"], "--events", "--json")
    assert result.exit_code == 0, result.output
    events = json.loads(result.stdout)["events"]
    seqs = [event["seq"] for event in events]
    assert seqs == sorted(set(seqs))
    assert events[0]["type"] == "run.created" and events[0]["status"] == "pending"
    # The run's report is stored as artifacts once it has ended: run.completed is its last state.
    last_state = [event for event in events if event["type"].startswith("run.")][-1]
    assert last_state["type"] == "run.completed" and last_state["status"] == "completed"
    assert {event["type"] for event in events[events.index(last_state) + 1 :]} <= {
        "artifact.created"
    }
    assert all(UTC_MILLIS.match(event["time"]) for event in events)
    assert {event["step"] for event in events} == {None, "fetch", "flaky", "report"}
    flaky = [(e["type"], e["attempt"]) for e in events if e["step"] == "flaky" and e["status"]]
    assert ("step.retry_scheduled", 2) in flaky and flaky[-1] == ("step.succeeded", 2)

    # Only this run's events: none of the second run's, which all come after them.
    later = json.loads(cli("replay", second["id"], "--events", "--json").stdout)["events"]
    assert later[0]["type"] == "run.created" and later[0]["seq"] > seqs[-1]

    table = cli("replay", first["id"], "--events")
    assert table.exit_code == 0, table.output
    assert f"Events ({len(events)})" in table.stdout
    event_lines = [line for line in table.stdout.splitlines() if EVENT_ROW.match(line)]
    assert [int(line.split("│")[0]) for line in event_lines] == seqs
    assert "run.created" in event_lines[0]
    assert "run.completed" in event_lines[seqs.index(last_state["seq"])]
    assert table.stdout.rstrip().endswith("matches the stored run")


def test_an_unknown_run_exits_1(cli: Any) -> None:
    result = cli("replay", UNKNOWN_ID)
    assert result.exit_code == 1
    assert f"no run with id {UNKNOWN_ID}" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["not-a-run"], "is not an id or the start of one"),
        (["not-a-run", "--json"], "is not an id or the start of one"),
        (["123"], "is too short to name one id"),
    ],
)
def test_an_id_that_is_not_a_uuid_exits_2_naming_run_id(
    cli: Any, tmp_path: Path, args: list[str], says: str
) -> None:
    result = cli("replay", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    said = " ".join(result.stderr.replace("│", " ").split())
    assert "'RUN_ID'" in said and f"'{args[0]}' {says}" in said, said
    assert not (tmp_path / "home").exists()  # refused before any database is opened


def test_the_first_digits_of_a_run_id_stand_for_it(cli: Any) -> None:
    result = cli("replay", UNKNOWN_ID[:8])
    assert result.exit_code == 1
    assert f"no run has an id that starts with '{UNKNOWN_ID[:8]}'" in result.stderr


def test_a_stored_state_changed_behind_the_log_exits_3_naming_the_step(
    cli: Any, tmp_path: Path, database_url: str
) -> None:
    run = run_workflow(cli, tmp_path, COMPLETES)
    sql(
        database_url, "UPDATE step_runs SET status = 'failed', attempt = 2 WHERE step_id = 'report'"
    )

    result = cli("replay", run["id"])
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "differs from the stored run:",
        "  step report: events say succeeded#1, stored failed#2",
    ]
    # The table shows what the events say, and no verdict of agreement.
    assert ("report", "succeeded", "1") in STEP_ROW.findall(result.stdout)
    assert "matches the stored run" not in result.stdout

    sql(database_url, "UPDATE runs SET status = 'failed'")
    as_json = cli("replay", run["id"], "--json")
    assert as_json.exit_code == 3
    document = json.loads(as_json.stdout)
    assert document["matches"] is False
    assert document["status"] == "completed"
    assert document["differences"] == [
        "run status: events say completed, stored failed",
        "step report: events say succeeded#1, stored failed#2",
    ]

    # Put the rows back: the store agrees with the log again (and the database is consistent).
    sql(
        database_url,
        "UPDATE step_runs SET status = 'succeeded', attempt = 1 WHERE step_id = 'report'",
    )
    sql(database_url, "UPDATE runs SET status = 'completed'")
    assert cli("replay", run["id"]).exit_code == 0


def test_differences_name_steps_only_one_side_has() -> None:
    replayed = RunState("running", {"a": StepState("running", 1)})
    stored = RunState("running", {"a": StepState("running", 1), "b": StepState("queued", 1)})
    assert describe_differences(replayed, stored) == ["step b: events say nothing, stored queued#1"]
    assert describe_differences(stored, stored) == []


REFUSED = """\
name: refused
steps:
  - id: design
    agent: llm:architect
    estimate_tokens: 20000
  - id: notes
    agent: builtin:noop
    depends_on: [design]
"""


def test_a_run_refused_by_its_budget_replays_with_its_steps_canceled(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISSIONCTL_LLM_MODEL", "gpt-4o-mini")  # priced; never called here
    path = tmp_path / "workflow.yaml"
    path.write_text(REFUSED)
    result = cli("workflow", "run", str(path), "--budget-usd", "0.001", "--json")
    assert result.exit_code == 1, result.output
    run = json.loads(result.stdout)
    assert run["status"] == "failed"
    assert stored_steps(run) == {"design": ("canceled", 1), "notes": ("canceled", 1)}

    replayed = json.loads(cli("replay", run["id"], "--json").stdout)
    assert replayed["status"] == "failed" and replayed["matches"] is True
    assert {s["step"]: (s["status"], s["attempt"]) for s in replayed["steps"]} == stored_steps(run)


def test_replay_at_a_seq_prints_the_run_as_of_that_event(cli: Any, tmp_path: Path) -> None:
    run = run_workflow(cli, tmp_path, COMPLETES)
    events = json.loads(cli("runs", "events", run["id"], "--json", "--limit", "1000").stdout)
    retried = next(e for e in events["items"] if e["type"] == "step.retry_scheduled")
    result = cli("replay", run["id"], "--at", str(retried["seq"]), "--json")
    assert result.exit_code == 0, result.output
    state = json.loads(result.stdout)
    assert state["at"] == retried["seq"] and state["status"] == "running"
    flaky = next(s for s in state["steps"] if s["step_id"] == "flaky")
    assert (flaky["status"], flaky["attempt"], flaky["attempts"][0]["outcome"]) == (
        "queued",
        2,
        "failed",
    )
    human = cli("replay", run["id"], "--at", str(retried["seq"]))
    assert human.exit_code == 0 and f"as of seq {retried['seq']}" in human.stdout
    assert "step.retry_scheduled" in human.stdout
    before = cli("replay", run["id"], "--at", "1")
    assert before.exit_code == 2 and "at" in before.output
    assert cli("replay", run["id"], "--at", "zero").exit_code == 2
