"""The pure domain of Mission Control: rules with no I/O.

Only the standard library and :mod:`missionctl.errors` may be imported here. The modules:

- :mod:`~missionctl.domain.states`: mission, run and step-run state machines as data, and
  :func:`~missionctl.domain.states.transition`, the single gate for status changes;
- :mod:`~missionctl.domain.dag`: workflow DAG validation, layers and the ready set;
- :mod:`~missionctl.domain.ids`: time-ordered UUIDv7 ids.
"""

from missionctl.domain.dag import (
    DagNode,
    Node,
    ensure_valid_dag,
    ready_set,
    topological_layers,
    validate_dag,
)
from missionctl.domain.ids import new_id
from missionctl.domain.states import (
    MISSION,
    RUN,
    STEP_RUN,
    MissionStatus,
    RunStatus,
    StateMachine,
    StepRunStatus,
    TransitionRule,
    transition,
)

__all__ = [
    "MISSION",
    "RUN",
    "STEP_RUN",
    "DagNode",
    "MissionStatus",
    "Node",
    "RunStatus",
    "StateMachine",
    "StepRunStatus",
    "TransitionRule",
    "ensure_valid_dag",
    "new_id",
    "ready_set",
    "topological_layers",
    "transition",
    "validate_dag",
]
