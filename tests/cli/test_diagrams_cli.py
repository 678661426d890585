"""``missionctl mission diagrams``: text, JSON and SVG files (the product flow's too), on both
back-ends alike."""

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.cli import test_cli_both_ways
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok, text

world = test_cli_both_ways.world  # the module-scoped live server and homes
GOAL = "A web shop for a tea merchant: customers pay with Stripe and get email receipts"


@pytest.mark.parametrize("mode", MODES)
def test_diagrams_print_write_svgs_and_refuse_what_has_no_plan(
    world: World, mode: str, tmp_path: Path
) -> None:
    mission_id = as_json(world.cli(mode, "mission", "create", GOAL, "--json"))["id"]
    early = world.cli(mode, "mission", "diagrams", mission_id)
    assert early.exit_code != 0 and "plan it first" in text(early)
    ok(world.cli(mode, "mission", "plan", mission_id))

    shown = text(ok(world.cli(mode, "mission", "diagrams", mission_id)))
    assert "Diagrams of plan v1, drawn by the local rules" in shown
    assert "Payment provider" in shown and "Stripe" in shown and "Architecture" in shown
    assert "Product flow" in shown and "Get email receipts" in shown
    found = as_json(world.cli(mode, "mission", "diagrams", mission_id, "--json"))
    assert found["plan_version"] == 1 and found["source"] == "local"
    assert {c["key"] for c in found["architecture"]["components"]} >= {"api", "payments"}
    flow = [c["label"] for c in found["product_flow"]["components"]]
    assert flow[-2:] == ["Customers pay", "Get email receipts"]

    out = tmp_path / mode / "svg"
    ok(world.cli(mode, "mission", "diagrams", mission_id, "-o", str(out)))
    names = sorted(p.name for p in out.iterdir())
    assert names == ["architecture.svg", "deployment.svg", "product_flow.svg"]
    root = ET.fromstring((out / "architecture.svg").read_text(encoding="utf-8"))
    assert root.tag.endswith("svg") and "Payment provider" in ET.tostring(root, "unicode")
    flow = ET.fromstring((out / "product_flow.svg").read_text(encoding="utf-8"))
    assert flow.get("aria-labelledby") == "product_flow-title"
    assert "Get email receipts" in ET.tostring(flow, "unicode")

    missing = world.cli(mode, "mission", "diagrams", mission_id, "--plan-version", "9")
    assert missing.exit_code != 0 and "no plan version 9" in text(missing)
