"""``missionctl calendar`` and ``schedule feed`` in an 80-column terminal: a day per line with
its firings in the zone asked for, refusals naming the option, and a feed file a calendar
application reads."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def test_the_calendar_shows_firings_in_the_viewers_zone_and_the_feed_is_a_file(
    cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    made = cli("mission", "create", "A rota of volunteers for a food bank's Saturday shifts")
    mission = UUID.findall(made.stdout)[0]
    added = cli(
        "schedule", "add", "rota-sync", "--cron", "30 6 * * *", "--tz", "Asia/Tokyo",
        "--mission", mission,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    shown = cli("calendar", "--week", "--date", "2031-01-08", "--tz", "Europe/Lisbon")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), shown.stdout
    assert lines[0].startswith("Week of Mon 06 Jan 2031")
    # 06:30 in Tokyo (UTC+9) is 21:30 the day before in Lisbon (UTC+0 in winter).
    days = [" ".join(line.split()[:3]) for line in lines[1:8]]
    assert (days[0], days[-1]) == ("Mon 06 Jan", "Sun 12 Jan")
    assert all("rota-sync 21:30" in line for line in lines[1:8])
    as_json = json.loads(
        cli("calendar", "--week", "--date", "2031-01-08", "--tz", "Europe/Lisbon", "--json").stdout
    )
    assert sum(len(d["firings"]) for d in as_json["days"]) == 7

    path = tmp_path / "rota.ics"
    wrote = cli("schedule", "feed", "rota-sync", "-o", str(path))
    assert wrote.exit_code == 0, wrote.output
    events = list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))
    assert len(events) in (59, 60, 61) and all(e["dtstart"].dt.hour == 6 for e in events)


def test_a_bad_zone_or_date_exits_2_naming_the_option(cli: Any) -> None:
    for args, option in [
        (("calendar", "--tz", "Atlantis/Capital"), "--tz"),
        (("calendar", "--date", "2031-02-30"), "--date"),
    ]:
        refused = cli(*args)
        assert refused.exit_code == 2, refused.output
        assert option in refused.output and "Traceback" not in refused.output
    assert cli("schedule", "feed", "no-such-schedule").exit_code == 1
