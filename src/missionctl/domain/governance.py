"""Dispatch governance (pure): agent restrictions and what they hold back.

An agent can be disabled, or limited to some risk tiers. A rule is kept per agent name: an
exact name (``command``, ``builtin:architect``, ``llm:writer``) or a whole kind (``llm:*``);
the exact rule wins. A queued step whose agent's rule refuses it is *held*: it stays queued
with the reason shown, and is not dispatched until a change to the rule allows it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AgentRule:
    """What an agent may do. ``allowed_risk_tiers`` empty means every tier."""

    enabled: bool = True
    allowed_risk_tiers: tuple[str, ...] = ()

    @property
    def restricts(self) -> bool:
        """Whether the rule can hold any step back."""
        return not self.enabled or bool(self.allowed_risk_tiers)


def rule_for(rules: Mapping[str, AgentRule], agent: str) -> AgentRule | None:
    """The rule of ``agent``: its exact name's, else its kind's (``kind:*``), else none."""
    rule = rules.get(agent)
    if rule is None and ":" in agent:
        rule = rules.get(agent.partition(":")[0] + ":*")
    return rule


def hold_reason(rules: Mapping[str, AgentRule], *, agent: str, risk_tier: str) -> str | None:
    """Why a step of ``agent`` at ``risk_tier`` may not be dispatched, or ``None`` if it may."""
    rule = rule_for(rules, agent)
    if rule is None:
        return None
    if not rule.enabled:
        return f"agent {agent} is disabled; an admin can enable it"
    if rule.allowed_risk_tiers and risk_tier not in rule.allowed_risk_tiers:
        allowed = ", ".join(rule.allowed_risk_tiers)
        return (
            f"agent {agent} may run only {allowed} steps and this step is {risk_tier}; "
            "an admin can allow the tier"
        )
    return None


def any_restricted(rules: Mapping[str, AgentRule], agents: Sequence[str]) -> bool:
    """Whether any of ``agents`` has a rule that can hold a step back."""
    for agent in agents:
        rule = rule_for(rules, agent)
        if rule is not None and rule.restricts:
            return True
    return False
