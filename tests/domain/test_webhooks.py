"""The pure rules of webhooks: addresses, masking, backoff, matching, bodies."""

import json

import pytest

from missionctl.domain import events as ev
from missionctl.domain.webhooks import (
    MAX_SLACK_TEXT_CHARS,
    MAX_URL_CHARS,
    Format,
    backoff,
    body,
    clip,
    event_matches,
    origin,
    shown_url,
    url_problem,
)

EVENT = {
    "type": ev.RUN_FAILED,
    "seq": 7,
    "ts": "2026-11-24T05:00:00+00:00",
    "actor": "system",
    "run_id": "0190a0b0-0000-7000-8000-000000000001",
    "payload": {"status": "failed", "error": "step build failed"},
}


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/x",
        "http://127.0.0.1:8080/hook?x=1",
        "https://user:pw@hooks.example.com/",
        "https://[::1]:9000/",
        "https://bücher.example/hook",  # a name IDNA writes as xn--bcher-kva
    ],
)
def test_good_addresses_pass(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://x.example/", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("x.example/hook", "http:// or https://"),
        ("https:///path", "names no host"),
        ("https://x.example:70000/", "not a valid address"),
        ("https://x.example/a b", "spaces or control"),
        ("https://x.example/\x00", "spaces or control"),
        ("https://x.example/" + "a" * MAX_URL_CHARS, "at most 2,000"),
        ("https://[::1/", "not a valid address"),
        # The resolver writes a name in IDNA first; one it cannot write was a 500 at creation.
        ("https://\x9chooks.example/", "not a host name (Invalid character"),
        ("https://" + "a" * 64 + ".example/", "not a host name (label empty or too long)"),
    ],
)
def test_bad_addresses_are_refused_saying_why(url: str, says: str) -> None:
    problem = url_problem(url)
    assert problem is not None and says in problem


def test_credentials_are_masked_and_events_keep_only_the_origin() -> None:
    assert (
        shown_url("https://bot:s3cret@x.example:8443/p?q=1") == "https://***@x.example:8443/p?q=1"
    )
    assert shown_url("https://x.example/p") == "https://x.example/p"
    assert origin("https://bot:s3cret@hooks.slack.example/services/T0/B0/XYZ") == (
        "https://hooks.slack.example"
    )
    assert origin("http://[::1]:9000/x") == "http://[::1]:9000"


def test_backoff_follows_the_delays_and_repeats_the_last() -> None:
    delays = (10.0, 60.0, 300.0)
    assert [backoff(n, delays) for n in (1, 2, 3, 4, 9)] == [10, 60, 300, 300, 300]
    assert backoff(0, delays) == 10
    with pytest.raises(ValueError):
        backoff(1, ())


def test_matching_by_type_and_workflow() -> None:
    kinds = [ev.RUN_FAILED, ev.EMERGENCY_STOPPED]

    def match(event_type: str, flt: str | None, workflow: str | None) -> bool:
        return event_matches(
            subscribed=kinds, workflow_filter=flt, event_type=event_type, workflow=workflow
        )

    assert match(ev.RUN_FAILED, None, "a") and match(ev.RUN_FAILED, "a", "a")
    assert not match(ev.RUN_FAILED, "a", "b")
    assert not match(ev.RUN_COMPLETED, None, "a")
    assert match(ev.EMERGENCY_STOPPED, "a", None)  # concerns every workflow


def test_the_two_bodies() -> None:
    as_json = json.loads(body(EVENT, workflow="nightly", form=Format.json))
    assert as_json["type"] == ev.RUN_FAILED and as_json["workflow"] == "nightly"
    assert as_json["payload"]["error"] == "step build failed" and as_json["seq"] == 7
    slack = json.loads(body(EVENT, workflow="nightly", form=Format.slack))
    assert list(slack) == ["text"]
    assert "failed" in slack["text"] and "nightly" in slack["text"]
    assert slack["text"].endswith(": step build failed")
    long = {**EVENT, "payload": {"error": "x" * 10_000}}
    assert len(json.loads(body(long, workflow=None, form=Format.slack))["text"]) == (
        MAX_SLACK_TEXT_CHARS
    )
    for kind in (ev.WORKER_OFFLINE, ev.SCHEDULE_MISFIRED, "something.else"):
        text = json.loads(body({**EVENT, "type": kind}, workflow=None, form=Format.slack))["text"]
        assert text.startswith((":", "Mission Control"))


def test_clip() -> None:
    assert clip("abc", 5) == "abc" and clip("abcdef", 4) == "abc…"
