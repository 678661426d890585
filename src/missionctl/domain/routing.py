"""Cost-aware model routing (pure): which model an ``llm:`` step runs on, and why (ADR 0119).

A step's **needs** are its role's minimum quality tier (:class:`RoutingRules`), the context its
prompt takes (the input share of its ``estimate_tokens``) and tool use when its role needs it.
A catalogue model **meets** them when it is routable, priced, holds the context, has the tools,
and either its tier (set by an admin) reaches the minimum or its record on the role earned it:

- a model's **record** on a role is its ended ``llm:<role>`` steps in the evidence window
  (each by how it finally ended: succeeded or failed), its success rate shrunk towards the
  default model's rate on the role by :attr:`RoutingRules.prior_weight` pseudo-steps;
- the record is **sure** from :attr:`RoutingRules.min_steps` steps. A sure record within
  :attr:`RoutingRules.tolerance` of the default model's rate lets the model do the role
  whatever its tier; a sure record below that keeps it off the role whatever its tier.

Among the models that meet the needs, routing takes the cheapest at the step's estimate that
fits what is left of the budget. The default model (``MISSIONCTL_LLM_MODEL``) is what runs
when nothing else qualifies, so a step never fails for want of a route. A pin (the step's or
the workflow's ``model``) is obeyed as it is: routing only says why.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from missionctl.domain.budget import ESTIMATE_INPUT_SHARE, Price, estimate_micros

_PRICING_TOKENS: Final = 1_000_000
"""What a step without an estimate is priced at to compare models: a million tokens."""


@dataclass(frozen=True, slots=True)
class RoutingRules:
    """What routing reads from its data file: tiers, each role's minimum, how sure is sure."""

    tier_names: Mapping[int, str]
    default_min_tier: int
    role_min_tiers: Mapping[str, int]
    tool_roles: frozenset[str]
    window_days: int
    min_steps: int
    tolerance: float
    prior_weight: float
    prior_success: float

    def min_tier(self, role: str) -> int:
        """The lowest tier a model must have to do ``role`` (the default for a role not listed)."""
        return self.role_min_tiers.get(role, self.default_min_tier)

    def tier_name(self, tier: int) -> str:
        """``"2 (standard)"``: a tier as people read it."""
        name = self.tier_names.get(tier)
        return f"{tier} ({name})" if name else str(tier)


@dataclass(frozen=True, slots=True)
class CatalogueModel:
    """A model routing may choose: what an admin set and what the price table knows.

    ``tier``, ``context_tokens`` and ``tool_use`` are ``None`` when nobody said; an unknown
    context or tool use does not keep a model off a step (the admin listed it as routable).
    """

    model: str
    routable: bool
    price: Price | None
    tier: int | None = None
    context_tokens: int | None = None
    tool_use: bool | None = None
    offered: bool | None = None  # whether the endpoint listed it at the last sync


@dataclass(frozen=True, slots=True)
class Record:
    """A model's ended steps of one role in the evidence window, and how many succeeded."""

    steps: int = 0
    succeeded: int = 0

    def rate(self, toward: float, weight: float) -> float:
        """The success rate shrunk towards ``toward`` by ``weight`` pseudo-steps."""
        return (self.succeeded + weight * toward) / (self.steps + weight)


@dataclass(frozen=True, slots=True)
class Needs:
    """What an ``llm:`` step asks of a model."""

    role: str
    min_tier: int
    context_tokens: int
    tools: bool
    estimate_tokens: int


@dataclass(frozen=True, slots=True)
class Considered:
    """One catalogue model as routing saw it for a step: its estimate and its verdict."""

    model: str
    estimate_micros: int | None
    verdict: str
    # What the model is compared at: the estimate, or a million tokens' price for a step
    # without one (``None``: no price).
    cost_key: int | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """Where a step runs and why; ``default_model`` is what it would have run on unrouted."""

    model: str
    default_model: str
    reason: str
    pinned: bool
    estimate_micros: int | None
    default_estimate_micros: int | None
    considered: tuple[Considered, ...] = field(default=())

    @property
    def saves_micros(self) -> int:
        """What the route is expected to save against the default model (0 when unknown)."""
        if self.estimate_micros is None or self.default_estimate_micros is None:
            return 0
        return self.default_estimate_micros - self.estimate_micros


def step_needs(rules: RoutingRules, role: str, estimate_tokens: int) -> Needs:
    """The needs of an ``llm:<role>`` step with ``estimate_tokens``."""
    return Needs(
        role=role,
        min_tier=rules.min_tier(role),
        context_tokens=round(estimate_tokens * ESTIMATE_INPUT_SHARE),
        tools=role in rules.tool_roles,
        estimate_tokens=estimate_tokens,
    )


