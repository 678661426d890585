"""The plan graph's layout (web/graph.py): layered, readable, and drawn without overlaps."""

import itertools

from missionctl.domain.states import StepRunStatus
from missionctl.schemas.dashboard import TaskView
from missionctl.web.graph import NODE_H, NODE_W, layout_graph
from missionctl.web.templating import templates


def chain_of_layers(tasks: int, width: int) -> list[TaskView]:
    """``tasks`` tasks in layers of ``width``, each depending on two tasks of the layer before."""
    views = []
    for n in range(tasks):
        layer, index = divmod(n, width)
        deps = [f"t{(layer - 1) * width + (index + k) % width}" for k in (0, 1)] if layer else []
        views.append(
            TaskView(key=f"t{n}", title=f"Task number {n} with a long title", depends_on=deps)
        )
    return views


def test_fifty_tasks_are_laid_out_in_layers_without_overlaps() -> None:
    tasks = chain_of_layers(50, 7)

    graph = layout_graph(tasks)

    assert len(graph.nodes) == 50
    assert len(graph.edges) == sum(len(t.depends_on) for t in tasks)
    for a, b in itertools.combinations(graph.nodes, 2):
        apart = (
            a.x + NODE_W <= b.x or b.x + NODE_W <= a.x or a.y + NODE_H <= b.y or b.y + NODE_H <= a.y
        )
        assert apart, (a.key, b.key)
    columns = {n.key: n.x for n in graph.nodes}
    for task in tasks:  # every dependency is drawn to the left of its task
        assert all(columns[d] < columns[task.key] for d in task.depends_on)
    assert len({n.x for n in graph.nodes}) == 8  # 50 tasks in layers of 7
    assert all(len(line) <= 25 for n in graph.nodes for line in n.title_lines)  # wrapped…
    assert all(n.full_title.startswith("Task number") for n in graph.nodes)  # …not lost
    assert graph.width < 2400 and graph.height < 600


def test_statuses_colour_nodes_and_edges_and_the_svg_names_them() -> None:
    tasks = [
        TaskView(key="a", title="Scope", status=StepRunStatus.succeeded),
        TaskView(key="b", title="Build", depends_on=["a"], status=StepRunStatus.running),
        TaskView(key="c", title="Ship", depends_on=["b"]),
    ]

    graph = layout_graph(tasks)
    macro = templates.env.get_template("components/graph.html").module.task_graph
    svg = str(macro(tasks))

    assert [n.status for n in graph.nodes] == ["succeeded", "running", "pending"]
    assert [e.status for e in graph.edges] == ["succeeded", "running"]
    assert 'class="graph__node graph__node--running" data-task="b" data-status="running"' in svg
    assert "<title>2. Build (Running)</title>" in svg
    assert "style=" not in svg  # colours come from classes (CSP without 'unsafe-inline')


def test_an_empty_plan_draws_nothing() -> None:
    assert layout_graph([]).nodes == []
    macro = templates.env.get_template("components/graph.html").module.task_graph
    assert "<svg" not in str(macro([]))


def test_long_titles_wrap_onto_two_lines_and_the_status_is_never_cut() -> None:
    title = "Design the public REST API contract for every billing and invoicing endpoint"
    tasks = [
        TaskView(
            key="api",
            title=title,
            role="backend-platform-engineer",
            status=StepRunStatus.awaiting_approval,
        )
    ]

    node = layout_graph(tasks).nodes[0]
    macro = templates.env.get_template("components/graph.html").module.task_graph
    svg = str(macro(tasks))

    assert node.title_lines == ("Design the public REST", "API contract for every b…")
    assert node.label == "1 · awaiting approval · backen…"  # fits its box: the role is cut
    assert node.full_label == "1 · awaiting approval · backend-platform-engineer"
    assert f"<title>1. {title} (Awaiting approval) · {node.full_label}</title>" in svg
    assert 'data-graph-zoom="in"' in svg and 'data-graph-zoom="fit"' in svg
