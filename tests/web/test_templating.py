"""Template helpers and shared components, rendered without the app."""

from datetime import UTC, datetime, timedelta

import pytest

from missionctl.domain.states import MissionStatus
from missionctl.web import STATIC_DIR
from missionctl.web.states import state_label
from missionctl.web.templating import actor_name, list_url, relative_time, templates, usd

NOW = datetime(2026, 6, 14, 7, 20, tzinfo=UTC)


@pytest.mark.parametrize("status", list(MissionStatus))
def test_every_mission_status_has_a_badge_with_its_name(status: MissionStatus) -> None:
    macro = templates.env.get_template("components/status.html").module.status_badge

    html = str(macro(status))

    word = state_label(status)
    assert f'class="badge badge--{status.value}"' in html
    assert f">{word}</span>" in html
    assert word[0].isupper() and "_" not in word  # a word a person reads, not the state's name


def test_every_badge_class_has_a_style() -> None:
    css = (STATIC_DIR / "css" / "app.css").read_text(encoding="utf-8")
    for status in MissionStatus:
        assert f".badge--{status.value} {{" in css


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=3), "3 min ago"),
        (timedelta(hours=5), "5 h ago"),
        (timedelta(days=1, hours=2), "yesterday"),
        (timedelta(days=4), "4 days ago"),
        (timedelta(days=30), "15 May 2026"),
        (timedelta(minutes=-5), "14 Jun 2026"),
    ],
)
def test_relative_time(ago: timedelta, expected: str) -> None:
    assert relative_time(NOW - ago, now=NOW) == expected


def test_relative_time_takes_naive_datetimes_as_utc() -> None:
    assert relative_time(datetime(2026, 6, 14, 7, 17), now=NOW) == "3 min ago"


def test_money_actor_and_urls() -> None:
    assert usd(1250) == "$1,250.00"
    assert usd(None) == "—"
    assert actor_name("user:alice") == "alice"
    assert actor_name("scheduler") == "scheduler"
    assert list_url(q="", status="running", cursor=None) == "/missions?status=running"
    assert list_url(q="a b&c") == "/missions?q=a+b%26c"
    assert list_url() == "/missions"


def test_every_run_and_step_status_has_a_badge_style_and_a_graph_colour() -> None:
    from missionctl.domain.states import RunStatus, StepRunStatus

    css = (STATIC_DIR / "css" / "app.css").read_text(encoding="utf-8")
    for status in [*RunStatus, *StepRunStatus, "pending"]:
        value = getattr(status, "value", status)
        assert f".badge--{value}" in css, value
    for status in ("queued", "running", "succeeded", "failed", "blocked", "canceled"):
        assert f".graph__node--{status}" in css, status


def test_durations_and_counts_read_as_people_say_them() -> None:
    from missionctl.web.templating import compact, duration, file_size

    assert [duration(s) for s in (None, 0.42, 12.4, 185, 7800)] == [
        "—",
        "0.4 s",
        "12 s",
        "3 min 5 s",
        "2 h 10 min",
    ]
    assert [compact(n) for n in (0, 950, 12_400, 3_100_000)] == ["0", "950", "12.4k", "3.1M"]
    assert [file_size(n) for n in (512, 4_200, 1_300_000)] == ["512 B", "4.2 KB", "1.3 MB"]


def test_time_filters_write_the_utc_instant_for_the_browser_to_localize() -> None:
    moment = datetime(2026, 1, 15, 15, 30, 7, 250_000, tzinfo=UTC)
    render = templates.env.from_string(
        "{{ t | clock }}|{{ t | full_datetime }}|{{ t | relative_time }}"
    ).render

    clock_tag, datetime_tag, relative_tag = render(t=moment).split("|")

    instant = 'datetime="2026-01-15T15:30:07.250Z" title="15 Jan 2026, 15:30:07 UTC"'
    assert clock_tag == f'<time {instant} data-time="clock">15:30:07 UTC</time>'
    assert datetime_tag == f'<time {instant} data-time="datetime">15 Jan 2026, 15:30 UTC</time>'
    assert relative_tag.startswith(f'<time {instant} data-time="relative">')
    naive = render(t=datetime(2026, 1, 15, 15, 30, 7, 250_000))  # taken as UTC
    assert naive.split("|")[0] == clock_tag


def test_only_the_time_filters_write_time_elements() -> None:
    # A template that wraps a filter's output in its own <time> nests one inside the other and
    # shows the markup as text ("… UTC\">3 min ago"): the filters are the one way to show a time.
    template_dir = STATIC_DIR.parent / "templates"
    written = [p.name for p in template_dir.rglob("*.html") if "<time" in p.read_text()]
    assert written == []
