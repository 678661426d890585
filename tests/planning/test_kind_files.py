"""The kinds are YAML files: each loads, a broken one is refused by name, a new one is a kind."""

import shutil
from importlib.resources import files
from pathlib import Path

import pytest
from pydantic import ValidationError

from missionctl.agents.specialists.traits import THREATS, TRAIT_PATTERNS, load_traits
from missionctl.domain.plans import validate_plan
from missionctl.planning.kinds import GENERIC, KINDS, SLOT_DEFAULTS, RiskTemplate, load_kinds
from missionctl.planning.local import build_local_plan
from missionctl.planning.signals import FEATURE_ROLE_HINTS, ROLE_FEATURE_TITLES, TRAITS
from missionctl.planning.signals import load_traits as load_planner_traits
from missionctl.reading import kind_keys
from missionctl.schemas.datafiles import DataFileError
from tests.planning.helpers import mission

KIND_FILES = files("missionctl.planning.kinds")


@pytest.fixture
def kinds_dir(tmp_path: Path) -> Path:
    """A copy of the packaged kind files, to break or extend."""
    for entry in KIND_FILES.iterdir():
        if entry.name.endswith(".yaml"):
            (tmp_path / entry.name).write_text(entry.read_text(encoding="utf-8"), "utf-8")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refusal(directory: Path) -> str:
    with pytest.raises(DataFileError) as caught:
        load_kinds(directory)
    return str(caught.value)


def test_every_packaged_file_is_a_kind_of_the_reading_in_its_order() -> None:
    catalog = load_kinds(KIND_FILES)
    assert catalog.kinds == KINDS and catalog.generic == GENERIC
    assert catalog.slot_defaults == SLOT_DEFAULTS
    names = sorted(e.name for e in KIND_FILES.iterdir() if e.name.endswith(".yaml"))
    assert names == sorted([f"{k.key}.yaml" for k in (*KINDS, GENERIC)] + ["index.yaml"])
    # More specific kinds are tried first: the firmware kind before the generic web app.
    keys = [kind.key for kind in KINDS]
    assert tuple(keys) == kind_keys()
    assert keys.index("firmware") < keys.index("web_app") == len(keys) - 1


def test_a_value_outside_its_literal_names_the_file_and_field(kinds_dir: Path) -> None:
    edit(kinds_dir / "web_app.yaml", "risk_tier: read", "risk_tier: high")
    message = refusal(kinds_dir)
    assert "web_app.yaml: tasks.0.risk_tier: Input should be 'read', 'write' or" in message
    assert "(got 'high')" in message


def test_a_severity_is_not_a_likelihood(kinds_dir: Path) -> None:
    edit(kinds_dir / "firmware.yaml", "likelihood: medium", "likelihood: critical")
    message = refusal(kinds_dir)
    assert "firmware.yaml: risks." in message and ".likelihood: Input should be" in message
    with pytest.raises(ValidationError, match="Input should be 'low', 'medium' or 'high'"):
        RiskTemplate("Title", "Description", "medium", "critical", "Mitigation")  # type: ignore[arg-type]


def test_an_unknown_field_names_the_file_and_field(kinds_dir: Path) -> None:
    edit(kinds_dir / "cli_tool.yaml", "estimate_tokens:", "estimate_token:")
    message = refusal(kinds_dir)
    assert "cli_tool.yaml: tasks.0.estimate_token: is not a field here; check its spelling" in (
        message
    )


def test_a_key_written_twice_names_the_file_line_and_key(kinds_dir: Path) -> None:
    edit(kinds_dir / "library.yaml", "label: library", "label: library\nlabel: package")
    message = refusal(kinds_dir)
    assert "library.yaml: line 4, column 1: the key 'label' appears twice" in message


def test_a_reference_to_a_missing_task_names_the_file_and_field(kinds_dir: Path) -> None:
    edit(kinds_dir / "web_app.yaml", "      - scope\n", "      - scoping\n")
    message = refusal(kinds_dir)
    assert "web_app.yaml: tasks.1.depends_on: unknown task 'scoping'" in message


