"""The Costs page: spend by agent, model, role and requirement, over time, for any scope.

The scope (system, a run, a mission, a workflow), the bucket and the window are in the URL,
so a view can be bookmarked and shared; they are the API's names (``GET /api/v1/costs``).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from missionctl.schemas.costs import SCOPE_ID_MAX_CHARS, CostBreakdown
from missionctl.schemas.routing import load_rules
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import costs as cost_service
from missionctl.web.charts import cost_bars, cost_over_time
from missionctl.web.deps import Context, P, requires
from missionctl.web.templating import render

router = APIRouter(route_class=GuardedRoute)

PAGE = "pages/costs.html"
Text = Annotated[str, Query(max_length=SCOPE_ID_MAX_CHARS)]


def cost_charts(breakdown: CostBreakdown) -> dict[str, Any]:
    """The SVG charts of a breakdown, for a template: over time, by model and by agent."""
    return {
        "over_time": cost_over_time(breakdown.over_time, bucket=breakdown.bucket),
        "by_model": cost_bars(breakdown.by_model, title="Cost by model", testid="cost-by-model"),
        "by_agent": cost_bars(breakdown.by_agent, title="Cost by agent", testid="cost-by-agent"),
    }


@router.get("/costs", dependencies=[requires(P.RUNS_READ)])
async def costs_page(
    request: Request,
    ctx: Context,
    scope: Text = "",
    id: Text = "",
    bucket: Text = "",
    since: Text = "",
    until: Text = "",
) -> Response:
    """Costs of the scope the URL names (the whole system by default).

    Raises:
        ValidationFailed: a scope, id, bucket or time the API would refuse (a 422 page).
        NotFound: no run, mission or workflow has that id or name (a 404 page).
    """
    raw = {"scope": scope, "id": id, "bucket": bucket, "since": since, "until": until}
    query = cost_service.parse_cost_query(raw)
    breakdown = await cost_service.read_costs(ctx, query=query)
    context = {
        "costs": breakdown,
        "charts": cost_charts(breakdown),
        "query": query,
        "routing_min_steps": load_rules().min_steps,
    }
    return render(request, PAGE, context)
