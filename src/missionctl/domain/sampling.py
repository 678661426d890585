"""The sampling knobs sent with a model call: its temperature and its seed.

Both are optional: unset means the key is not sent at all, so the model's own default applies
and a server that refuses parameters it does not know is not troubled. The settings give every
call its values (``MISSIONCTL_LLM_TEMPERATURE``, ``MISSIONCTL_LLM_SEED``); an ``llm:`` step's
``inputs.temperature`` and ``inputs.seed`` override them for that step. The step's values are
checked here, once, for the save-time check of a workflow and for the agent that runs it.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MIN_TEMPERATURE = 0.0
MAX_TEMPERATURE = 2.0
"""The range the OpenAI Chat Completions API documents for ``temperature``."""

MAX_SEED = 2**63 - 1
"""The largest ``seed``: servers read it as a signed 64-bit integer."""

TEMPERATURE_RULE = f"must be a number from {MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g}"
SEED_RULE = f"must be a whole number from 0 to {MAX_SEED} (2**63 - 1)"


@dataclass(frozen=True, slots=True)
class Sampling:
    """A call's temperature and seed; ``None``: not sent (the model's own default)."""

    temperature: float | None = None
    seed: int | None = None

    def over(self, defaults: "Sampling") -> "Sampling":
        """These knobs, each unset one taken from ``defaults`` (a step's over the settings')."""
        return Sampling(
            temperature=defaults.temperature if self.temperature is None else self.temperature,
            seed=defaults.seed if self.seed is None else self.seed,
        )

    def record(self) -> dict[str, float | int | None]:
        """The knobs as recorded with a call: both keys, ``None`` for what was not sent."""
        return {"temperature": self.temperature, "seed": self.seed}


class SamplingInputError(ValueError):
    """A step's ``temperature`` or ``seed`` input is out of its range or not a number."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"inputs.{name} {message}" for name, message in problems))
        self.problems = problems


def temperature_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a temperature (``None``: it can, or it is unset)."""
    if value is None:
        return None
    # A boolean is an int to Python, and "0.7" is text: both are refused, not converted, as
    # the published schema of a definition refuses "3" for 3.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{TEMPERATURE_RULE}, got {_shown(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{TEMPERATURE_RULE}, got {_shown(value)}"
    if not MIN_TEMPERATURE <= value <= MAX_TEMPERATURE:
        return f"{TEMPERATURE_RULE}, got {_shown(value)}"
    return None


def seed_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a seed (``None``: it can, or it is unset).

    A float is refused even when it is whole (``3.0``): past 2**53 a float no longer holds
    every integer, so the seed sent could differ from the one written.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        return f"{SEED_RULE}, got {_shown(value)}"
    return None


def sampling_problems(inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(input name, message)`` for each of ``inputs``' sampling knobs that is not valid."""
    found = [
        ("temperature", temperature_problem(inputs.get("temperature"))),
        ("seed", seed_problem(inputs.get("seed"))),
    ]
    return [(name, message) for name, message in found if message is not None]


def step_sampling(inputs: Mapping[str, Any]) -> Sampling:
    """The sampling knobs a step's ``inputs`` set (``None`` where they set none).

    Raises:
        SamplingInputError: a knob is out of range or not a number (a definition stored
            before these checks existed; new ones are refused when they are saved).
    """
    problems = sampling_problems(inputs)
    if problems:
        raise SamplingInputError(problems)
    temperature, seed = inputs.get("temperature"), inputs.get("seed")
    return Sampling(
        temperature=None if temperature is None else float(temperature),
        seed=None if seed is None else int(seed),
    )


def _shown(value: Any) -> str:
    """``value`` for a message, cut short: a hostile input may be a huge number or text."""
    if isinstance(value, int) and value.bit_length() > 128:
        # repr of an int of thousands of digits raises (Python's int-to-text limit).
        return f"a number of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."
