"""Model routing's rules (``routing.yaml``), and the catalogue and a route as read (ADR 0119)."""

from functools import cache
from importlib.resources import files
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from missionctl.domain.routing import Considered, Route, RoutingRules
from missionctl.schemas.datafiles import read_data_file

Tier = Annotated[int, Field(ge=1, le=3, description="1 economy, 2 standard, 3 frontier.")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Evidence(_Strict):
    window_days: int = Field(ge=1, le=365)
    min_steps: int = Field(ge=1, le=10_000)
    tolerance: float = Field(ge=0, le=1)
    prior_weight: float = Field(gt=0, le=10_000)
    prior_success: float = Field(ge=0, le=1)


class _RulesFile(_Strict):
    tiers: dict[Tier, Annotated[str, Field(min_length=1, max_length=40)]]
    default_min_tier: Tier
    role_min_tiers: dict[Annotated[str, Field(min_length=1, max_length=60)], Tier]
    tool_roles: list[str] = Field(default_factory=list)
    evidence: _Evidence


@cache
def load_rules() -> RoutingRules:
    """The routing rules shipped with the package (read and validated once).

    Raises:
        DataFileError: the file is broken; the message names the field and the fix.
    """
    data = read_data_file(
        files("missionctl.schemas").joinpath("routing.yaml"), TypeAdapter(_RulesFile)
    )
    return RoutingRules(
        tier_names=dict(data.tiers),
        default_min_tier=data.default_min_tier,
        role_min_tiers=dict(data.role_min_tiers),
        tool_roles=frozenset(data.tool_roles),
        window_days=data.evidence.window_days,
        min_steps=data.evidence.min_steps,
        tolerance=data.evidence.tolerance,
        prior_weight=data.evidence.prior_weight,
        prior_success=data.evidence.prior_success,
    )


class CatalogueChange(_Strict):
    """An admin's settings for one model of the catalogue; fields left out keep their value.

    A ``null`` tier, context or tool use clears it (back to unknown). Strict: ``0`` is not
    ``false`` and ``"3"`` is not ``3`` (what the JSON Schema refuses).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    routable: bool = Field(
        default=False,
        description="Whether routing may choose the model for steps that pin none; left out: "
        "kept as it is (a new model starts not routable).",
    )
    tier: Tier | None = None
    context_tokens: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        description="The most tokens a prompt may hold (default: the price table's figure).",
    )
    tool_use: bool | None = Field(default=None, description="Whether the model can call tools.")


class CatalogueModelRead(BaseModel):
    """A model of the catalogue: what routing knows of it and where each figure comes from."""

    model: str
    default: bool = Field(description="The configured model (`MISSIONCTL_LLM_MODEL`).")
    routable: bool
    tier: int | None
    tier_name: str | None
    context_tokens: int | None
    context_source: str | None = Field(description="`admin`, `genai-prices` or null.")
    tool_use: bool | None
    offered: bool | None = Field(
        description="Whether the endpoint listed it at the last `models sync` (null: not "
        "synced); routing never chooses one it did not list."
    )
    priced: bool
    input_usd_per_mtok: float | None
    output_usd_per_mtok: float | None
    earned_roles: list[str] = Field(
        description="Roles whose steps the model's sure record lets it do, whatever its tier."
    )
    barred_roles: list[str] = Field(
        description="Roles whose steps its sure record keeps it off, whatever its tier."
    )
    updated_by: str | None
    updated_at: str | None


class ConsideredRead(BaseModel):
    """A model routing weighed for a step, with its estimate and its verdict."""

    model: str
    estimate_usd: float | None
    verdict: str


class RouteRead(BaseModel):
    """Where an ``llm:`` step runs and why (its ``step.routed`` event, its page)."""

    model: str
    default_model: str
    reason: str
    pinned: bool
    estimate_usd: float | None
    default_estimate_usd: float | None
    considered: list[ConsideredRead]


def route_payload(route: Route) -> dict[str, object]:
    """A route as the ``step.routed`` event records it (micro-dollars, as events keep money)."""
    return {
        "model": route.model,
        "default_model": route.default_model,
        "reason": route.reason,
        "pinned": route.pinned,
        "estimate_micros": route.estimate_micros,
        "default_estimate_micros": route.default_estimate_micros,
        "considered": [_considered(c) for c in route.considered],
    }


def _considered(c: Considered) -> dict[str, object]:
    return {"model": c.model, "estimate_micros": c.estimate_micros, "verdict": c.verdict}
