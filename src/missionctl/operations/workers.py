"""Workers: the registry of engines, and their lifecycle from the control plane (ADR 0058).

Reading needs ``agents:read``; drain, resume, stop, a new concurrency and a range to size
itself within need ``workers:control`` (operators). A command is written on the worker's row
and obeyed by the engine at its next heartbeat, wherever it runs; each is an event naming who
asked. Drain, resume and stop are one use case: each path gives it its ``command``.
"""

from missionctl.domain.access import Permission as P
from missionctl.domain.workers import WorkerCommand
from missionctl.operations import Operation
from missionctl.schemas.health import WorkerAutoscale, WorkerDetail, WorkerRead, WorkerUpdate

_SERVICE = "missionctl.services.usecases.workers"

LIST: Operation[list[WorkerRead]] = Operation(
    name="list_workers",
    doc="The engines seen in the last day, newest start first, each with its status.",
    method="GET",
    path="/workers",
    permission=P.AGENTS_READ,
    service=f"{_SERVICE}:list_workers",
    output=list[WorkerRead],
    cli="workers list",
)
READ: Operation[WorkerDetail] = Operation(
    name="read_worker",
    doc="One engine, with the steps it held at its last heartbeat.",
    method="GET",
    path="/workers/{worker_id}",
    permission=P.AGENTS_READ,
    service=f"{_SERVICE}:read_worker",
    output=WorkerDetail,
    cli="workers show",
)
DRAIN: Operation[WorkerDetail] = Operation(
    name="drain_worker",
    doc="Let the worker finish the steps it holds and claim no new ones (409: stopped or offline).",
    method="POST",
    path="/workers/{worker_id}/drain",
    permission=P.WORKERS_CONTROL,
    service=f"{_SERVICE}:command_worker",
    arguments={"command": WorkerCommand.drain},
    output=WorkerDetail,
    errors=(409,),
    cli="workers drain",
)
RESUME: Operation[WorkerDetail] = Operation(
    name="resume_worker",
    doc="Let a draining (or stopping, not yet exited) worker claim work again.",
    method="POST",
    path="/workers/{worker_id}/resume",
    permission=P.WORKERS_CONTROL,
    service=f"{_SERVICE}:command_worker",
    arguments={"command": WorkerCommand.resume},
    output=WorkerDetail,
    errors=(409,),
    cli="workers resume",
)
STOP: Operation[WorkerDetail] = Operation(
    name="stop_worker",
    doc="Drain the worker, then end it: a `missionctl worker` process exits 0 once drained.\n\n"
    "The server's own engine cannot end the server: it stops claiming until resumed.",
    method="POST",
    path="/workers/{worker_id}/stop",
    permission=P.WORKERS_CONTROL,
    service=f"{_SERVICE}:command_worker",
    arguments={"command": WorkerCommand.stop},
    output=WorkerDetail,
    errors=(409,),
    cli="workers stop",
)
SCALE: Operation[WorkerDetail] = Operation(
    name="update_worker",
    doc="Change how many steps the worker runs at once (obeyed at its next heartbeat).",
    method="PATCH",
    path="/workers/{worker_id}",
    permission=P.WORKERS_CONTROL,
    service=f"{_SERVICE}:set_concurrency",
    body=WorkerUpdate,
    body_fields=True,
    output=WorkerDetail,
    errors=(409,),
    cli="workers scale",
)

AUTOSCALE: Operation[WorkerDetail] = Operation(
    name="autoscale_worker",
    doc="Let the worker size itself from the queue, between `minimum` and `maximum` steps at "
    "once.\n\nAt each heartbeat it grows at once when its share of the ready steps is more "
    "than its free slots (at least doubling then, when a ready step has waited 10 s), and "
    "halves when nothing is ready and its size last changed a minute ago or more, never below "
    "what it runs; while it drains it keeps its size. Each size is a `worker.autoscaled` event "
    "with why. 409 when it is stopped or offline, or has this "
    "range already; 422 names a bound out of 1 to 1000, or a maximum below the minimum.",
    method="PUT",
    path="/workers/{worker_id}/autoscale",
    permission=P.WORKERS_CONTROL,
    service=f"{_SERVICE}:set_autoscale",
    body=WorkerAutoscale,
    body_fields=True,
    output=WorkerDetail,
    errors=(409,),
    cli="workers autoscale",
)
AUTOSCALE_OFF: Operation[WorkerDetail] = Operation(
    name="stop_autoscaling_worker",
    doc="Stop the worker sizing itself: it keeps the size it has until asked for another "
    "(409 when it does not size itself).",
    method="DELETE",
    path="/workers/{worker_id}/autoscale",
    permission=P.WORKERS_CONTROL,
    service=f"{_SERVICE}:clear_autoscale",
    output=WorkerDetail,
    errors=(409,),
    cli="workers autoscale",
)

COMMANDS: dict[WorkerCommand, Operation[WorkerDetail]] = {
    WorkerCommand.drain: DRAIN,
    WorkerCommand.resume: RESUME,
    WorkerCommand.stop: STOP,
}
"""The operation that sends each command."""

OPERATIONS = (LIST, READ, DRAIN, RESUME, STOP, SCALE, AUTOSCALE, AUTOSCALE_OFF)
