"""The API contract: resources and endpoints derived from the entities, errors, auth, roles."""

import re
from dataclasses import dataclass

from missionctl.agents.specialists.brief import Brief
from missionctl.agents.specialists.markdown import (
    bullets,
    join_words,
    section,
    slug,
    table,
)
from missionctl.domain.english import with_article
from missionctl.reading import Entity, plural

API_BASE = "/api/v1"
REPORTING = re.compile(
    r"analytics|metrics|trends|funnels?|retention|cohorts?|stats|reports?|dashboards?|insights"
    r"|summar",
    re.I,
)
STATUSES = (
    (400, "Malformed request"),
    (401, "Missing or invalid token"),
    (403, "Authenticated but not allowed (see the authorisation matrix)"),
    (404, "No such resource, or not visible to the caller"),
    (409, "Conflicts with the current state (duplicate, wrong status)"),
    (422, "Validation failed; `field` says which input"),
    (429, "Rate limited; `Retry-After` says when to retry"),
)
CONVENTIONS = (
    "JSON bodies, UTF-8, ISO-8601 UTC timestamps, ids are UUIDs.",
    "Lists: `?limit=` (max 200) and `?cursor=`; responses carry `next_cursor`.",
    "Writes accept an `Idempotency-Key` header; a repeat returns the first result.",
    f"Versioned under `{API_BASE}`; only additive changes within a version.",
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One HTTP operation."""

    method: str
    path: str
    purpose: str
    auth: str


def roles(brief: Brief) -> list[str]:
    """The roles of the authorisation matrix, named after the goal's domain when it has one."""
    goal = brief.goal.lower()
    if re.search(r"clinic|patient|hospital|health", goal):
        return ["receptionist", "clinician", "admin"]
    if re.search(r"gym|member|class", goal):
        return ["member", "instructor", "admin"]
    if re.search(r"shop|order|store|customer", goal):
        return ["customer", "staff", "admin"]
    return ["viewer", "editor", "admin"]


def _resource(brief: Brief, e: Entity, auth: str) -> list[Endpoint]:
    present = {x.name: x for x in brief.entities}
    parent = next((present[r] for r in e.refs() if r in present and r != "User"), None)
    collection = f"{API_BASE}/{e.path}"
    if parent is not None:
        field = next(c.name for c in e.attributes if c.ref == parent.name)
        collection = f"{API_BASE}/{parent.path}/{{{field}}}/{e.path}"
    item = f"{API_BASE}/{e.path}/{{id}}"
    name = e.name.lower()
    result = [
        Endpoint("GET", collection, f"List {plural(name)} (cursor pagination)", auth),
        Endpoint(
            "POST",
            collection,
            f"{'Record' if e.append_only else 'Create'} {with_article(name)}",
            auth,
        ),
        Endpoint("GET", item, f"Read one {name}", auth),
    ]
    if not e.append_only:
        result.append(
            Endpoint("PATCH", item, f"Change {with_article(name)} (fields sent only)", auth)
        )
        result.append(Endpoint("DELETE", item, f"Archive {with_article(name)} (soft delete)", auth))
    if e.name == "Link":
        purpose = "Redirect (302) to the target URL and record a click"
        result.append(Endpoint("GET", "/{slug}", purpose, "none (rate limited)"))
    return result


def endpoints(
    brief: Brief, entities: list[Entity] | None = None, *, about: str | None = None
) -> list[Endpoint]:
    """The endpoints of ``entities`` (default: all) and of the reporting features.

    With ``about``, only the reporting features named in that text get their endpoint.
    """
    auth = "bearer token" if brief.traits & {"auth", "pii", "api", "web", "mobile"} else "none"
    result: list[Endpoint] = []
    for e in brief.entities if entities is None else entities:
        if e.name != "User" or "auth" in brief.traits:
            result += _resource(brief, e, auth)
    for f in brief.features:
        if REPORTING.search(f.text) and (about is None or f.text.lower() in about.lower()):
            path = f"{API_BASE}/reports/{slug(f.phrase)}?from=&to=&bucket=day"
            result.append(Endpoint("GET", path, f"Aggregates for {f.text}", auth))
    return result


def commands(brief: Brief) -> list[tuple[str, str]]:
    """``(command, what it does)`` for a command-line tool: one per feature, help, version."""
    tool = slug(brief.subject.split(" for ")[0]) or "tool"
    rows = [
        (f"{tool} {slug(f.title.split(' ', 1)[0])} …", f.title) for f in brief.features if f.action
    ]
    rows += [(f"{tool} --{slug(f.text)}", f.title) for f in brief.features if not f.action]
    return [
        *rows,
        (f"{tool} --help", "Usage, options and examples"),
        (f"{tool} --version", "Version"),
    ]


def write_api_contract(brief: Brief) -> list[str]:
    """``api-contract.md``: resources, endpoints, error shape, auth, conventions, coverage.

    Software with no HTTP surface (a CLI or library) gets its command contract instead.
    """
    if not brief.serves_http:
        codes = [
            (0, "success"),
            (1, "invalid input (the message names the argument)"),
            (2, "partial failure"),
        ]
        return [
            *section("Commands", table(["Command", "Does"], commands(brief))),
            *section("Exit codes", table(["Code", "Meaning"], codes)),
        ]
    ops = endpoints(brief)
    resources = [
        (e.name, f"{API_BASE}/{e.path}", ", ".join(c.name for c in e.attributes))
        for e in brief.entities
    ]
    field = next(
        (
            c.name
            for e in brief.entities
            for c in e.attributes
            if c.name not in ("id", "created_at")
        ),
        "name",
    )
    example = {"code": "validation_failed", "message": f"{field}: is required", "field": field}
    error = [
        "Every error has one JSON shape; `field` names the input at fault when there is one.",
        "",
        "```json",
        '{"error": {' + ", ".join(f'"{k}": "{v}"' for k, v in example.items()) + "}}",
        "```",
        "",
        *table(["Status", "When"], STATUSES),
    ]
    auth = [
        "Bearer tokens in the `Authorization` header; tokens expire and can be revoked.",
        f"Roles: {join_words(roles(brief))}; every endpoint checks role and ownership in the "
        "service layer.",
    ]
    if "public" in brief.traits:
        auth.append("Public endpoints are rate limited per IP and per token.")
    coverage = []
    for f in brief.features:
        paths = sorted({o.path for o in endpoints(brief, brief.entities_in(f.text), about=f.text)})
        keys = ", ".join(brief.requirements_for(f.text)) or "—"
        coverage.append((f.title, ", ".join(paths) or "—", keys))
    return [
        *section("Resources", table(["Resource", "Path", "Fields"], resources)),
        *section(
            "Endpoints",
            table(
                ["Method", "Path", "Purpose", "Auth"],
                [(o.method, o.path, o.purpose, o.auth) for o in ops],
            ),
        ),
        *section("Error shape", error),
        *section("Authentication and authorisation", bullets(auth)),
        *section("Conventions", bullets(CONVENTIONS)),
        *section("Feature coverage", table(["Feature", "Paths", "Requirements"], coverage)),
    ]
