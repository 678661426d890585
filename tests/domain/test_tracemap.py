"""The traceability map's rules: its nodes and edges, each gap kind, the requirement filter,
and its drawing (valid SVG at 60+ nodes, every label whole in a title, hostile text escaped)."""

import xml.etree.ElementTree as ET

import pytest

from missionctl.domain.tracemap import (
    TraceArtifact,
    TraceClause,
    TraceDecision,
    TraceInput,
    TraceRequirement,
    TraceRisk,
    TraceTask,
    build_map,
    focus,
)
from missionctl.web.trace_graph import trace_svg

SVG = "{http://www.w3.org/2000/svg}"


def small(**changes: object) -> TraceInput:
    """Two requirements, three tasks, one risk and one decision; every link in place."""
    data = {
        "goal": "Build a URL shortener",
        "requirements": [
            TraceRequirement("R1", "Short links redirect"),
            TraceRequirement("R2", "Clicks are counted"),
        ],
        "tasks": [
            TraceTask("api", "Redirect endpoint", "Serve redirects for short links", traces=["R1"]),
            TraceTask(
                "stats", "Click counter", "Count clicks per link", traces=["R2"], depends_on=["api"]
            ),
            TraceTask(
                "docs",
                "Write the guide",
                "Document the service for its users",
                traces=["R1", "R2"],
            ),
        ],
        "risks": [TraceRisk("Lost clicks", "Click counter drops events", "medium")],
        "decisions": [TraceDecision("Counter store", "Keep the click counter in one table")],
    }
    data.update(changes)
    return TraceInput(**data)  # type: ignore[arg-type]


def test_the_map_of_a_small_plan_links_goal_requirements_tasks_and_attachments() -> None:
    trace = build_map(small())
    ids = [n.id for n in trace.nodes]
    assert ids[:6] == [
        "goal:goal",
        "requirement:R1",
        "requirement:R2",
        "task:api",
        "task:stats",
        "task:docs",
    ]
    assert {"risk:risk-1", "decision:decision-1"} <= set(ids)
    edges = {(e.kind, e.source, e.target) for e in trace.edges}
    assert ("traces", "goal:goal", "requirement:R1") in edges
    assert ("traces", "requirement:R2", "task:stats") in edges
    assert ("depends_on", "task:api", "task:stats") in edges
    # Relevance by shared significant words (domain.packs): "click counter" names the stats task.
    assert ("concerns", "risk:risk-1", "task:stats") in edges
    assert ("concerns", "decision:decision-1", "task:stats") in edges
    assert ("concerns", "risk:risk-1", "task:api") not in edges
    assert trace.gaps == () and not trace.ran


def test_an_untraced_requirement_and_a_task_that_traces_nothing_are_gaps() -> None:
    requirements = [*small().requirements, TraceRequirement("R3", "Links expire")]
    tasks = [*small().tasks, TraceTask("extra", "Tidy up", traces=[])]
    gaps = build_map(small(requirements=requirements, tasks=tasks)).gaps
    assert [(g.kind, g.item) for g in gaps] == [
        ("untraced_requirement", "requirement:R3"),
        ("task_traces_nothing", "task:extra"),
    ]
    assert "add a task that traces R3" in gaps[0].message


def test_a_task_tracing_only_unknown_keys_traces_nothing() -> None:
    tasks = [TraceTask("ghost", "Ghost", traces=["R9"]), *small().tasks]
    assert [g.item for g in build_map(small(tasks=tasks)).gaps] == ["task:ghost"]


def test_no_artifact_gaps_only_after_a_run_and_only_for_tasks_that_succeeded() -> None:
    unrun = [
        TraceTask("api", "Redirect endpoint", traces=["R1"]),
        TraceTask("stats", "Counter", traces=["R2"]),
    ]
    assert build_map(small(tasks=unrun)).gaps == ()
    ran = [
        TraceTask("api", "Redirect endpoint", traces=["R1"], status="succeeded", succeeded=True),
        TraceTask("stats", "Counter", traces=["R2"], status="failed"),
    ]
    gaps = build_map(small(tasks=ran, runs=1)).gaps
    assert [(g.kind, g.item) for g in gaps] == [("no_artifact", "task:api")]
    produced = build_map(small(tasks=ran, runs=1, artifacts=[TraceArtifact("a1", "api.md", "api")]))
    assert produced.gaps == () and produced.ran
    assert any(e.kind == "produced" and e.target == "artifact:a1" for e in produced.edges)


