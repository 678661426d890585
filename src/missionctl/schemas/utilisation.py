"""Agent utilisation: what ``GET /agents/utilisation``, the agents page and the CLI show."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

UtilisationWindow = Literal["1h", "24h", "7d"]
WINDOW_SECONDS: dict[str, int] = {"1h": 3600, "24h": 86_400, "7d": 7 * 86_400}
MAX_SPAN_DAYS = 366

BUSY_DEFINITION = (
    "Busy % is the seconds the agent's steps ran inside the window, added up over its steps, "
    "divided by the window's seconds: 100% means one of its steps running all the time, on "
    "average; above 100% means several ran side by side."
)
EXECUTIONS_DEFINITION = (
    "Executions are the steps that ran and ended inside the window (a retried step counts "
    "once; its attempts are counted apart). Durations are of each step's last attempt; p95 is "
    "the nearest-rank 95th percentile."
)


class AgentUtilisation(BaseModel):
    """One agent's steps over the window."""

    agent: str
    executions: int = Field(description="Steps that ran and ended in the window.")
    attempts: int = Field(description="Their attempts, retries included.")
    failures: int = Field(description="Of the executions, those that failed.")
    failure_rate: float = Field(description="failures / executions (0 without executions).")
    avg_duration_s: float = Field(description="Mean duration of the last attempts, in seconds.")
    p95_duration_s: float = Field(description="95th percentile (nearest rank), in seconds.")
    input_tokens: int
    output_tokens: int
    tokens: int = Field(description="Input and output tokens of every attempt.")
    cost_micros: int = Field(description="What every attempt cost, in micro-dollars.")
    running: int = Field(description="Steps of this agent running now.")
    busy_s: float = Field(description="Seconds its steps ran inside the window, summed.")
    busy_pct: float = Field(description=BUSY_DEFINITION)


class UtilisationRead(BaseModel):
    """Per agent utilisation over ``[since, until)``, busiest first."""

    since: datetime
    until: datetime
    window_s: float
    busy_definition: str = BUSY_DEFINITION
    executions_definition: str = EXECUTIONS_DEFINITION
    agents: list[AgentUtilisation]
