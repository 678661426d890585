"""The first start's message: the link's true lifetime, and commands as they can be typed."""

from pathlib import Path

import pytest

from missionctl.services.usecases import sign_in_links


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (900, "15 minutes"),
        (600, "10 minutes"),
        (60, "1 minute"),
        (3600, "1 hour"),
        (86_400, "1 day"),
        (90, "90 seconds"),
        (1, "1 second"),
    ],
)
def test_a_lifetime_is_said_in_the_largest_whole_unit(seconds: int, words: str) -> None:
    assert sign_in_links.lifetime_words(seconds) == words


def test_the_program_is_named_as_it_can_be_typed(tmp_path: Path) -> None:
    program = tmp_path / ".venv" / "bin" / "missionctl"
    program.parent.mkdir(parents=True)
    program.write_text("")
    # Not on PATH (after `make run`): its path from where the person stands.
    assert (
        sign_in_links.program_as_typed(str(program), found_on_path=None, cwd=tmp_path)
        == ".venv/bin/missionctl"
    )
    assert (
        sign_in_links.program_as_typed(".venv/bin/missionctl", found_on_path=None, cwd=tmp_path)
        == ".venv/bin/missionctl"
    )
    # On PATH, and the very same program: its bare name.
    assert (
        sign_in_links.program_as_typed(str(program), found_on_path=str(program), cwd=tmp_path)
        == "missionctl"
    )
    # Another missionctl on PATH: the path of this one, absolute when outside the directory.
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    other = "/usr/local/bin/missionctl"
    assert sign_in_links.program_as_typed(str(program), found_on_path=other, cwd=elsewhere) == str(
        program
    )
    spaced = tmp_path / "my tools" / "missionctl"
    assert sign_in_links.program_as_typed(str(spaced), found_on_path=None, cwd=tmp_path) == (
        "'my tools/missionctl'"
    )


def test_the_first_start_message_says_the_links_lifetime_and_a_typable_command() -> None:
    text = sign_in_links.first_start_message(
        link_url="http://127.0.0.1:8000/sign-in?token=mcl_x", program=".venv/bin/missionctl"
    )
    assert f"within {sign_in_links.lifetime_words(sign_in_links.SIGN_IN_LINK_TTL_S)})" in text
    assert "within 15 minutes" in text and "http://127.0.0.1:8000/sign-in?token=mcl_x" in text
    assert ".venv/bin/missionctl user set-password admin --password-stdin" in text
    assert ".venv/bin/missionctl login-link admin" in text
    assert "Account page" in text
