"""The event log's Prometheus counter: events committed by this process."""

from prometheus_client import Counter

EVENTS_APPENDED = Counter(
    "missionctl_events_appended",
    "Events appended to the log by this process (counted when their transaction commits).",
)