def test_a_kind_file_must_be_a_kind_of_the_reading_and_named_after_its_key(
    kinds_dir: Path,
) -> None:
    shutil.copy(kinds_dir / "generic.yaml", kinds_dir / "quantum.yaml")
    message = refusal(kinds_dir)
    assert "index.yaml: kinds: quantum.yaml is no kind the reading knows; add 'quantum'" in message
    with pytest.raises(DataFileError) as caught:
        load_kinds(kinds_dir, ["quantum", *kind_keys()])
    assert "quantum.yaml: key: 'generic' differs from the file name" in str(caught.value)
    # A kind of the reading that no file plans is refused too.
    (kinds_dir / "quantum.yaml").unlink()
    (kinds_dir / "docs_site.yaml").unlink()
    assert "kinds: there is no file docs_site.yaml; add it" in refusal(kinds_dir)


def test_a_new_file_adds_a_kind_that_plans(kinds_dir: Path) -> None:
    shutil.copy(kinds_dir / "generic.yaml", kinds_dir / "quantum.yaml")
    quantum = kinds_dir / "quantum.yaml"
    edit(quantum, "key: generic", "key: quantum")
    edit(quantum, "label: software project", "label: quantum simulator")

    catalog = load_kinds(kinds_dir, ["quantum", *kind_keys()])

    kind = catalog.kinds[0]
    assert (kind.key, kind.label) == ("quantum", "quantum simulator")
    assert [k.key for k in catalog.kinds[1:]] == [k.key for k in KINDS]
    draft = build_local_plan(mission("Build a simulator of 20 qubits with noise models"), kind=kind)
    assert validate_plan(draft) == []
    assert "quantum simulator" in draft.summary


def test_the_trait_table_loads_and_a_broken_one_is_refused(tmp_path: Path) -> None:
    packaged = files("missionctl.agents.specialists") / "traits.yaml"
    assert load_traits(packaged).threats == THREATS
    assert {t.trait for t in THREATS} <= {*TRAIT_PATTERNS, "*"}
    assert {t.severity for t in THREATS} == {"medium", "high", "critical"}

    broken = tmp_path / "traits.yaml"
    text = packaged.read_text(encoding="utf-8")
    broken.write_text(text.replace("likelihood: high", "likelihood: critical", 1), "utf-8")
    with pytest.raises(DataFileError, match=r"traits\.yaml: threats\.\d+\.likelihood: Input"):
        load_traits(broken)
    broken.write_text(text.replace("- trait: api", "- trait: apis", 1), "utf-8")
    with pytest.raises(DataFileError, match=r"threats\.0\.trait: unknown trait 'apis'"):
        load_traits(broken)


# -- the planner's traits are a data file too --

PLANNER_TRAITS = files("missionctl.planning").joinpath("traits.yaml")


@pytest.fixture
def traits_file(tmp_path: Path) -> Path:
    """A copy of the packaged traits file, to break."""
    path = tmp_path / "traits.yaml"
    path.write_text(PLANNER_TRAITS.read_text(encoding="utf-8"), "utf-8")
    return path


def trait_refusal(path: Path) -> str:
    with pytest.raises(DataFileError) as caught:
        load_planner_traits(path)
    return str(caught.value)


def test_the_planner_traits_are_the_packaged_file() -> None:
    table = load_planner_traits(PLANNER_TRAITS)
    assert table.traits == TRAITS and table.traits[0].key == "downtime"
    assert tuple((h.role, h.words) for h in table.feature_role_hints) == FEATURE_ROLE_HINTS
    assert table.role_feature_titles == ROLE_FEATURE_TITLES


def test_a_trait_severity_outside_its_literal_names_the_file_and_field(
    traits_file: Path,
) -> None:
    edit(traits_file, "severity: high", "severity: likely")
    message = trait_refusal(traits_file)
    assert "traits.yaml: traits.0.risk.severity: Input should be" in message


def test_a_trait_for_a_signal_the_reading_does_not_know_is_refused(traits_file: Path) -> None:
    edit(traits_file, "- key: downtime", "- key: downtimes")
    assert "traits.0.key: the reading has no signal 'downtimes'" in trait_refusal(traits_file)


def test_an_unknown_trait_field_and_a_broken_hint_are_refused(traits_file: Path) -> None:
    edit(traits_file, "- key: downtime", "- key: downtime\n  priority_note: soon")
    assert "traits.0.priority_note" in trait_refusal(traits_file)
    edit(traits_file, "- key: downtime\n  priority_note: soon", "- key: downtime")
    edit(traits_file, "words: docs|", "words: (docs|")
    assert "words: not a regular expression" in trait_refusal(traits_file)
