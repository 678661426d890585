"""Governance pages: the emergency stop of every page's header, the agents and the model prices.

- ``POST /emergency-stop`` and ``POST /emergency-stop/release``: the two controls of the stop
  (``components/emergency.html``). htmx is told to reload the page (``HX-Refresh``), since the
  stop changes what every part of it shows; a plain form post comes back with a 303.
- ``/agents``: every agent and its restrictions, each agent's utilisation over ``?window=``
  (1h, 24h or 7d), the programs command and coding steps run without an approver, and the
  repositories coding steps may work on; an admin enables, disables and limits an agent to risk
  tiers, allows or disallows a program (the same form route, ``POST /agents/command``) and a
  repository (``POST /agents/coding:*``). Block of ``pages/agents.html`` rendered alone:
  ``agent_update`` (the tables again and a toast).
- ``/settings/prices``: the price table; an admin sets a model's prices. Block of
  ``pages/prices.html`` rendered alone: ``price_update`` (the table, and the form again, with a
  message beside each field at fault on a 422, when nothing is stored).
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, get_args

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.status import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_CONTENT

from missionctl.domain.governance import (
    MAX_ENV_NAME_CHARS,
    MAX_ENV_NAMES,
    MAX_PROGRAM_CHARS,
    MAX_REPOSITORY_CHARS,
    env_name_problem,
    normal_repository,
    program_problem,
    repository_entry_problem,
)
from missionctl.errors import Problem, ValidationFailed
from missionctl.schemas.governance import AgentRead, AgentUpdate, AllowedProgram
from missionctl.schemas.plans import RiskTier
from missionctl.schemas.prices import PriceRead, PriceSet
from missionctl.schemas.utilisation import UtilisationWindow
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import agents as agent_service
from missionctl.services.usecases import controls as control_service
from missionctl.services.usecases import pricing
from missionctl.services.usecases import utilisation as utilisation_service
from missionctl.web.deps import Context, Fragment, Identity, P, requires
from missionctl.web.form_errors import first_per_field
from missionctl.web.page_reload import reload_page
from missionctl.web.templating import render

AGENTS_PAGE = "pages/agents.html"
PRICES_PAGE = "pages/prices.html"
AGENTS_URL = "/agents"
PRICES_URL = "/settings/prices"
RISK_TIERS: tuple[RiskTier, ...] = get_args(RiskTier)

router = APIRouter(route_class=GuardedRoute)

StopAll = Annotated[Identity, requires(P.EMERGENCY_STOP)]
ReleaseStop = Annotated[Identity, requires(P.EMERGENCY_RELEASE)]
AdminAgents = Annotated[Identity, requires(P.AGENTS_ADMIN)]
AdminPrices = Annotated[Identity, requires(P.PRICES_ADMIN)]
Reason = Annotated[str, Form(max_length=2000)]
Back = Annotated[str, Form(max_length=300)]


def _back(back: str, default: str = "/missions") -> RedirectResponse:
    """Redirect to ``back`` when it is a path of this site, else to ``default``."""
    target = back if back.startswith("/") and not back.startswith("//") else default
    return RedirectResponse(target, status_code=HTTP_303_SEE_OTHER)


# --- The emergency stop ----------------------------------------------------------------------
# Under htmx the page reloads: the stop changes its header, its lists and its controls.


@router.post("/emergency-stop")
async def engage_emergency_stop(
    ctx: Context, who: StopAll, fragment: Fragment, reason: Reason = "", back: Back = ""
) -> Response:
    """Stop everything: abort every active run and halt all dispatch until an admin releases.

    Raises:
        Conflict: the stop is already on (a toast, or an error page, names who engaged it).
    """
    await control_service.engage_emergency_stop(ctx, actor=who.actor, reason=reason.strip())
    return reload_page() if fragment else _back(back)


@router.post("/emergency-stop/release")
async def release_emergency_stop(
    ctx: Context, who: ReleaseStop, fragment: Fragment, reason: Reason = "", back: Back = ""
) -> Response:
    """Release the stop: dispatch resumes (the runs it aborted stay aborted).

    Raises:
        Conflict: the stop is not on.
    """
    await control_service.release_emergency_stop(ctx, actor=who.actor, reason=reason.strip())
    return reload_page() if fragment else _back(back)


# --- Agents ----------------------------------------------------------------------------------


class AgentForm(BaseModel):
    """A change to one agent as its row's forms post it.

    The switch posts ``enabled`` (``true`` or ``false``). The tier checkboxes post one
    ``allowed_risk_tiers`` per ticked box and ``set_tiers=1`` (a form with no box ticked sends no
    tier at all). Every box ticked means every tier, stored as the empty list; no box ticked is
    refused, since the empty list would allow everything: disabling is how an agent runs nothing.
    The allow-list's forms post ``program_action`` (``allow`` or ``disallow``), ``program``, and
    to allow, ``program_tier``, ``program_network=true`` when its box is ticked, and
    ``program_env``: the variables its steps may set, separated by commas or spaces. The
    repositories' forms (to ``coding:*``) post ``repository_action`` (``allow`` or
    ``disallow``) and ``repository``.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    enabled: Literal["", "true", "false"] = ""
    allowed_risk_tiers: list[RiskTier] = []
    set_tiers: Literal["", "1"] = ""
    program_action: Literal["", "allow", "disallow"] = ""
    program: Annotated[str, Field(max_length=MAX_PROGRAM_CHARS)] = ""
    program_tier: RiskTier = "read"
    program_network: Literal["", "true"] = ""
    program_env: Annotated[str, Field(max_length=MAX_ENV_NAMES * (MAX_ENV_NAME_CHARS + 2))] = ""
    repository_action: Literal["", "allow", "disallow"] = ""
    repository: Annotated[str, Field(max_length=MAX_REPOSITORY_CHARS)] = ""

    def to_update(self) -> AgentUpdate:
        """The service request this form stands for.

        Raises:
            ValidationFailed: the form changes nothing, allows no tier, or names no program
                that can be listed.
        """
        if self.program_action:
            return self._program_update()
        if self.repository_action:
            source = self.repository.strip()
            if problem := repository_entry_problem(source):
                raise ValidationFailed([Problem("repository", f"the repository {problem}")])
            allow = self.repository_action == "allow"
            return AgentUpdate(allowed_repositories={normal_repository(source): allow})
        if not self.enabled and not self.set_tiers:
            raise ValidationFailed([Problem("enabled", "nothing to change: send enabled or tiers")])
        tiers: list[RiskTier] | None = None
        if self.set_tiers:
            if not self.allowed_risk_tiers:
                problem = "tick at least one risk tier, or disable the agent to let it run nothing"
                raise ValidationFailed([Problem("allowed_risk_tiers", problem)])
            every = set(self.allowed_risk_tiers) == set(RISK_TIERS)
            tiers = [] if every else [t for t in RISK_TIERS if t in self.allowed_risk_tiers]
        return AgentUpdate(
            enabled=None if not self.enabled else self.enabled == "true",
            allowed_risk_tiers=tiers,
        )

    def _program_update(self) -> AgentUpdate:
        program = self.program
        if problem := program_problem(program):
            raise ValidationFailed([Problem("program", problem)])
        entry = None
        if self.program_action == "allow":
            names = self.program_env.replace(",", " ").split()
            if len(names) > MAX_ENV_NAMES:
                problem = f"name at most {MAX_ENV_NAMES} variables"
                raise ValidationFailed([Problem("program_env", problem)])
            for name in names:
                if problem := env_name_problem(name):
                    shown = name[:60]
                    problem = f"the variable {shown!r} {problem}; write names such as API_URL"
                    raise ValidationFailed([Problem("program_env", problem)])
            entry = AllowedProgram(
                tier=self.program_tier, network=self.program_network == "true", env=names
            )
        return AgentUpdate(allowed_programs={program: entry})