@dataclass(frozen=True, slots=True)
class Routing:
    """Everything routing knows at one moment: the rules, the catalogue and the records.

    ``records`` maps ``(model, role)`` to the model's record on the role; ``default`` is the
    configured model (it need not be in ``catalogue``; ``default_price`` is its price).
    """

    rules: RoutingRules
    default: str
    default_price: Price | None
    catalogue: tuple[CatalogueModel, ...]
    records: Mapping[tuple[str, str], Record]

    @property
    def active(self) -> bool:
        """Whether any model but the default may be chosen (else every step runs unrouted)."""
        return any(m.routable and m.model != self.default for m in self.catalogue)

    def route(
        self,
        needs: Needs,
        *,
        pin: str | None = None,
        pinned_by: str = "its step",
        pin_price: Price | None = None,
        budget_left: int | None = None,
    ) -> Route:
        """Where a step with ``needs`` runs; ``budget_left`` in micro-dollars (``None``: no cap).

        ``pin`` is a model the step or its workflow (``pinned_by``) names: it is obeyed, and
        estimated at ``pin_price`` (else at the catalogue's price for it, if any).
        """
        default_estimate = self._estimate(self.default_price, needs)
        if pin is not None:
            return Route(
                model=pin,
                default_model=self.default,
                reason=f"pinned to {pin} by {pinned_by}",
                pinned=True,
                estimate_micros=self._estimate(pin_price or self._price_of(pin), needs),
                default_estimate_micros=default_estimate,
            )
        considered = [self._consider(m, needs, budget_left) for m in self._candidates()]
        fit = [c for c in considered if c.verdict == _MEETS and c.cost_key is not None]
        if not fit:
            return self._fallback(needs, considered, default_estimate, budget_left)
        best = min(fit, key=lambda c: (c.cost_key, c.model != self.default, c.model))
        marked = tuple(_mark(c, best.model) for c in considered)
        return Route(
            model=best.model,
            default_model=self.default,
            reason=self._why(best, needs, len(fit)),
            pinned=False,
            estimate_micros=best.estimate_micros,
            default_estimate_micros=default_estimate,
            considered=marked,
        )

    def judged_roles(self, model: str) -> tuple[list[str], list[str]]:
        """The roles ``model``'s sure records let it do, and those they keep it off, by name."""
        earned: list[str] = []
        barred: list[str] = []
        if model == self.default:
            return earned, barred
        for (name, role), record in sorted(self.records.items()):
            if name != model or record.steps < self.rules.min_steps:
                continue
            (earned if self._rate(model, role) >= self._bar(role) else barred).append(role)
        return earned, barred

    def success_rate(self, model: str, role: str) -> float:
        """``model``'s success rate on ``role``, shrunk towards the configured model's."""
        return self._default_rate(role) if model == self.default else self._rate(model, role)

    def sure(self, model: str, role: str) -> bool:
        """Whether ``model``'s record on ``role`` has the steps a verdict needs."""
        return self.records.get((model, role), Record()).steps >= self.rules.min_steps

    def record_text(self, model: str, role: str) -> str:
        """``model``'s record on ``role`` beside the default's, in words with its counts."""
        record = self.records.get((model, role), Record())
        return (
            f"{_pct(self._rate(model, role))} of {record.steps} {role} steps succeeded, "
            f"{self.default} {_pct(self._default_rate(role))}"
        )

    def _candidates(self) -> list[CatalogueModel]:
        """The catalogue with the default model in it (routable: it always was the choice)."""
        listed = [m for m in self.catalogue if m.model != self.default]
        own = next((m for m in self.catalogue if m.model == self.default), None)
        default = CatalogueModel(
            model=self.default,
            routable=True,
            price=self.default_price,
            tier=own.tier if own else None,
            context_tokens=own.context_tokens if own else None,
            tool_use=own.tool_use if own else None,
        )
        return [default, *listed]

    def _consider(self, model: CatalogueModel, needs: Needs, budget_left: int | None) -> Considered:
        estimate = self._estimate(model.price, needs)
        verdict = self._verdict(model, needs, estimate, budget_left)
        return Considered(model.model, estimate, verdict, self._cost_key(model.price, needs))

    def _verdict(
        self, model: CatalogueModel, needs: Needs, estimate: int | None, budget_left: int | None
    ) -> str:
        """:data:`_MEETS`, or what keeps ``model`` off the step, in words."""
        if not model.routable:
            return "not routable (an admin has not allowed it)"
        if model.offered is False:
            return "the endpoint did not list it at the last sync"
        if model.price is None:
            return "no price is known"
        if model.context_tokens is not None and model.context_tokens < needs.context_tokens:
            return f"holds {model.context_tokens:,} tokens, the step needs {needs.context_tokens:,}"
        if needs.tools and model.tool_use is False:
            return f"no tool use, which {needs.role} steps need"
        quality = self._quality(model, needs)
        if quality is not None:
            return quality
        if budget_left is not None and estimate is not None and estimate > budget_left:
            return "costs more than is left of the budget"
        return _MEETS

    def _quality(self, model: CatalogueModel, needs: Needs) -> str | None:
        """Why ``model`` may not do the role (``None``: it may): its record first, then its tier."""
        if model.model == self.default:
            return None
        record = self.records.get((model.model, needs.role), Record())
        sure = record.steps >= self.rules.min_steps
        if sure:
            rate, bar = self._rate(model.model, needs.role), self._bar(needs.role)
            if rate < bar:
                return (
                    f"succeeded in {_pct(rate)} of {record.steps} {needs.role} steps, "
                    f"below {self.default}'s {_pct(bar + self.rules.tolerance)}"
                )
            return None
        if model.tier is None:
            return (
                f"no tier, and {record.steps} of the {self.rules.min_steps} "
                f"{needs.role} steps that would earn the role"
            )
        if model.tier < needs.min_tier:
            return (
                f"tier {self.rules.tier_name(model.tier)}, below {needs.role}'s "
                f"{self.rules.tier_name(needs.min_tier)}"
            )
        return None

    def _rate(self, model: str, role: str) -> float:
        return self.records.get((model, role), Record()).rate(
            self._default_rate(role), self.rules.prior_weight
        )

    def _default_rate(self, role: str) -> float:
        record = self.records.get((self.default, role), Record())
        return record.rate(self.rules.prior_success, self.rules.prior_weight)

    def _bar(self, role: str) -> float:
        """The success rate a model must reach on ``role``: the default's less the tolerance."""
        return self._default_rate(role) - self.rules.tolerance

    @staticmethod
    def _cost_key(price: Price | None, needs: Needs) -> int | None:
        if price is None:
            return None
        return estimate_micros(price, needs.estimate_tokens or _PRICING_TOKENS)

    def _why(self, best: Considered, needs: Needs, fitting: int) -> str:
        if best.model == self.default:
            if fitting == 1:
                return f"the only model that may do {needs.role} steps"
            return f"the cheapest of {fitting} that may do {needs.role} steps"
        record = self.records.get((best.model, needs.role), Record())
        if record.steps >= self.rules.min_steps:
            earned = f"its record: {self.record_text(best.model, needs.role)}"
        else:
            tier = next(m.tier for m in self.catalogue if m.model == best.model)
            earned = f"tier {self.rules.tier_name(tier or 0)} set by an admin"
        saving = ""
        default_key = self._cost_key(self.default_price, needs)
        if best.cost_key is not None and default_key:
            saving = f"; expected {_pct(1 - best.cost_key / default_key)} cheaper"
        return f"the cheapest of {fitting} that may do {needs.role} steps ({earned}){saving}"

    def _fallback(
        self,
        needs: Needs,
        considered: list[Considered],
        default_estimate: int | None,
        budget_left: int | None,
    ) -> Route:
        over = budget_left is not None and any(
            c.verdict.startswith("costs more than") for c in considered
        )
        reason = (
            "no model that may do it fits what is left of the budget; the default runs"
            if over
            else f"no catalogue model may do {needs.role} steps; the default runs"
        )
        return Route(
            model=self.default,
            default_model=self.default,
            reason=reason,
            pinned=False,
            estimate_micros=default_estimate,
            default_estimate_micros=default_estimate,
            considered=tuple(considered),
        )

    def _price_of(self, model: str) -> Price | None:
        if model == self.default:
            return self.default_price
        return next((m.price for m in self.catalogue if m.model == model), None)

    @staticmethod
    def _estimate(price: Price | None, needs: Needs) -> int | None:
        """The step's estimate at ``price`` (``None``: no price, or the step has no estimate)."""
        if price is None or not needs.estimate_tokens:
            return None
        return estimate_micros(price, needs.estimate_tokens)


_MEETS: Final = "meets the step's needs"


def _mark(considered: Considered, chosen: str) -> Considered:
    if considered.verdict != _MEETS:
        return considered
    verdict = "chosen" if considered.model == chosen else "meets the needs, costs more"
    return Considered(considered.model, considered.estimate_micros, verdict, considered.cost_key)


def _pct(share: float) -> str:
    return f"{round(share * 100)}%"


def records_by_model_role(
    rows: Iterable[tuple[str, str, int, int]],
) -> dict[tuple[str, str], Record]:
    """``(model, role, attempts, succeeded)`` rows as :attr:`Routing.records`."""
    return {(model, role): Record(attempts, succeeded) for model, role, attempts, succeeded in rows}
