"""The Audit Trail's wording: each event of the log as one or more readable, levelled lines."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from missionctl.schemas.dashboard import EventItem

Level = Literal["info", "success", "warning", "error"]


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One line of the trail: a level (its badge), what happened, and the task it concerns."""

    level: Level
    message: str
    task: str | None = None


def source_label(source: str | None) -> str:
    """``local`` → ``Local engine``; a model name → ``Model <name>``; nothing → ``—``."""
    if not source:
        return "—"
    return "Local engine" if source == "local" else f"Model {source}"


def _usd(micros: Any) -> str:
    return f"${(micros or 0) / 1e6:,.4f}"


def _attempt(p: Mapping[str, Any]) -> str:
    return f" (attempt {p['attempt']})" if int(p.get("attempt") or 1) > 1 else ""


def _waiting(p: Mapping[str, Any]) -> str:
    count = int(p.get("awaiting_approval") or 0)
    if count == 1:
        return "Run paused: 1 step waits for approval"
    return f"Run paused: {count} steps wait for approval" if count else "Run paused"


def _share(p: Mapping[str, Any]) -> str:
    return f"{float(p.get('share') or 0) * 100:.0f} %"


def _reason(p: Mapping[str, Any]) -> str:
    return f": {p['reason']}" if p.get("reason") else ""


def _problems(p: Mapping[str, Any]) -> str:
    problems = [x.get("message") for x in p.get("problems") or [] if isinstance(x, dict)]
    return "; ".join(str(m) for m in problems if m) or "no reason given"


def _count(items: object, noun: str) -> str:
    n = len(items) if isinstance(items, list) else 0
    return f"{n} {noun}{'' if n == 1 else 's'}"


_CONTEXT_FIELDS = {"constraints": "constraints", "repo_context": "repository context"}

Describe = Callable[[Mapping[str, Any]], tuple[Level, str]]

