"""A stored workflow definition as the engine needs it: the DAG and per-step policies (pure).

Workflow versions are immutable, so a parsed ``WorkflowDag`` can be cached by workflow id.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from missionctl.domain.retry import RetryPolicy

DEFAULT_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class StepDef:
    """One step's scheduling facts."""

    id: str
    agent: str
    depends_on: tuple[str, ...]
    timeout_s: float
    retry: RetryPolicy
    risk_tier: str
    estimate_tokens: int
    inputs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class WorkflowDag:
    """Steps in definition order, with dependency and dependent maps."""

    name: str
    steps: Mapping[str, StepDef]
    order: tuple[str, ...]
    dependents: Mapping[str, tuple[str, ...]]
    max_concurrency: int | None

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> "WorkflowDag":
        """Parse a stored definition (``WorkflowSpec.model_dump(mode="json")``)."""
        steps: dict[str, StepDef] = {}
        for raw in definition["steps"]:
            retry = raw.get("retry") or {}
            steps[raw["id"]] = StepDef(
                id=raw["id"],
                agent=raw["agent"],
                depends_on=tuple(raw.get("depends_on", ())),
                timeout_s=float(raw.get("timeout_s") or DEFAULT_TIMEOUT_S),
                retry=RetryPolicy(
                    max_attempts=int(retry.get("max_attempts", 1)),
                    backoff_s=float(retry.get("backoff_s", 1.0)),
                    max_backoff_s=float(retry.get("max_backoff_s", 60.0)),
                    jitter=bool(retry.get("jitter", True)),
                ),
                risk_tier=str(raw.get("risk_tier", "read")),
                estimate_tokens=int(raw.get("estimate_tokens", 0)),
                inputs=raw.get("inputs") or {},
            )
        dependents: dict[str, list[str]] = {step: [] for step in steps}
        for step in steps.values():
            for dep in step.depends_on:
                dependents[dep].append(step.id)
        limit = definition.get("max_concurrency")
        return cls(
            name=str(definition.get("name", "")),
            steps=steps,
            order=tuple(steps),
            dependents={k: tuple(v) for k, v in dependents.items()},
            max_concurrency=int(limit) if limit else None,
        )

    def roots(self) -> list[str]:
        """Steps without dependencies, in definition order."""
        return [s for s in self.order if not self.steps[s].depends_on]

    def descendants(self, step_ids: Sequence[str]) -> list[str]:
        """Every step downstream of ``step_ids`` (not including them), in definition order."""
        seen: set[str] = set()
        stack = list(step_ids)
        while stack:
            for child in self.dependents[stack.pop()]:
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return [s for s in self.order if s in seen]
