"""The pack's pure rules: execution order, file names, the relevance rule, safe Markdown."""

import pytest
from markdown_it import MarkdownIt

from missionctl.domain.markdown import block, inline, link_text
from missionctl.domain.packs import (
    MIN_SHARED_WORDS,
    Candidate,
    OrderedTask,
    execution_order,
    is_pack_path,
    relevant_items,
    sentences_mentioning,
    significant_words,
    task_file,
)
from missionctl.domain.slugs import SLUG_MAX_CHARS, slug

HOSTILE = [
    "# Heading",
    "## Forged section\nmore",
    "```",
    "```python\nimport os\n```",
    "~~~",
    "Title\n===",
    "Title\n---",
    "<!-- hide everything",
    "> quoted",
    "1. ordered",
    "    indented code",
    "***",
    "___",
    "| a | b |",
    "\\",
    "a\\`b",
    "../../etc/passwd",
    "x\u2028# after a line separator",
    "\x00\x1b[31mred",
    "é" * 500,
    "🚀 launch",
]


def test_the_order_runs_dependencies_first_and_follows_phases_where_it_can() -> None:
    tasks = [
        OrderedTask("release", ("build",), phase=1),
        OrderedTask("build", ("design",), phase=1),
        OrderedTask("docs", (), phase=None),
        OrderedTask("design", (), phase=0),
        OrderedTask("survey", (), phase=0),
    ]
    assert execution_order(tasks) == ["design", "survey", "build", "release", "docs"]


def test_a_late_phase_task_an_early_one_needs_goes_first_and_cycles_do_not_lose_tasks() -> None:
    tasks = [OrderedTask("a", ("b",), phase=0), OrderedTask("b", (), phase=1)]
    assert execution_order(tasks) == ["b", "a"]
    cycle = [OrderedTask("x", ("y",)), OrderedTask("y", ("x",)), OrderedTask("z", ("nope",))]
    assert execution_order(cycle) == ["z", "x", "y"]


@pytest.mark.parametrize("key", ["scope", "api_contract", "../../etc", "a" * 63, "É/\\..", ""])
def test_task_files_are_numbered_and_safe_whatever_the_key(key: str) -> None:
    path = task_file(3, key, count=12)
    assert path.startswith("tasks/03-") and path.endswith(".md")
    assert is_pack_path(path) and ".." not in path and len(path) < 60


def test_task_numbers_widen_with_the_count() -> None:
    assert task_file(7, "k", count=120) == "tasks/007-k.md"


@pytest.mark.parametrize(
    ("path", "safe"),
    [
        ("AGENTS.md", True),
        ("plan.json", True),
        ("tasks/01-scope.md", True),
        ("../AGENTS.md", False),
        ("/etc/passwd", False),
        ("tasks/../../x", False),
        ("tasks/.hidden", False),
        ("a/b/c.md", False),
        ("tasks\\..\\x", False),
        ("", False),
    ],
)
def test_pack_paths(path: str, safe: bool) -> None:
    assert is_pack_path(path) is safe


@pytest.mark.parametrize("title", HOSTILE)
def test_slugs_are_safe_names(title: str) -> None:
    made = slug(title)
    assert made and len(made) <= SLUG_MAX_CHARS and made not in {".", ".."}
    assert set(made) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


TASKS = [
    "Build click analytics. Record every click of a short link with its referrer and country.",
    "Build custom aliases. Let users choose the alias of a short link.",
    "Deploy to production. Provision production with health checks and a rollback runbook.",
    "Review security. Threat-model login and rate limits of the short link endpoints.",
]


def test_words_most_tasks_share_are_not_significant() -> None:
    words = significant_words(TASKS)
    assert all("link" not in found and "short" not in found for found in words)
    assert "referrer" in words[0] and "rollback" in words[2]


def test_relevance_explicit_links_first_then_high_severity_then_shared_words() -> None:
    words = significant_words(TASKS)
    items = [
        Candidate("Rollback fails. A production deploy cannot be rolled back", "medium"),
        Candidate("Data loss", "critical"),
        Candidate("Analytics skew. Country and referrer of a click are wrong", "low"),
        Candidate("Country and referrer tables", "high", linked=("deploy",)),
        Candidate("Short link text"),  # only words most tasks share
    ]
    chosen = [
        relevant_items(key, w, items)
        for key, w in zip(("a", "b", "deploy", "d"), words, strict=True)
    ]
    assert chosen == [[1, 2], [1], [0, 1, 3], [1]]
    assert MIN_SHARED_WORDS == 2  # the rule docs/packs.md states


def test_sentences_mentioning_quotes_whole_words_once() -> None:
    texts = ["A FastAPI app. Tests run with `make test`; deploys by hand.", "Run tests in CI."]
    found = sentences_mentioning(texts, ("test", "tests", "ci"))
    assert found == ["Tests run with `make test`;", "Run tests in CI."]
    assert sentences_mentioning(["Contest entries."], ("test",)) == []


def _structure(markdown: str) -> list[str]:
    """The block tokens a renderer sees, without those of paragraphs and their text."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [t.type for t in tokens if t.type not in {"paragraph_open", "paragraph_close", "inline"}]


@pytest.mark.parametrize("text", HOSTILE)
def test_user_text_in_a_heading_or_a_list_item_forges_no_structure(text: str) -> None:
    document = (
        f"# Title {inline(text)}\n\n- {inline(text)}\n- [{link_text(text)}](x.md)\n\n"
        f"{block(text)}\n"
    )
    assert _structure(document) == [
        "heading_open",
        "heading_close",
        "bullet_list_open",
        "list_item_open",
        "list_item_close",
        "list_item_open",
        "list_item_close",
        "bullet_list_close",
    ]


def test_block_text_keeps_its_lines_and_paragraphs() -> None:
    assert (
        block("first line\nsecond\n\n\n\nnew paragraph\n") == "first line\nsecond\n\nnew paragraph"
    )
    assert inline("  many   spaces\n\tand lines ") == "many spaces and lines"
    assert inline("snake_case and *stars*") == "snake_case and *stars*"  # left readable
