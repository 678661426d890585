"""The spec policy: which tasks and diffs are marked, and why (domain.specs, the packaged file)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from missionctl.domain.specs import (
    SpecState,
    glob_matches,
    implements_work,
    path_marks,
    phrase_in,
    spec_block,
    task_for_step,
    task_marks,
)
from missionctl.schemas.datafiles import MAX_DATA_FILE_BYTES, DataFileError
from missionctl.schemas.spec_policy import load_spec_policy, policy_from_file

POLICY = load_spec_policy(None)


def _marks(title: str, description: str = "", role: str = "backend") -> list[str]:
    return [str(m) for m in task_marks(POLICY, title=title, description=description, role=role)]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Add the visits migration", "migration (the title says “Add the visits migration”)"),
        ("Schema-change for orders", "migration (the title says “Schema-change for orders”)"),
        ("Run ALTER TABLE on users", "migration (the title says “Run ALTER TABLE on users”)"),
        ("Add auth to the API", "security (the title says “Add auth to the API”)"),
        ("Rotate the signing key", "security (the title says “Rotate the signing key”)"),
        ("Encryption at rest", "security (the title says “Encryption at rest”)"),
        (
            "Publish the API contract",
            "cross-service interface (the title says “Publish the API contract”)",
        ),
        (
            "A breaking change to events",
            "cross-service interface (the title says “A breaking change to events”)",
        ),
        ("First use of Kafka", "novel pattern (the title says “First use of Kafka”)"),
        (
            "Adopt a new framework for jobs",
            "novel pattern (the title says “Adopt a new framework for jobs”)",
        ),
    ],
)
def test_each_rule_set_marks_by_its_words(title: str, expected: str) -> None:
    assert _marks(title) == [expected]


@pytest.mark.parametrize(
    "title",
    [
        "The authority of the tribunal",  # not "auth"
        "Immigration statistics page",  # not "migration"
        "Tokenizer for the search box",  # not "token"
        "Protocols of the meeting notes",  # not "protocol" (a plural is another word)
        "Render the dashboard",
    ],
)
def test_words_inside_other_words_do_not_mark(title: str) -> None:
    assert _marks(title) == []


def test_the_description_and_the_role_mark_too_and_every_rule_is_named() -> None:
    assert _marks("Tidy up", "Needs a DROP COLUMN on legacy") == [
        "migration (the description says “Needs a DROP COLUMN on legacy”)"
    ]
    assert _marks("Review", role="security") == ['security (role "security")']
    both = _marks("Migrate the password store")
    assert both == [
        "security (the title says “Migrate the password store”)",
        "migration (the title says “Migrate the password store”)",
    ]


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("db/migrations/0003.sql", "migration"),
        ("migrations/env.py", "migration"),
        ("schema.sql", "migration"),
        ("src/app/auth/login.py", "security"),
        ("pkg/security/x.go", "security"),
        ("api/orders.proto", "cross-service interface"),
        ("openapi.yaml", "cross-service interface"),
        ("./docs/openapi.json", "cross-service interface"),
    ],
)
def test_path_globs_mark_diffs(path: str, rule: str) -> None:
    assert next(m.rule for m in path_marks(POLICY, [path])) == rule


@pytest.mark.parametrize(
    "path", ["src/authority/x.py", "docs/migrations.md", "src/app.py", "sql/readme.txt"]
)
def test_unrelated_paths_do_not_mark(path: str) -> None:
    assert path_marks(POLICY, [path]) == []


def test_glob_semantics() -> None:
    assert glob_matches("**/migrations/**", "a/b/migrations/c/d.py")
    assert glob_matches("*.sql", "deep/down/x.SQL")
    assert not glob_matches("src/*.py", "src/a/b.py")
    assert glob_matches("src/**/*.py", "src/a/b.py")
    assert glob_matches("src/?.py", "src/a.py") and not glob_matches("src/?.py", "src/ab.py")
    assert not phrase_in("   ", "anything")


def test_guarded_steps_and_their_task() -> None:
    assert implements_work("coding:codex", None)
    assert implements_work("builtin:noop", " IMPLEMENTATION ")
    assert not implements_work("coding", None)
    assert not implements_work("builtin:noop", "design")
    assert task_for_step("s", {"task_key": "db"}, ["s"]) == "db"
    assert task_for_step("s", {}, ["s"]) == "s"
    assert task_for_step("s", {"task_key": 3}, ["t"]) is None


def test_the_block_names_what_is_missing() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    marks = task_marks(POLICY, title="migration", description="", role="x")
    day = timedelta(days=30)
    assert spec_block("k", [], SpecState(), now=now, max_age=day) is None
    assert spec_block("k", marks, SpecState(now - timedelta(days=30)), now=now, max_age=day) is None
    stale = spec_block("k", marks, SpecState(now - timedelta(days=41)), now=now, max_age=day)
    assert stale is not None and stale.endswith("spec approved 41 days ago is stale (max 30)")
    draft = spec_block("k", marks, SpecState(None, "draft"), now=now, max_age=day)
    assert draft is not None and draft.endswith("a draft awaiting an approver")


def test_an_admins_file_is_checked(tmp_path: Path) -> None:
    own = tmp_path / "policy.yaml"
    own.write_text("rule_sets:\n  - name: billing\n    phrases: [invoice]\n", encoding="utf-8")
    policy = policy_from_file(own)
    assert [str(m) for m in task_marks(policy, title="New invoice", description="", role="")] == [
        "billing (the title says “New invoice”)"
    ]
    broken = tmp_path / "broken.yaml"
    broken.write_text("rule_sets:\n  - name: a\n    colour: red\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="colour"):
        policy_from_file(broken)
    twice = tmp_path / "twice.yaml"
    twice.write_text("rule_sets:\n  - name: a\n  - name: a\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="used twice"):
        policy_from_file(twice)
    with pytest.raises(DataFileError, match="does not exist"):
        load_spec_policy(tmp_path / "missing.yaml")


def test_an_admins_file_is_read_no_further_than_the_data_file_limit(tmp_path: Path) -> None:
    # MISSIONCTL_SPEC_POLICY_FILE is the admin's to name: a file past the limit (here a log
    # put in its place) is refused naming it and the limit, not read whole.
    huge = tmp_path / "policy.yaml"
    huge.write_bytes(b"rule_sets:\n" + b"#" * MAX_DATA_FILE_BYTES)
    with pytest.raises(DataFileError, match=rf"^{huge} is larger than {MAX_DATA_FILE_BYTES} bytes"):
        policy_from_file(huge)
