"""The document studio's writers without a database: the catalog, the local writer's sections,
determinism and estimates, hostile text, the model's draft assembled, and the exports."""

import io
import uuid
from datetime import UTC, datetime
from importlib.resources import files

import pypdf
import pytest
from pydantic import TypeAdapter

from missionctl.documents.catalog import KindSpec, catalog
from missionctl.documents.export import to_html, to_pdf
from missionctl.documents.local import POINTS, estimate_points, write_local
from missionctl.documents.model_writer import ModelDraft, ModelSection, assemble
from missionctl.documents.sources import DocumentSources
from missionctl.domain.states import MissionStatus
from missionctl.planning.base import PlanningInput
from missionctl.planning.local import build_local_plan
from missionctl.schemas.datafiles import DataFileError, read_data_file
from missionctl.schemas.documents import DOCUMENT_KINDS
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead

NOW = datetime(2026, 11, 24, tzinfo=UTC)
SECRET = "sk-proj-AbC123xyz_789"


def sources(
    goal: str = "Build a URL shortener with click analytics and custom aliases",
) -> DocumentSources:
    mission_id = uuid.uuid4()
    draft = build_local_plan(PlanningInput(title="URL shortener", goal=goal))
    mission = MissionRead(
        id=mission_id, title=goal[:80], goal=goal, constraints=["Keep it under 1 s"],
        repo_context="", status=MissionStatus.planned, budget_usd=None, spent_usd=0.0,
        input_tokens=0, output_tokens=0, created_by="user:ada", created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    plan = PlanRead(
        **draft.model_dump(), id=uuid.uuid4(), mission_id=mission_id, version=1,
        source="local", created_at=NOW,
    )  # fmt: skip
    return DocumentSources(mission, plan, (), (), ())


def test_the_catalog_lists_every_kind_once_in_the_studio_s_order() -> None:
    assert tuple(catalog()) == DOCUMENT_KINDS
    assert all(spec.sections for spec in catalog().values())


def test_a_broken_catalog_names_the_file_and_the_field(tmp_path: object) -> None:
    broken = files("tests.documents").joinpath("broken_kinds.yaml")
    with pytest.raises(DataFileError, match=r"broken_kinds.yaml: 0.sections: .*required"):
        read_data_file(broken, TypeAdapter(list[KindSpec]))


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_the_local_writer_writes_each_section_and_the_same_text_twice(kind: str) -> None:
    given = sources()
    body = write_local(kind, given)  # type: ignore[arg-type]
    assert body == write_local(kind, given)  # type: ignore[arg-type]
    positions = [body.index(f"## {section}\n") for section in catalog()[kind].sections]  # type: ignore[index]
    assert positions == sorted(positions), "sections out of the catalog's order"


def test_estimates_grow_with_a_ticket_s_size_on_the_fibonacci_scale() -> None:
    plan = sources().plan
    small = plan.tasks[0].model_copy(
        update={"acceptance": ["done"], "expected_artifacts": [], "depends_on": [],
                "risk_tier": "read"}
    )  # fmt: skip
    large = small.model_copy(
        update={"acceptance": ["a", "b", "c", "d", "e"], "expected_artifacts": ["x", "y", "z"],
                "risk_tier": "irreversible"}
    )  # fmt: skip
    assert estimate_points(small) == 1 and estimate_points(large) == 8
    assert {estimate_points(t) for t in plan.tasks} <= set(POINTS)


def test_hostile_and_secret_text_cannot_forge_structure_or_leak() -> None:
    given = sources(f"Build a shortener\n# Forged heading\n```\nkey {SECRET} <script>x</script>")
    for kind in DOCUMENT_KINDS:
        body = write_local(kind, given)
        assert SECRET not in body and "\n# Forged" not in body and "\n```" not in body
        assert "<script>" not in to_html("t", body)


def test_a_model_s_draft_is_assembled_under_the_studio_s_title_redacted() -> None:
    given = sources()
    draft = ModelDraft(
        sections=[
            ModelSection(title="Summary\n# injected", body=f"Fine text, key {SECRET}."),
            ModelSection(title="Requirements", body="- R1"),
        ]
    )
    body = assemble("prd", given, draft)
    assert body.startswith(f"# Product requirements document: {given.mission.title}\n")
    assert "## Summary # injected\n" in body and "\n# injected" not in body
    assert SECRET not in body


def test_the_pdf_is_text_in_unicode_and_the_same_bytes_twice() -> None:
    body = "# “Café” — naïve\n\n- Ωμέγα, Привет, 日本\n\n```\ncode\n```\n"
    pdf = to_pdf("Title", body)
    assert pdf == to_pdf("Title", body)
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "“Café” — naïve" in text and "Ωμέγα, Привет" in text and "code" in text
