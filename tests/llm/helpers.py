"""Shared values for the LLM tests (fixtures live in conftest.py)."""

from collections.abc import Callable

from pydantic import BaseModel, Field

from missionctl.llm import OpenAICompatibleClient, StructuredResult

# Deliberately not sk-shaped: the client must hide it because it is the key, not by pattern.
API_KEY = "mc-test-key-7f3a9c2e5b1d4e6f"
MODEL = "test-model"

MakeClient = Callable[..., OpenAICompatibleClient]


class Plan(BaseModel):
    """The output model most tests ask for."""

    title: str
    steps: list[str] = Field(min_length=1)
    priority: int = Field(ge=1, le=5)


VALID_PLAN = '{"title": "Ship it", "steps": ["build", "test"], "priority": 2}'


class SleepRecorder:
    """Stands in for ``asyncio.sleep``: remembers each requested wait and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


async def ask(
    client: OpenAICompatibleClient, *, max_repairs: int = 2, user: str = "Plan it"
) -> StructuredResult[Plan]:
    """The standard structured call most tests make."""
    return await client.generate_structured(
        system="You are a planner.",
        user=user,
        output_model=Plan,
        schema_name="plan",
        max_repairs=max_repairs,
    )
