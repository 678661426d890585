"""The rest of a plan, for `mission show-plan`: what `print_plan`'s review leaves out.

`missionctl run` and `mission plan` print a plan to be reviewed at a glance (requirements,
tasks, risks); `show-plan` prints all of it: the phases, each task's description, acceptance
criteria and expected artifacts, the decisions with their reasons and trade-offs, and the
next steps, highest priority first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

from missionctl.cli._runtime import console

if TYPE_CHECKING:
    from missionctl.schemas.plans import PlanRead

__all__ = ["print_plan_details"]


def print_plan_details(plan: PlanRead) -> None:
    """Print the phases, task details, decisions and next steps of ``plan``."""
    _print_phases(plan)
    _print_task_details(plan)
    _print_decisions(plan)
    _print_next_steps(plan)


def _line(text: str) -> None:
    console.print(text, highlight=False)


def _print_phases(plan: PlanRead) -> None:
    if not plan.phases:
        return
    _line("phases:")
    for number, phase in enumerate(plan.phases, start=1):
        _line(f"  {number}. [bold]{escape(phase.name)}[/bold]: {escape(phase.goal)}")
        _line(f"     tasks: {escape(', '.join(phase.task_keys))}")


def _print_task_details(plan: PlanRead) -> None:
    _line("task details:")
    for task in plan.tasks:
        traces = f"  [dim](for {escape(', '.join(task.traces))})[/dim]" if task.traces else ""
        _line(f"  [bold]{escape(task.key)}[/bold]{traces}")
        _line(f"    {escape(task.description)}")
        for criterion in task.acceptance:
            _line(f"    done when: {escape(criterion)}")
        if task.expected_artifacts:
            _line(f"    produces: {escape(', '.join(task.expected_artifacts))}")


def _print_decisions(plan: PlanRead) -> None:
    if not plan.decisions:
        return
    _line("decisions:")
    for number, decision in enumerate(plan.decisions, start=1):
        _line(f"  {number}. [bold]{escape(decision.title)}[/bold]: {escape(decision.choice)}")
        for reason in decision.reasons:
            _line(f"     because {escape(reason)}")
        for trade_off in decision.trade_offs:
            _line(f"     trade-off: {escape(trade_off)}")
        if decision.alternatives:
            _line(f"     instead of: {escape('; '.join(decision.alternatives))}")


def _print_next_steps(plan: PlanRead) -> None:
    if not plan.next_steps:
        return
    _line("next steps:")
    from missionctl.domain.plans import next_step_rank

    ordered = sorted(plan.next_steps, key=lambda step: next_step_rank(step.priority))
    for step in ordered:  # sorted() is stable: the plan's order within a priority
        _line(f"  ({step.priority}) {escape(step.text)}")
