"""The Audit Trail's wording: each event of the log as one or more readable, levelled lines."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from missionctl.domain.events import Severity, line_severity, severity_of
from missionctl.domain.money import micros_text
from missionctl.schemas.dashboard import EventItem

Level = Severity
"""A line's badge: the event's severity (``domain.events.severity_of``)."""


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
    return micros_text(int(micros or 0))


def _attempt(p: Mapping[str, Any]) -> str:
    return f" (attempt {p['attempt']})" if int(p.get("attempt") or 1) > 1 else ""


def _waiting(p: Mapping[str, Any]) -> str:
    count = int(p.get("awaiting_approval") or 0)
    if count == 1:
        return "Run paused: 1 step waits for approval"
    return f"Run paused: {count} steps wait for approval" if count else "Run paused"


def _resumed(p: Mapping[str, Any]) -> str:
    """A run resumes to retry a failed step, or once the approvals it waited for are decided."""
    if p.get("retried_step"):
        return f"Run resumed to retry {p['retried_step']}"
    return f"Run resumed{_reason(p)}"


def _share(p: Mapping[str, Any]) -> str:
    return f"{float(p.get('share') or 0) * 100:.0f} %"


def _cap_agent(p: Mapping[str, Any]) -> str:
    agent = str(p.get("agent") or "")
    return "all agents" if agent == "*" else agent


_RELEASED_WHY = {
    "period": "its spending cap's period turned",
    "cap": "its spending cap was raised or removed",
}


def _reason(p: Mapping[str, Any]) -> str:
    return f": {p['reason']}" if p.get("reason") else ""


def _problems(p: Mapping[str, Any]) -> str:
    problems = [x.get("message") for x in p.get("problems") or [] if isinstance(x, dict)]
    return "; ".join(str(m) for m in problems if m) or "no reason given"


def _count(items: object, noun: str) -> str:
    n = len(items) if isinstance(items, list) else 0
    return f"{n} {noun}{'' if n == 1 else 's'}"


# A changed field whose old and new values are this short is shown with both; longer ones by name.
_SHORT_VALUE = 40


def _changed(payload: Mapping[str, Any]) -> str:
    """``status open → mitigating, owner → Ada, mitigation`` from a register event's changes."""
    changes = payload.get("changes")
    parts: list[str] = []
    for name, change in (changes if isinstance(changes, dict) else {}).items():
        label = str(name).removesuffix("_id").replace("_", " ")
        old, new = (change.get("old"), change.get("new")) if isinstance(change, dict) else (0, 0)
        short = all(isinstance(v, str | None) and len(v or "") <= _SHORT_VALUE for v in (old, new))
        if short and old:
            parts.append(f"{label} {old} → {new or '—'}")
        elif short:
            parts.append(f"{label} → {new or '—'}")
        else:
            parts.append(label)
    return ", ".join(parts) or "nothing"


def _decision(payload: Mapping[str, Any]) -> str:
    return f"Decision {payload.get('number')} “{payload.get('title')}”"


_CONTEXT_FIELDS = {"constraints": "constraints", "repo_context": "repository context"}

Describe = Callable[[Mapping[str, Any]], str]


def _progress(payload: Mapping[str, Any]) -> str:
    """``Progress 40 % on api: schema written`` (an agent's report on a task, over MCP)."""
    percent = payload.get("percent")
    share = f" {percent} %" if isinstance(percent, int) else ""
    return f"Progress{share} on {payload.get('task_key')}: {payload.get('message')}"


def _drafted(payload: Mapping[str, Any]) -> str:
    """``Drafted task 3: Design the API`` (a preview of the plan a model is writing)."""
    kind, item = payload.get("kind"), payload.get("item")
    if kind not in ("phase", "task"):
        attempt = payload.get("attempt")
        return f"Drafting the plan again (reply {attempt}): the earlier draft is void"
    fields = item if isinstance(item, dict) else {}
    name = fields.get("name" if kind == "phase" else "title") or fields.get("key") or "untitled"
    index = payload.get("index")
    number = index + 1 if isinstance(index, int) else "?"
    return f"Drafted {kind} {number}: {name}"


