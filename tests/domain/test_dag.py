"""DAG validation, layers and the ready set."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missionctl.domain.dag import (
    CYCLE_ARROW,
    DagNode,
    Node,
    ensure_valid_dag,
    ready_set,
    topological_layers,
    validate_dag,
)
from missionctl.domain.states import StepRunStatus
from missionctl.errors import Problem, ValidationFailed

W = StepRunStatus


def nodes(spec: dict[str, list[str]]) -> list[Node]:
    """Build nodes from ``{id: depends_on}`` in dict order."""
    return [Node(step_id, deps) for step_id, deps in spec.items()]


# -- valid graphs --


def test_an_empty_workflow_is_valid() -> None:
    assert validate_dag([]) == []
    assert topological_layers([]) == []
    assert ready_set([], {}) == []


def test_a_diamond_is_valid_and_layered_in_input_order() -> None:
    dag = nodes(
        {
            "build": [],
            "lint": [],
            "unit": ["build"],
            "e2e": ["build", "lint"],
            "deploy": ["e2e", "unit"],
        }
    )
    assert validate_dag(dag) == []
    ensure_valid_dag(dag)
    assert topological_layers(dag) == [["build", "lint"], ["unit", "e2e"], ["deploy"]]


def test_layers_keep_input_order_not_release_order() -> None:
    dag = nodes({"z": ["a"], "y": ["b"], "b": [], "a": []})
    assert topological_layers(dag) == [["b", "a"], ["z", "y"]]


def test_a_dependency_listed_twice_counts_once() -> None:
    dag = nodes({"build": [], "test": ["build", "build"]})
    assert validate_dag(dag) == []
    assert topological_layers(dag) == [["build"], ["test"]]


def test_any_object_with_id_and_depends_on_is_a_node() -> None:
    @dataclass
    class Step:
        id: str
        depends_on: list[str] = field(default_factory=list)
        agent: str = "builtin"

    steps: Sequence[DagNode] = [Step("a"), Step("b", ["a"])]
    assert validate_dag(steps) == []
    assert topological_layers(steps) == [["a"], ["b"]]


def test_node_stores_its_dependencies_as_a_tuple() -> None:
    deps = ["a"]
    node = Node("b", deps)
    deps.append("c")
    assert node.depends_on == ("a",)
    assert hash(node) == hash(Node("b", ("a",)))


# -- each problem, with its exact message --


def test_unknown_dependency_names_the_step_and_the_missing_id() -> None:
    dag = nodes({"build": [], "test": ["build"], "deploy": ["buidl"]})
    assert validate_dag(dag) == [
        Problem(
            field="steps.2.depends_on",
            message=(
                "step 'deploy' depends on 'buidl', which does not exist; did you mean 'build'?"
            ),
        )
    ]


def test_unknown_dependency_without_a_close_match_has_no_hint() -> None:
    dag = nodes({"build": [], "deploy": ["qa-signoff"]})
    assert validate_dag(dag) == [
        Problem(
            field="steps.1.depends_on",
            message="step 'deploy' depends on 'qa-signoff', which does not exist",
        )
    ]


def test_duplicate_ids_are_each_named() -> None:
    dag = [*nodes({"build": [], "test": ["build"]}), Node("build"), Node("test"), Node("build")]
    assert validate_dag(dag) == [
        Problem(
            "steps.2.id", "step id 'build' is already used by steps.0; step ids must be unique"
        ),
        Problem("steps.3.id", "step id 'test' is already used by steps.1; step ids must be unique"),
        Problem(
            "steps.4.id", "step id 'build' is already used by steps.0; step ids must be unique"
        ),
    ]


def test_self_dependency() -> None:
    dag = nodes({"build": ["build"]})
    assert validate_dag(dag) == [
        Problem("steps.0.depends_on", "step 'build' depends on itself"),
    ]


def test_two_step_cycle() -> None:
    dag = nodes({"build": ["test"], "test": ["build"]})
    assert validate_dag(dag) == [
        Problem(
            "steps.0.depends_on",
            "dependency cycle: build → test → build; remove one of these dependencies",
        )
    ]


def test_cycle_is_written_in_execution_order() -> None:
    # deploy runs after test, test after build, and build (wrongly) after deploy.
    dag = nodes({"build": ["deploy"], "test": ["build"], "deploy": ["test"], "docs": ["build"]})
    assert validate_dag(dag) == [
        Problem(
            "steps.0.depends_on",
            "dependency cycle: build → test → deploy → build; remove one of these dependencies",
        )
    ]


def test_every_cycle_is_reported_once_and_in_a_stable_order() -> None:
    dag = nodes(
        {
            "a": ["b"],
            "b": ["a"],  # a ⇄ b
            "c": ["e"],
            "d": ["c"],
            "e": ["d"],  # c → d → e → c
            "f": ["a"],  # downstream of a cycle, not in one
            "g": ["h"],
            "h": ["g", "e"],  # g ⇄ h, fed by the second cycle
        }
    )
    messages = [problem.message for problem in validate_dag(dag)]
    assert messages == [
        "dependency cycle: a → b → a; remove one of these dependencies",
        "dependency cycle: c → d → e → c; remove one of these dependencies",
        # Reached from e during the search of the second cycle, so the path starts at h.
        "dependency cycle: h → g → h; remove one of these dependencies",
    ]
    assert [problem.field for problem in validate_dag(dag)] == [
        "steps.0.depends_on",
        "steps.2.depends_on",
        "steps.7.depends_on",
    ]
    assert validate_dag(list(dag)) == validate_dag(dag)


def test_cycles_sharing_a_step_are_each_reported() -> None:
    # hub ⇄ left and hub ⇄ right: two elementary cycles through one step.
    dag = nodes({"hub": ["left", "right"], "left": ["hub"], "right": ["hub"]})
    assert [p.message for p in validate_dag(dag)] == [
        "dependency cycle: hub → left → hub; remove one of these dependencies",
        "dependency cycle: hub → right → hub; remove one of these dependencies",
    ]
    assert {p.field for p in validate_dag(dag)} == {"steps.0.depends_on"}


def test_several_problems_are_reported_together() -> None:
    dag = [
        Node("build", ["test"]),
        Node("test", ["build", "test"]),
        Node("deploy", ["buidl", "test", "approve"]),
        Node("build"),
    ]
    assert validate_dag(dag) == [
        Problem("steps.1.depends_on", "step 'test' depends on itself"),
        Problem(
            "steps.2.depends_on",
            "step 'deploy' depends on 'buidl', which does not exist; did you mean 'build'?",
        ),
        Problem("steps.2.depends_on", "step 'deploy' depends on 'approve', which does not exist"),
        Problem(
            "steps.3.id", "step id 'build' is already used by steps.0; step ids must be unique"
        ),
        Problem(
            "steps.0.depends_on",
            "dependency cycle: build → test → build; remove one of these dependencies",
        ),
    ]


def test_ensure_valid_dag_raises_every_problem() -> None:
    dag = nodes({"build": ["build"], "deploy": ["buidl"]})
    with pytest.raises(ValidationFailed) as caught:
        ensure_valid_dag(dag)
    assert caught.value.problems == tuple(validate_dag(dag))
    assert len(caught.value.problems) == 2
    assert caught.value.field == "steps.0.depends_on"
    assert str(caught.value) == (
        "steps.0.depends_on: step 'build' depends on itself; "
        "steps.1.depends_on: step 'deploy' depends on 'buidl', which does not exist; "
        "did you mean 'build'?"
    )


def test_topological_layers_refuse_an_invalid_dag() -> None:
    with pytest.raises(ValidationFailed, match="dependency cycle: a → b → a"):
        topological_layers(nodes({"a": ["b"], "b": ["a"]}))


# -- ready set --


def test_ready_set_at_the_start_is_the_steps_without_dependencies() -> None:
    dag = nodes({"build": [], "lint": [], "test": ["build"]})
    assert ready_set(dag, {}) == ["build", "lint"]


def test_ready_set_follows_the_statuses() -> None:
    dag = nodes({"build": [], "lint": [], "test": ["build", "lint"], "deploy": ["test"]})
    assert ready_set(dag, {"build": W.succeeded, "lint": W.running}) == []
    assert ready_set(dag, {"build": W.succeeded, "lint": W.skipped}) == ["test"]
    statuses = {"build": W.succeeded, "lint": W.succeeded, "test": W.queued}
    assert ready_set(dag, statuses) == []
    statuses = {"build": W.succeeded, "lint": W.succeeded, "test": W.succeeded}
    assert ready_set(dag, statuses) == ["deploy"]


@pytest.mark.parametrize("status", [s for s in StepRunStatus if s is not W.waiting])
def test_only_waiting_steps_are_ready(status: StepRunStatus) -> None:
    dag = nodes({"build": []})
    assert ready_set(dag, {"build": status}) == []
    assert ready_set(dag, {"build": W.waiting}) == ["build"]


@pytest.mark.parametrize("status", list(StepRunStatus))
def test_a_dependency_counts_as_done_only_when_succeeded_or_skipped(
    status: StepRunStatus,
) -> None:
    dag = nodes({"build": [], "test": ["build"]})
    done = status in {W.succeeded, W.skipped}
    assert ("test" in ready_set(dag, {"build": status, "test": W.waiting})) is done


def test_a_missing_dependency_is_never_done() -> None:
    assert ready_set(nodes({"deploy": ["ghost"]}), {}) == []


def test_ready_set_lists_a_repeated_id_once() -> None:
    assert ready_set([Node("a"), Node("a")], {}) == ["a"]


# -- large graphs: the algorithms are iterative --

LARGE = 1_000


def chain(length: int) -> list[Node]:
    return [Node(f"s{i}", [f"s{i - 1}"] if i else []) for i in range(length)]


def test_a_long_chain_is_valid_and_has_one_step_per_layer() -> None:
    dag = chain(LARGE)
    assert validate_dag(dag) == []
    layers = topological_layers(dag)
    assert layers == [[f"s{i}"] for i in range(LARGE)]
    statuses = {f"s{i}": W.succeeded for i in range(LARGE - 1)}
    assert ready_set(dag, statuses) == [f"s{LARGE - 1}"]


def test_a_long_cycle_is_found_without_recursion() -> None:
    dag = chain(LARGE)
    dag[0] = Node("s0", [f"s{LARGE - 1}"])
    (problem,) = validate_dag(dag)
    path = [f"s{i}" for i in range(LARGE)] + ["s0"]
    assert problem.message == (
        f"dependency cycle: {CYCLE_ARROW.join(path)}; remove one of these dependencies"
    )
    assert problem.field == "steps.0.depends_on"


def test_a_wide_fan_out_and_fan_in() -> None:
    dag = [Node("root"), *(Node(f"w{i}", ["root"]) for i in range(LARGE))]
    dag.append(Node("join", [f"w{i}" for i in range(LARGE)]))
    assert topological_layers(dag) == [["root"], [f"w{i}" for i in range(LARGE)], ["join"]]


# -- properties --


@st.composite
def random_dags(draw: st.DrawFn) -> list[Node]:
    """A DAG whose edges only go from a lower index to a higher one, in shuffled input order."""
    size = draw(st.integers(min_value=1, max_value=30))
    ids = [f"n{i}" for i in range(size)]
    deps: list[list[str]] = []
    for i in range(size):
        chosen = draw(st.lists(st.integers(0, i - 1), max_size=4)) if i else []
        deps.append([ids[j] for j in chosen])
    dag = [Node(ids[i], deps[i]) for i in range(size)]
    return draw(st.permutations(dag))


def edges(dag: Sequence[Node]) -> set[tuple[str, str]]:
    """Edges in execution direction: (dependency, dependent)."""
    return {(dep, node.id) for node in dag for dep in node.depends_on}


def cycle_paths(problems: list[Problem]) -> list[list[str]]:
    prefix, suffix = "dependency cycle: ", "; remove one of these dependencies"
    return [
        p.message.removeprefix(prefix).removesuffix(suffix).split(CYCLE_ARROW)
        for p in problems
        if p.message.startswith(prefix)
    ]


@settings(database=None, max_examples=200, deadline=None)
@given(random_dags())
def test_random_dags_are_valid_and_layers_respect_every_edge(dag: list[Node]) -> None:
    assert validate_dag(dag) == []
    layers = topological_layers(dag)
    flat = [step_id for layer in layers for step_id in layer]
    assert sorted(flat) == sorted(node.id for node in dag)
    assert len(flat) == len(set(flat))
    layer_of = {step_id: k for k, layer in enumerate(layers) for step_id in layer}
    for dependency, dependent in edges(dag):
        assert layer_of[dependency] < layer_of[dependent]
    position = {node.id: index for index, node in enumerate(dag)}
    for layer in layers:
        assert layer == sorted(layer, key=position.__getitem__)
        assert layer  # no empty layers


@settings(database=None, max_examples=200, deadline=None)
@given(random_dags())
def test_ready_set_at_the_start_is_the_first_layer(dag: list[Node]) -> None:
    assert ready_set(dag, {}) == topological_layers(dag)[0]


@settings(database=None, max_examples=200, deadline=None)
@given(random_dags(), st.data())
def test_a_back_edge_always_produces_a_real_cycle(dag: list[Node], data: st.DataObject) -> None:
    # Pick a path a → … → b and add "a depends on b": that closes a cycle through a.
    dependents: dict[str, list[str]] = {node.id: [] for node in dag}
    for dependency, dependent in edges(dag):
        dependents[dependency].append(dependent)
    start = data.draw(st.sampled_from([node.id for node in dag if dependents[node.id]] or [""]))
    if not start:
        return  # no edge at all: nothing to close
    end = start
    while dependents[end]:
        end = data.draw(st.sampled_from(sorted(dependents[end])))
        if data.draw(st.booleans()):
            break
    broken = [Node(n.id, [*n.depends_on, end]) if n.id == start else n for n in dag]

    problems = validate_dag(broken)
    paths = cycle_paths(problems)
    assert paths, problems
    assert len(paths) == len(problems), "a back edge adds cycles, nothing else"
    graph = edges(broken)
    for path in paths:
        assert path[0] == path[-1]
        assert len(set(path[:-1])) == len(path) - 1, "cycles are elementary"
        for step, following in pairwise(path):
            assert (step, following) in graph
    assert len({tuple(path) for path in paths}) == len(paths), "each cycle once"
    assert validate_dag(broken) == problems, "deterministic"


@settings(database=None, max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 7), st.lists(st.integers(0, 7), max_size=3)),
        max_size=10,
    )
)
def test_any_graph_has_real_cycles_or_layers(spec: list[tuple[int, list[int]]]) -> None:
    dag = [Node(f"n{i}", [f"n{j}" for j in deps]) for i, deps in spec]
    problems = validate_dag(dag)
    graph = edges(dag)
    for path in cycle_paths(problems):
        assert path[0] == path[-1]
        assert len(set(path[:-1])) == len(path) - 1
        assert all(pair in graph for pair in pairwise(path))
    if problems:
        with pytest.raises(ValidationFailed):
            topological_layers(dag)
        return
    flat = [step_id for layer in topological_layers(dag) for step_id in layer]
    assert sorted(flat) == sorted(node.id for node in dag)


@settings(database=None, max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.lists(st.integers(0, 6), max_size=3)),
        max_size=8,
    )
)
def test_removing_every_closing_dependency_leaves_a_dag(spec: list[tuple[int, list[int]]]) -> None:
    # The contract: each reported cycle's last arrow is a dependency of its first step, and
    # removing all of those (plus the self-dependencies) breaks every cycle.
    spec = _unique_ids(spec)
    known = {step for step, _ in spec}
    dag = [Node(f"n{i}", [f"n{j}" for j in deps if j in known]) for i, deps in spec]
    closing = {(path[-2], path[0]) for path in cycle_paths(validate_dag(dag))}
    fixed = [
        Node(n.id, [d for d in n.depends_on if d != n.id and (d, n.id) not in closing]) for n in dag
    ]
    assert validate_dag(fixed) == []


def _unique_ids(spec: list[tuple[int, list[int]]]) -> list[tuple[int, list[int]]]:
    seen: dict[int, list[int]] = {}
    for step, deps in spec:
        seen.setdefault(step, deps)
    return list(seen.items())
