"""The insights cockpit (``/insights``), its panels' fragments, and the metric definitions page.

``GET /insights`` draws the whole page with every panel (it works without JavaScript: the
filter bar is a GET form). For htmx, the same URL answers the filter bar alone: its message,
the preset's days, and every panel as a loading placeholder that fetches its own fragment,
``GET /insights/panels/NAME`` (``web/insights.py``), with ``HX-Push-Url`` naming the view. With
invalid filters it answers 422 with the message only, so the panels keep what they showed and
the address stays the last good view. Blocks rendered alone (``pages/insights.html``):
``filters_update`` and ``panel_update`` (a panel and the "last updated" line).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from missionctl.domain.access import ROLES
from missionctl.domain.analytics import PLANNERS
from missionctl.errors import NotFound
from missionctl.schemas.analytics import DefinitionItem, load_definitions
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import analytics as analytics_service
from missionctl.web.charts import trend_charts
from missionctl.web.deps import Context, Fragment, P, RuntimeDep, requires
from missionctl.web.insights import (
    PANELS,
    RANGE_LABELS,
    CockpitFilters,
    PanelView,
    funnel_totals,
    heat_level,
    kpi_tiles,
    panel_order,
    parse_filters,
    read_panel,
)
from missionctl.web.templating import render

router = APIRouter(route_class=GuardedRoute)

PAGE = "pages/insights.html"
DEFINITIONS_PAGE = "pages/insight_definitions.html"

Preset = Annotated[str, Query(alias="range", max_length=16)]
Day = Annotated[str, Query(max_length=64)]
GrainText = Annotated[str, Query(max_length=16)]
SegmentText = Annotated[str, Query(max_length=240)]
PanelName = Annotated[str, Path(max_length=32)]


def _filters(
    preset: Preset = "",
    since: Day = "",
    until: Day = "",
    grain: GrainText = "",
    segment: SegmentText = "",
) -> CockpitFilters:
    """The cockpit's filters from the URL; invalid ones say why (``query`` is then None)."""
    return parse_filters(preset=preset, since=since, until=until, grain=grain, segment=segment)


Filters = Annotated[CockpitFilters, Depends(_filters)]


async def _page_context(ctx: Context, filters: CockpitFilters) -> dict[str, Any]:
    """What the filter bar and the layout need: the segments on offer, the panels' names."""
    workflows = await analytics_service.read_workflow_names(ctx)
    segments = [
        ("Role", [f"role:{role.value}" for role in ROLES]),
        ("Planner", [f"planner:{name}" for name in PLANNERS]),
        ("Workflow", [f"workflow:{name}" for name in workflows]),
    ]
    return {
        "filters": filters,
        "range_labels": RANGE_LABELS,
        "segments": segments,
        "panels": panel_order(PANELS),
        "definitions": _definitions_by_key(),
        "heat_level": heat_level,
    }


def _definitions_by_key() -> dict[str, DefinitionItem]:
    """Every metric's definition by key, and the funnel's own as ``funnel`` (its title's)."""
    funnel = load_definitions().funnel
    found = {item.key: item for item in analytics_service.read_definitions().items}
    found["funnel"] = DefinitionItem(
        key="funnel",
        group="funnel",
        label=funnel.label,
        definition=funnel.definition,
        unit=funnel.unit,
        events=[event for step in funnel.steps for event in step.events],
    )
    return found


def _panel_context(view: PanelView) -> dict[str, Any]:
    """A panel's view and what its template draws from the answer (tiles, bars, charts)."""
    drawn: Any = None
    if view.state == "ready":
        if view.name == "kpis":
            drawn = kpi_tiles(view.answer)
        elif view.name == "funnel":
            drawn = funnel_totals(view.answer)
        elif view.name == "trends":
            drawn = trend_charts(view.answer)
    return {"view": view, "drawn": drawn}


@router.get("/insights", dependencies=[requires(P.ANALYTICS_READ)])
async def insights_page(
    request: Request,
    ctx: Context,
    runtime: RuntimeDep,
    fragment: Fragment,
    filters: Filters,
) -> Response:
    """The cockpit for the filters in the URL; invalid filters are a 422 saying which and why.

    For htmx, the filter bar's answer only (see the module's docstring).
    """
    context = await _page_context(ctx, filters)
    status = 200 if filters.query is not None else 422
    if fragment:
        headers = {"HX-Push-Url": filters.url() if filters.query is not None else "false"}
        return render(
            request, PAGE, context, block="filters_update", status_code=status, headers=headers
        )
    views = {}
    if filters.query is not None:
        # The model may take seconds to write the summary: the page does not wait for it, its
        # panel loads on its own (without a model the deterministic writer is instant).
        drawn = [p for p in context["panels"] if not (p == "summary" and runtime.llm is not None)]
        views = {name: await read_panel(ctx, name, filters) for name in drawn}
    context["views"] = {name: _panel_context(view) for name, view in views.items()}
    return render(request, PAGE, context, status_code=status)


@router.get("/insights/panels/{name}", dependencies=[requires(P.ANALYTICS_READ)])
async def insights_panel(
    request: Request,
    ctx: Context,
    runtime: RuntimeDep,
    name: PanelName,
    filters: Filters,
) -> Response:
    """One panel for the filters in the URL, with the "last updated" line.

    A panel that fails answers 200 with its error state and Retry (the others are separate
    requests); invalid filters answer 422 with the panel's error state saying what to fix.

    Raises:
        NotFound: no panel has that name.
    """
    if name not in PANELS:
        raise NotFound(f"no insights panel named {name[:32]}; see /insights", field="name")
    context = {
        "filters": filters,
        "definitions": _definitions_by_key(),
        "heat_level": heat_level,
        "name": name,
    }
    if filters.query is None:
        context["current"] = _panel_context(PanelView(name, failed=filters.message))
        return render(request, PAGE, context, block="panel_update", status_code=422)
    view = await read_panel(ctx, name, filters, runtime.llm)
    context["current"] = _panel_context(view)
    return render(request, PAGE, context, block="panel_update")


@router.get("/insights/definitions", dependencies=[requires(P.ANALYTICS_READ)])
async def definitions_page(request: Request) -> Response:
    """What every metric of the cockpit means: label, definition, unit, events, windows."""
    context = {"answer": analytics_service.read_definitions(), "funnel": load_definitions().funnel}
    return render(request, DEFINITIONS_PAGE, context)