# Reports on a mission's tasks name their task in the payload (they belong to no run's step).
_TASK_REPORTS = frozenset({"task.progress", "task.reported"})


def _at_risk(payload: Mapping[str, Any]) -> str:
    """``step.at_risk`` in words: the chance and the first reason (ADR 0118)."""
    chances = payload.get("chances")
    fail = chances.get("fail") if isinstance(chances, dict) else None
    reasons = payload.get("reasons")
    why = f": {reasons[0]}" if isinstance(reasons, list) and reasons else ""
    chance = f"{fail:.0%}" if isinstance(fail, int | float) else "likely"
    return f"At risk: {chance} to fail (attempt {payload.get('attempt')}){why}"


_MESSAGES: dict[str, Describe] = {
    "mission.created": lambda p: "Mission created",
    "mission.planning": lambda p: "Planning started",
    "mission.needs_clarification": lambda p: (
        f"The planner asks {_count(p.get('questions'), 'question')} before it plans: "
        f"{p.get('reason') or 'see the mission page'}"
    ),
    "mission.answered": lambda p: (
        f"Answered {sum(1 for a in p.get('answers') or [] if a)} of the planner's "
        f"{_count(p.get('questions'), 'question')}"
    ),
    "mission.context_changed": lambda p: (
        "Changed before planning again: "
        + " and ".join(_CONTEXT_FIELDS[f] for f in _CONTEXT_FIELDS if f in p)
    ),
    "decision.added": lambda p: f"{_decision(p)} added",
    "decision.changed": lambda p: f"{_decision(p)} changed: {_changed(p)}",
    "risk.added": lambda p: f"Risk “{p.get('title')}” added",
    "risk.changed": lambda p: f"Risk “{p.get('title')}” changed: {_changed(p)}",
    "document.generated": lambda p: (
        f"{p.get('title')} v{p.get('version')} written by "
        + ("the local writer" if p.get("writer") == "local" else f"the model {p.get('writer')}")
        + (" (the model could not)" if p.get("fell_back") else "")
    ),
    "mission.planned": lambda p: f"Mission planned (plan v{p.get('plan_version')})",
    "mission.running": lambda p: "Mission running",
    "mission.completed": lambda p: "Mission completed",
    "mission.failed": lambda p: f"Mission failed: {p.get('reason') or 'a run failed'}",
    "mission.canceled": lambda p: "Mission canceled",
    "plan.created": lambda p: (
        f"Plan v{p.get('version')} generated: {len(p.get('tasks') or [])} tasks "
        f"by the {'local planner' if p.get('source') == 'local' else p.get('source')}"
    ),
    "plan.rejected": lambda p: f"Planning failed: {_problems(p)}",
    "plan.drafted": _drafted,
    "workflow.saved": lambda p: (
        f"Workflow “{p.get('name')}” v{p.get('version')} saved ({p.get('steps')} steps)"
    ),
    "run.created": lambda p: f"Run created ({p.get('trigger', 'manual')})",
    "run.started": lambda p: "Run started",
    "run.resumed": lambda p: _resumed(p),
    "run.completed": lambda p: "Run completed",
    "run.failed": lambda p: f"Run failed: {p.get('error') or 'see the failed tasks'}",
    "run.canceled": lambda p: "Run canceled",
    "run.aborted": lambda p: "Run aborted",
    "run.paused": lambda p: _waiting(p),
    "budget.warning": lambda p: (
        f"Budget {_share(p)} spent: {_usd(p.get('spent_micros'))} of {_usd(p.get('cap_micros'))}"
    ),
    "budget.exceeded": lambda p: (
        f"Budget exceeded: estimate {_usd(p.get('estimate_micros'))} over the cap "
        f"{_usd(p.get('cap_micros'))}"
    ),
    "spending_cap.set": lambda p: (
        f"Spending cap on {_cap_agent(p)} per UTC {p.get('period')} set to "
        f"{_usd(p.get('cap_micros'))}"
        + ("" if p.get("was_micros") is None else f" (was {_usd(p.get('was_micros'))})")
    ),
    "spending_cap.removed": lambda p: (
        f"Spending cap on {_cap_agent(p)} per UTC {p.get('period')} removed"
    ),
    "spending_cap.warning": lambda p: (
        f"Spending cap on {_cap_agent(p)} per UTC {p.get('period')}: {_share(p)} spent, "
        f"{_usd(p.get('spent_micros'))} of {_usd(p.get('cap_micros'))}"
    ),
    "spending_cap.reached": lambda p: (
        f"Spending cap on {_cap_agent(p)} per UTC {p.get('period')} reached: "
        f"{_usd(p.get('spent_micros'))} of {_usd(p.get('cap_micros'))}; steps are held"
    ),
    "step.queued": lambda p: "Queued" + _attempt(p),
    "step.started": lambda p: "Started" + _attempt(p),
    "step.succeeded": lambda p: "Succeeded" + _attempt(p),
    "step.failed": lambda p: f"Failed{_attempt(p)}: {p.get('error') or 'no reason'}",
    "step.retry_scheduled": lambda p: (
        f"Will retry (attempt {p.get('attempt')}) after {p.get('delay_s', 0)} s: {p.get('error')}"
    ),
    "step.lease_expired": lambda p: "Worker lost; the task goes back to the queue",
    "step.blocked": lambda p: "Blocked: a task it depends on failed",
    "step.unblocked": lambda p: "Unblocked: the failed dependency is being retried",
    "step.skipped": lambda p: "Skipped",
    "step.canceled": lambda p: "Canceled",
    "step.reused": lambda p: "Reused the output of the earlier run",
    "step.retried": lambda p: f"Retried by hand (attempt {p.get('attempt')})",
    "step.held": lambda p: f"Held: {p.get('reason') or 'its agent rule refuses it'}",
    "step.at_risk": _at_risk,
    "step.released": lambda p: (
        "Released: " + _RELEASED_WHY.get(str(p.get("why")), "its agent's rule allows it now")
    ),
    "step.usage": lambda p: (
        f"Working: {p.get('input_tokens', 0)} tokens in, {p.get('output_tokens', 0)} out so far"
    ),
    "approval.requested": lambda p: (
        f"Waits for approval (risk tier {p.get('risk_tier')}, estimate "
        f"{_usd(p.get('estimate_micros'))})"
    ),
    "approval.approved": lambda p: f"Approved{_reason(p)}",
    "approval.rejected": lambda p: f"Rejected{_reason(p)}",
    "emergency.stopped": lambda p: f"Emergency stop engaged{_reason(p)}",
    "emergency.released": lambda p: f"Emergency stop released{_reason(p)}",
    "agent.updated": lambda p: (
        f"Agent {p.get('name')} {'enabled' if p.get('enabled') else 'disabled'}"
    ),
    "artifact.created": lambda p: f"Wrote {p.get('name')} ({p.get('kind')})",
    "task.progress": lambda p: _progress(p),
    "task.reported": lambda p: (
        f"Reported {p.get('task_key')} {p.get('status')}: {p.get('summary')}"
    ),
}


def audit_lines(event: EventItem, titles: Mapping[str, str]) -> list[AuditLine]:
    """The lines an event adds to the Audit Trail (a ``step.log`` event may carry several).

    Args:
        event: the event.
        titles: task titles by step id, so that lines name the task rather than its key.
    """
    task = titles.get(event.step_id, event.step_id) if event.step_id else None
    payload = event.payload
    if task is None and event.type in _TASK_REPORTS and payload.get("task_key"):
        task = titles.get(str(payload["task_key"]), str(payload["task_key"]))
    if event.type == "step.log":
        lines = [x for x in payload.get("lines") or [] if isinstance(x, dict)]
        return [
            AuditLine(line_severity(x.get("level")), str(x.get("message", "")), task) for x in lines
        ] or [AuditLine("info", "(empty log batch)", task)]
    describe = _MESSAGES.get(event.type)
    if describe is None:  # a type without wording yet still reads as words, not as an id
        words = event.type.replace(".", " ").replace("_", " ").capitalize()
        return [AuditLine(severity_of(event.type, payload), words, task)]
    return [AuditLine(severity_of(event.type, payload), describe(payload), task)]