_MESSAGES: dict[str, Describe] = {
    "mission.created": lambda p: ("info", "Mission created"),
    "mission.planning": lambda p: ("info", "Planning started"),
    "mission.needs_clarification": lambda p: (
        "warning",
        f"The planner asks {_count(p.get('questions'), 'question')} before it plans: "
        f"{p.get('reason') or 'see the mission page'}",
    ),
    "mission.answered": lambda p: (
        "info",
        f"Answered {sum(1 for a in p.get('answers') or [] if a)} of the planner's "
        f"{_count(p.get('questions'), 'question')}",
    ),
    "mission.context_changed": lambda p: (
        "info",
        "Changed before planning again: "
        + " and ".join(_CONTEXT_FIELDS[f] for f in _CONTEXT_FIELDS if f in p),
    ),
    "mission.planned": lambda p: ("success", f"Mission planned (plan v{p.get('plan_version')})"),
    "mission.running": lambda p: ("info", "Mission running"),
    "mission.completed": lambda p: ("success", "Mission completed"),
    "mission.failed": lambda p: ("error", f"Mission failed: {p.get('reason') or 'a run failed'}"),
    "mission.canceled": lambda p: ("warning", "Mission canceled"),
    "plan.created": lambda p: (
        "success",
        f"Plan v{p.get('version')} generated: {len(p.get('tasks') or [])} tasks "
        f"by the {'local planner' if p.get('source') == 'local' else p.get('source')}",
    ),
    "plan.rejected": lambda p: ("error", f"Planning failed: {_problems(p)}"),
    "workflow.saved": lambda p: (
        "info",
        f"Workflow “{p.get('name')}” v{p.get('version')} saved ({p.get('steps')} steps)",
    ),
    "run.created": lambda p: ("info", f"Run created ({p.get('trigger', 'manual')})"),
    "run.started": lambda p: ("info", "Run started"),
    "run.resumed": lambda p: ("info", f"Run resumed to retry {p.get('retried_step')}"),
    "run.completed": lambda p: ("success", "Run completed"),
    "run.failed": lambda p: ("error", f"Run failed: {p.get('error') or 'see the failed tasks'}"),
    "run.canceled": lambda p: ("warning", "Run canceled"),
    "run.aborted": lambda p: ("error", "Run aborted"),
    "run.paused": lambda p: ("warning", _waiting(p)),
    "budget.warning": lambda p: (
        "warning",
        f"Budget {_share(p)} spent: {_usd(p.get('spent_micros'))} of {_usd(p.get('cap_micros'))}",
    ),
    "budget.exceeded": lambda p: (
        "error",
        f"Budget exceeded: estimate {_usd(p.get('estimate_micros'))} over the cap "
        f"{_usd(p.get('cap_micros'))}",
    ),
    "step.queued": lambda p: ("info", "Queued" + _attempt(p)),
    "step.started": lambda p: ("info", "Started" + _attempt(p)),
    "step.succeeded": lambda p: ("success", "Succeeded" + _attempt(p)),
    "step.failed": lambda p: ("error", f"Failed{_attempt(p)}: {p.get('error') or 'no reason'}"),
    "step.retry_scheduled": lambda p: (
        "warning",
        f"Will retry (attempt {p.get('attempt')}) after {p.get('delay_s', 0)} s: {p.get('error')}",
    ),
    "step.lease_expired": lambda p: ("warning", "Worker lost; the task goes back to the queue"),
    "step.blocked": lambda p: ("warning", "Blocked: a task it depends on failed"),
    "step.unblocked": lambda p: ("info", "Unblocked: the failed dependency is being retried"),
    "step.skipped": lambda p: ("info", "Skipped"),
    "step.canceled": lambda p: ("warning", "Canceled"),
    "step.reused": lambda p: ("info", "Reused the output of the earlier run"),
    "step.retried": lambda p: ("info", f"Retried by hand (attempt {p.get('attempt')})"),
    "step.held": lambda p: ("warning", f"Held: {p.get('reason') or 'its agent rule refuses it'}"),
    "step.released": lambda p: ("info", "Released: its agent's rule allows it now"),
    "step.usage": lambda p: (
        "info",
        f"Working: {p.get('input_tokens', 0)} tokens in, {p.get('output_tokens', 0)} out so far",
    ),
    "approval.requested": lambda p: (
        "warning",
        f"Waits for approval (risk tier {p.get('risk_tier')}, estimate "
        f"{_usd(p.get('estimate_micros'))})",
    ),
    "approval.approved": lambda p: ("success", f"Approved{_reason(p)}"),
    "approval.rejected": lambda p: ("error", f"Rejected{_reason(p)}"),
    "emergency.stopped": lambda p: ("error", f"Emergency stop engaged{_reason(p)}"),
    "emergency.released": lambda p: ("info", f"Emergency stop released{_reason(p)}"),
    "agent.updated": lambda p: (
        "info",
        f"Agent {p.get('name')} {'enabled' if p.get('enabled') else 'disabled'}",
    ),
    "artifact.created": lambda p: ("info", f"Wrote {p.get('name')} ({p.get('kind')})"),
}

_LEVELS: dict[str, Level] = {"warning": "warning", "warn": "warning", "error": "error"}


def audit_lines(event: EventItem, titles: Mapping[str, str]) -> list[AuditLine]:
    """The lines an event adds to the Audit Trail (a ``step.log`` event may carry several).

    Args:
        event: the event.
        titles: task titles by step id, so that lines name the task rather than its key.
    """
    task = titles.get(event.step_id, event.step_id) if event.step_id else None
    payload = event.payload
    if event.type == "step.log":
        lines = [x for x in payload.get("lines") or [] if isinstance(x, dict)]
        return [
            AuditLine(_LEVELS.get(str(x.get("level")), "info"), str(x.get("message", "")), task)
            for x in lines
        ] or [AuditLine("info", "(empty log batch)", task)]
    describe = _MESSAGES.get(event.type)
    if describe is None:  # a type without wording yet still reads as words, not as an id
        words = event.type.replace(".", " ").replace("_", " ").capitalize()
        return [AuditLine("info", words, task)]
    level, message = describe(payload)
    return [AuditLine(level, message, task)]