@pytest.mark.parametrize("severity", ["high", "critical"])
def test_a_serious_risk_without_a_mitigation_task_is_a_gap(severity: str) -> None:
    unlinked = build_map(small(risks=[TraceRisk("Abuse", "Spam links", severity)]))
    assert [(g.kind, g.item) for g in unlinked.gaps] == [("unmitigated_risk", "risk:risk-1")]
    assert "no task is linked to it" in unlinked.gaps[0].message
    # Without explicit links the relevance rule attaches it to every task, as in the pack.
    assert sum(e.source == "risk:risk-1" and e.kind == "concerns" for e in unlinked.edges) == 3
    elsewhere = build_map(small(risks=[TraceRisk("Abuse", "Spam links", severity, ["nope"])]))
    assert "none of its mitigation tasks is in the plan" in elsewhere.gaps[0].message
    linked = build_map(small(risks=[TraceRisk("Abuse", "Spam links", severity, ["api"])]))
    assert linked.gaps == ()
    assert [(e.kind, e.target) for e in linked.edges if e.source == "risk:risk-1"] == [
        ("mitigates", "task:api")
    ]


def test_a_medium_risk_needs_no_mitigation_task() -> None:
    assert build_map(small(risks=[TraceRisk("Slow", "Slow pages", "medium")])).gaps == ()


def test_the_requirement_filter_keeps_only_its_path() -> None:
    data = small(
        requirements=[*small().requirements, TraceRequirement("R3", "Links expire")],
        artifacts=[TraceArtifact("a1", "stats.md", "stats"), TraceArtifact("a2", "api.md", "api")],
        runs=1,
    )
    narrowed = focus(build_map(data), "R2")
    ids = {n.id for n in narrowed.nodes}
    assert ids == {
        "goal:goal", "requirement:R2", "task:stats", "task:docs",
        "artifact:a1", "risk:risk-1", "decision:decision-1",
    }  # fmt: skip
    assert all(e.source in ids and e.target in ids for e in narrowed.edges)
    assert narrowed.gaps == ()  # R3's gap is not on R2's path
    with pytest.raises(KeyError):
        focus(build_map(data), "R7")


CLAUSES = [
    TraceClause("short links redirect", "feature", requirements=["R1"]),
    TraceClause("counts clicks", "feature", tasks=["stats"]),
    TraceClause("GDPR applies", "constraint"),
]


def test_the_goals_clauses_lead_to_what_keeps_them_and_a_dropped_one_is_a_gap() -> None:
    trace = build_map(small(clauses=CLAUSES))
    nodes = {n.id: n for n in trace.nodes}
    assert [n.id for n in trace.nodes][:4] == ["goal:goal", "clause:C1", "clause:C2", "clause:C3"]
    assert [(nodes[c].status, nodes[c].detail) for c in ("clause:C1", "clause:C3")] == [
        ("covered", "feature"),
        ("dropped", "constraint"),
    ]
    edges = {(e.kind, e.source, e.target) for e in trace.edges}
    assert {("states", "goal:goal", f"clause:C{n}") for n in (1, 2, 3)} <= edges
    assert ("covers", "clause:C1", "requirement:R1") in edges
    assert ("covers", "clause:C2", "task:stats") in edges  # only an acceptance criterion keeps it
    # R1 hangs from its clause; R2, which no clause leads to, from the goal itself.
    assert ("traces", "goal:goal", "requirement:R1") not in edges
    assert ("traces", "goal:goal", "requirement:R2") in edges
    assert [(g.kind, g.item) for g in trace.gaps] == [("dropped_clause", "clause:C3")]
    assert "The goal says “GDPR applies”" in trace.gaps[0].message


def test_a_clause_naming_keys_the_plan_lacks_is_dropped_and_links_nowhere() -> None:
    ghost = [TraceClause("links expire", "feature", requirements=["R9"], tasks=["gone"])]
    trace = build_map(small(clauses=ghost))
    assert [e.target for e in trace.edges if e.kind == "covers"] == []
    assert trace.node("clause:C1").status == "dropped"  # type: ignore[union-attr]
    assert [(g.kind, g.item) for g in trace.gaps] == [("dropped_clause", "clause:C1")]