@router.get(AGENTS_URL, dependencies=[requires(P.AGENTS_READ)])
async def agents_page(
    request: Request,
    ctx: Context,
    window: Annotated[
        UtilisationWindow, Query(description="Utilisation over 1h, 24h or 7d")
    ] = "24h",
) -> Response:
    """Every agent (and kind of agent), whether it may run, which risk tiers, what it holds.

    Below them, each agent's utilisation over ``window`` (a 422 page for another window).
    """
    agents = await agent_service.list_agents(ctx)
    usage = await utilisation_service.read_utilisation(ctx, window=window)
    context = {"agents": agents, "tiers": RISK_TIERS, "utilisation": usage, "window": window}
    return render(request, AGENTS_PAGE, context)


@router.post(AGENTS_URL + "/{name}")
async def update_agent(
    request: Request,
    ctx: Context,
    who: AdminAgents,
    fragment: Fragment,
    name: str,
    form: Annotated[AgentForm, Form()],
) -> Response:
    """Enable or disable an agent, set the risk tiers it may run, or allow or disallow a program.

    Held steps the new rule allows are released at once.

    Raises:
        NotFound: no agent has that name.
        ValidationFailed: the form changes nothing, or names a program that cannot be listed
            (or programs for another agent than ``command``).
    """
    agent = await agent_service.update_agent(ctx, name=name, data=form.to_update(), actor=who.actor)
    if not fragment:
        return RedirectResponse(AGENTS_URL, status_code=HTTP_303_SEE_OTHER)
    context = {
        "agents": await agent_service.list_agents(ctx),
        "tiers": RISK_TIERS,
        "message": _agent_message(agent, form),
        "detail": _agent_detail(agent, form),
    }
    return render(request, AGENTS_PAGE, context, block="agent_update")


