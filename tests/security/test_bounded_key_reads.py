"""The session key file is read within a limit: one put in its place is not read whole."""

from pathlib import Path

import pytest

from missionctl.bounded_reads import TooLarge
from missionctl.security.session_key import SessionKeySource
from missionctl.security.sessions import load_secret_key
from missionctl.services.usecases.keys import SESSION_KEY_MAX_BYTES
from missionctl.settings import Settings


def test_a_session_key_file_of_the_limit_is_read_and_one_byte_more_is_not(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    key_file = tmp_path / "secret_key"
    key_file.write_text("k" * SESSION_KEY_MAX_BYTES)
    assert load_secret_key(settings) == "k" * SESSION_KEY_MAX_BYTES
    key_file.write_text("k" * (SESSION_KEY_MAX_BYTES + 1))
    with pytest.raises(TooLarge) as refused:
        load_secret_key(settings)
    assert refused.value.message == (
        f"{key_file} is larger than {SESSION_KEY_MAX_BYTES} bytes; write a new one with "
        "`missionctl keys rotate-session-key`"
    )


def test_a_running_server_keeps_its_key_when_the_file_grows_past_the_limit(
    tmp_path: Path,
) -> None:
    now = [0.0]
    source = SessionKeySource(Settings(home=tmp_path / "home"), clock=lambda: now[0])
    first = source()
    key_file = tmp_path / "home" / "secret_key"
    key_file.write_text("k" * (SESSION_KEY_MAX_BYTES + 1))
    now[0] += 1.0
    assert source() == first  # not read whole, not adopted