def test_the_requirement_filter_keeps_the_clauses_that_lead_to_it() -> None:
    narrowed = focus(build_map(small(clauses=CLAUSES)), "R1")
    ids = {n.id for n in narrowed.nodes}
    assert "clause:C1" in ids and "clause:C3" not in ids
    assert narrowed.gaps == ()


def test_clauses_are_drawn_under_the_goal_with_dashed_lines_to_what_keeps_them() -> None:
    svg = str(trace_svg(build_map(small(clauses=CLAUSES))))
    root = ET.fromstring(svg)
    nodes = {g.get("data-node"): g for g in root.iter(f"{SVG}g") if g.get("data-node")}
    goal_x = nodes["goal:goal"].get("transform", "").split("(")[1].split(",")[0]
    for clause in ("clause:C1", "clause:C2", "clause:C3"):
        assert nodes[clause].get("transform", "").startswith(f"translate({goal_x},")
    assert "trace__node--gap" in (nodes["clause:C3"].get("class") or "")
    covers = [p for p in root.iter(f"{SVG}path") if "trace__edge--covers" in (p.get("class") or "")]
    assert len(covers) == 2
    assert "Goal and clauses" in svg


def big() -> TraceInput:
    """A plan at its limits: 40 requirements, 20 tasks, artifacts, risks and decisions."""
    requirements = [
        TraceRequirement(f"R{n}", f"Requirement number {n} about feature {n}") for n in range(1, 41)
    ]
    tasks = [
        TraceTask(
            f"task-{n}", f"Task {n} with a title long enough to be shortened in its box",
            traces=[f"R{2 * n - 1}", f"R{2 * n}"] if n < 20 else [],
            status="succeeded", succeeded=True,
        )
        for n in range(1, 21)
    ]  # fmt: skip
    artifacts = [
        TraceArtifact(f"a{n}", f"artifact-{n}.md", f"task-{n % 15 + 1}") for n in range(30)
    ]
    risks = [TraceRisk(f"Risk {n}", "Something bad", "high" if n % 2 else "low") for n in range(6)]
    decisions = [TraceDecision(f"Decision {n}", "A choice") for n in range(4)]
    return TraceInput("A big goal", requirements, tasks, risks, decisions, artifacts, runs=1)


def test_sixty_plus_nodes_render_to_valid_svg_with_every_label_in_a_title() -> None:
    trace = build_map(big())
    assert len(trace.nodes) > 60
    root = ET.fromstring(str(trace_svg(trace)))
    assert root.tag == f"{SVG}svg"
    titles = " ".join(t.text or "" for t in root.iter(f"{SVG}title"))
    shown = [n for n in trace.nodes if n.kind in ("goal", "requirement", "task", "artifact")]
    assert all(n.label in titles for n in shown)
    gap_boxes = [g for g in root.iter(f"{SVG}g") if "trace__node--gap" in g.get("class", "")]
    # R40 and task-20 untraced, task-16..19 produced nothing, three high risks unmitigated.
    assert {g.get("data-node") for g in gap_boxes} >= {
        "requirement:R40",
        "task:task-20",
        "artifacts:task-16",
    }
    assert all("Gap" in "".join(g.itertext()) for g in gap_boxes)
    assert len([g for g in root.iter(f"{SVG}g") if g.get("data-node", "").startswith("risk:")]) == 3


def test_hostile_labels_are_escaped_and_kept_whole_in_titles() -> None:
    hostile = '<script>alert("x")</script> & ' + "ü" * 300 + " 地图 🚀"
    data = small(
        goal=hostile,
        requirements=[TraceRequirement("R1", hostile), TraceRequirement("R2", "Clicks")],
        artifacts=[TraceArtifact("a1", hostile, "api")],
        runs=1,
    )
    svg = str(trace_svg(build_map(data)))
    assert "<script>" not in svg
    root = ET.fromstring(svg)
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert sum(hostile in t for t in titles) >= 3
    assert all(len(t.text or "") <= 40 for t in root.iter(f"{SVG}text"))