def _agent_message(agent: AgentRead, form: AgentForm) -> str:
    source = normal_repository(form.repository.strip())
    if form.repository_action == "allow":
        return f"{source} allowed for coding steps"
    if form.repository_action == "disallow":
        return f"{source} taken off the repositories"
    if form.program_action == "allow":
        return f"{form.program} allowed"
    if form.program_action == "disallow":
        return f"{form.program} taken off the allow-list"
    if form.enabled:
        return f"{agent.name} {'enabled' if agent.enabled else 'disabled'}"
    return f"Risk tiers of {agent.name} saved"


def _agent_detail(agent: AgentRead, form: AgentForm) -> str:
    if form.repository_action:
        count = len(agent.allowed_repositories)
        return f"Coding steps may work on {count} listed repositor{'y' if count == 1 else 'ies'}"
    if form.program_action:
        entry = agent.allowed_programs.get(form.program)
        if entry is None:
            return "Its steps wait for an approver"
        network = ", with the network" if entry.network else ""
        env = f", setting {', '.join(entry.env)}" if entry.env else ""
        return f"Its steps run at tier {entry.tier} or their own, if higher{network}{env}"
    held = f"; {agent.held_steps} held" if agent.held_steps else ""
    if not agent.enabled:
        return f"Its steps wait until it is enabled{held}"
    tiers = ", ".join(agent.allowed_risk_tiers)
    return f"It may run {tiers + ' steps' if tiers else 'steps of every risk tier'}{held}"


# --- Prices ----------------------------------------------------------------------------------


