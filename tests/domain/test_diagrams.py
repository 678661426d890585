"""The diagram model's soundness rules and its SVG drawing."""

import re
import xml.etree.ElementTree as ET

from missionctl.domain.diagram_svg import (
    BOX_H,
    HEADER_H,
    PAD,
    TIGHT_GAP,
    place,
    render_svg,
    two_lines,
)
from missionctl.domain.diagrams import (
    MAX_COMPONENTS,
    MAX_GROUPS,
    Component,
    Connection,
    Diagram,
    diagram_problems,
)

SVG = "{http://www.w3.org/2000/svg}"


def box(key: str, group: str, label: str | None = None, tasks: tuple[str, ...] = ()) -> Component:
    return Component(key, label or key.title(), "tech", group, tasks)


def diagram(components: list[Component], connections: list[Connection]) -> Diagram:
    return Diagram("architecture", "Architecture", tuple(components), tuple(connections))


SHOP = diagram(
    [
        box("people", "People"),
        box("web", "Clients"),
        box("api", "Services", tasks=("a", "b")),
        box("db", "Data"),
        box("pay", "External"),
    ],
    [
        Connection("people", "web", "HTTPS"),
        Connection("web", "api", "JSON"),
        Connection("api", "db", "SQL"),
        Connection("api", "pay", "charges"),
    ],
)


def test_a_sound_diagram_has_no_problem_and_columns_follow_first_appearance() -> None:
    assert diagram_problems(SHOP) == []
    assert SHOP.groups == ("People", "Clients", "Services", "Data", "External")


def test_each_broken_rule_is_named_with_its_location() -> None:
    broken = diagram(
        [box("a", "G"), box("a", "G"), Component("", "", "", "")],
        [Connection("a", "zzz"), Connection("a", "a"), Connection("a", "zzz")],
    )
    problems = dict(diagram_problems(broken))
    assert "twice" in problems["components.1.key"]
    assert problems["components.2.label"] == "give every component a label"
    assert problems["components.2.group"] == "give every component a group"
    assert problems["connections.0.target"] == "name a component of the diagram"
    assert problems["connections.1"] == "connect two different components"
    assert "drawn twice" in problems["connections.2"]


def test_size_limits_are_problems() -> None:
    many = [box(f"c{i}", f"G{i % (MAX_GROUPS + 1)}") for i in range(MAX_COMPONENTS + 1)]
    where = [w for w, _ in diagram_problems(diagram(many, []))]
    assert where.count("components") == 2  # too many boxes, too many columns
    assert diagram_problems(diagram([], [])) == [("components", "draw 1 to 24 components")]


def test_the_svg_is_well_formed_and_names_every_box_and_arrow() -> None:
    svg = render_svg(SHOP, element_id="x")
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"People", "Web", "Api", "Db", "Pay", "HTTPS", "SQL", "charges"} <= set(texts)
    assert "2 tasks" in texts
    assert len(list(root.iter(f"{SVG}path"))) == 4 * 2  # four arrows, each a line and a head
    assert root.get("aria-labelledby") == "x-title"
    assert "Services: Api" in root.find(f"{SVG}title").text  # type: ignore[union-attr]


def test_hostile_text_is_escaped_and_nothing_executable_or_styled_is_drawn() -> None:
    evil = '<script>alert(1)</script>" onload="x'
    drawn = render_svg(
        diagram(
            [box("a", "G", label=evil), box("b", "G", label="ok")],
            [Connection("a", "b", evil), Connection("a", "ghost", "never drawn")],
        )
    )
    root = ET.fromstring(drawn)  # still well-formed XML
    elements = list(root.iter())
    assert not [e for e in elements if e.tag.endswith(("script", "foreignObject", "style"))]
    assert not [a for e in elements for a in e.attrib if a.startswith("on") or a == "style"]
    assert not [e for e in elements if any("href" in a for a in e.attrib)]
    titles = [e.text or "" for e in root.iter(f"{SVG}title")]
    assert any(evil in title for title in titles)  # shown as text, whole, in the tooltip
    assert "never drawn" not in drawn


def test_a_long_label_is_cut_with_an_ellipsis_and_kept_whole_in_the_tooltip() -> None:
    long = "A component whose name is much longer than any box could show"
    drawn = render_svg(diagram([box("a", "G", label=long)], []))
    assert ">A component whose…<" in drawn
    assert f"<title>{long} — tech</title>" in drawn


def test_arrows_between_distant_columns_run_above_every_box() -> None:
    layout = place(SHOP)
    assert layout.lanes == {("api", "pay"): 0}  # only Services → External skips a column
    top = min(p.y for p in layout.boxes.values())
    assert top == HEADER_H + PAD + 14  # one lane above the boxes
    drawn = render_svg(SHOP)
    long_path = re.search(r'd="(M[^"]*V[^"]*)"', drawn)  # the only path with vertical runs
    assert long_path is not None
    lane_y = int(re.findall(r"V(\d+)", long_path.group(1))[0])
    assert lane_y < top
    # Every box fits inside the drawing.
    assert all(p.y + BOX_H <= layout.height for p in layout.boxes.values())


def test_an_arrow_inside_the_last_column_is_drawn_within_the_drawing() -> None:
    # A library's architecture: its public API calls its internals, both in the last column.
    library = diagram(
        [box("app", "Callers"), box("api", "Library"), box("core", "Library")],
        [Connection("app", "api", "calls"), Connection("api", "core", "delegates to core")],
    )
    layout = place(library)
    drawn = render_svg(library)
    inside = re.search(r"<title>Api → Core: [^<]*</title><path [^>]*d=\"M\d+,\d+ C([\d.]+),", drawn)
    assert inside is not None
    label = re.search(r'<text class="diagram__edge-label" x="(\d+)"[^>]*>delegates to core<', drawn)
    assert label is not None
    # The bulge and the whole label (10 px characters, at most 6 px wide) fit, with a margin.
    assert float(inside.group(1)) < layout.width
    assert int(label.group(1)) + len("delegates to core") * 6 + PAD <= layout.width
    assert f'viewBox="0 0 {layout.width} ' in drawn
    # Without such an arrow the last column keeps the plain margin.
    plain = place(diagram([box("app", "Callers"), box("api", "Library")], []))
    assert plain.width == 2 * PAD + 2 * 176 + 110


def test_a_box_without_a_technology_gives_its_label_two_lines() -> None:
    assert two_lines("Convert CSV files to Parquet", 22) == ("Convert CSV files", "to Parquet")
    assert two_lines("Ingest Shopify orders into a warehouse", 22) == (
        "Ingest Shopify orders",
        "into a warehouse",
    )
    assert two_lines("Sign in", 22) == ("Sign in", "")
    first, second = two_lines("Back up and restore a stateful database on a schedule", 22)
    assert first == "Back up and restore" and second.endswith("…") and len(second) <= 22
    step = Component("s", "Ingest Shopify orders into a warehouse", "", "Do", ("a",))
    root = ET.fromstring(render_svg(Diagram("product_flow", "Product flow", (step,), ())))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "diagram__label"]
    assert labels == ["Ingest Shopify orders", "into a warehouse"]


def test_columns_whose_arrows_carry_no_label_stand_closer() -> None:
    steps = [box(f"s{i}", f"Stage {i}") for i in range(3)]
    bare = diagram(steps, [Connection("s0", "s1"), Connection("s1", "s2")])
    labelled = diagram(steps, [Connection("s0", "s1", "then"), Connection("s1", "s2")])
    assert place(bare).width == 2 * PAD + 3 * 176 + 2 * TIGHT_GAP
    assert place(labelled).width == 2 * PAD + 3 * 176 + 2 * 110
    assert f'x="{PAD + 176 + TIGHT_GAP}" y="{PAD + 8}"' in render_svg(bare)  # the column title