class PriceForm(BaseModel):
    """The "Set a price" form exactly as posted: every field is text, absent fields are empty."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    model: str = ""
    input_usd_per_mtok: str = ""
    cached_input_usd_per_mtok: str = ""
    output_usd_per_mtok: str = ""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "model",
        "input_usd_per_mtok",
        "cached_input_usd_per_mtok",
        "output_usd_per_mtok",
    )
    """The fields in the order the form shows them."""

    def to_price(self) -> PriceSet:
        """The service request: blank cached input means "the input price".

        Raises:
            pydantic.ValidationError: the input breaks a rule of ``PriceSet``.
        """
        data: dict[str, Any] = {
            "model": self.model.strip(),
            "input_usd_per_mtok": self.input_usd_per_mtok.strip() or None,
            "output_usd_per_mtok": self.output_usd_per_mtok.strip() or None,
        }
        if cached := self.cached_input_usd_per_mtok.strip():
            data["cached_input_usd_per_mtok"] = cached
        return PriceSet.model_validate(data)


def price_errors(error: ValidationError) -> dict[str, str]:
    """One readable message per field of the price form (the first problem of each)."""
    return first_per_field(error, fields=PriceForm.FIELDS, default="model", wording=_price_message)


def _price_message(field: str, detail: Mapping[str, Any]) -> str:
    kind = detail.get("type", "")
    limit = (detail.get("ctx") or {}).get("le")
    if field == "model":
        if kind == "string_too_long":
            return "Too long: keep the model name under 200 characters."
        return "Name the model as its API does, like gpt-4o."
    if kind in {"missing", "decimal_type", "none_required"}:
        return "Enter a price in US dollars per million tokens, like 2.50."
    if kind in {"decimal_parsing", "finite_number"}:
        return "Enter a number of US dollars, like 2.50 or 0.075."
    if kind == "greater_than_equal":
        return "A price cannot be negative."
    if kind == "less_than_equal":
        return f"At most ${Decimal(str(limit)):,} per million tokens."
    if kind in {"decimal_max_places", "decimal_max_digits"}:
        return "Use at most six decimal places."
    return str(detail.get("msg", "Check this value."))


def _price_context(
    prices: list[PriceRead],
    *,
    configured: str | None,
    form: PriceForm | None = None,
    errors: dict[str, str] | None = None,
    saved: PriceRead | None = None,
) -> dict[str, Any]:
    errors = errors or {}
    return {
        "prices": prices,
        "configured": configured,
        "form": form or PriceForm(),
        "errors": errors,
        "first_error": next((name for name in PriceForm.FIELDS if name in errors), None),
        "saved": saved,
    }


@router.get(PRICES_URL, dependencies=[requires(P.PRICES_READ)])
async def prices_page(request: Request, ctx: Context) -> Response:
    """The price table: overridden models, the configured model and the common ones."""
    model = ctx.settings.llm.model
    prices = await pricing.list_prices(ctx, configured_model=model)
    return render(request, PRICES_PAGE, _price_context(prices, configured=model))


@router.post(PRICES_URL)
async def set_price(
    request: Request,
    ctx: Context,
    who: AdminPrices,
    fragment: Fragment,
    form: Annotated[PriceForm, Form()],
) -> Response:
    """Set a model's prices from now on (older prices stay as history).

    On invalid input nothing is stored: the form comes back with a message beside each field at
    fault (422), the whole page for a plain browser, the form and the table for htmx.
    """
    model = ctx.settings.llm.model
    try:
        data = form.to_price()
    except ValidationError as exc:
        prices = await pricing.list_prices(ctx, configured_model=model)
        context = _price_context(prices, configured=model, form=form, errors=price_errors(exc))
        status = HTTP_422_UNPROCESSABLE_CONTENT
        if fragment:
            return render(request, PRICES_PAGE, context, block="price_update", status_code=status)
        return render(request, PRICES_PAGE, context, status_code=status)
    saved = await pricing.set_price(ctx, data=data, actor=who.actor)
    if not fragment:
        return RedirectResponse(PRICES_URL, status_code=HTTP_303_SEE_OTHER)
    prices = await pricing.list_prices(ctx, configured_model=model)
    context = _price_context(prices, configured=model, saved=saved)
    return render(request, PRICES_PAGE, context, block="price_update")
