"""Settings come from MISSIONCTL_* variables; secrets never print."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from missionctl.settings import get_settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ["MISSIONCTL_HOME", "MISSIONCTL_DATABASE_URL", "MISSIONCTL_LLM_MODEL"]:
        monkeypatch.delenv(name, raising=False)
    settings = get_settings()
    assert settings.home == Path(".missionctl")
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith(".missionctl/missionctl.db")
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8000)
    assert not settings.llm.configured


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path))
    monkeypatch.setenv("MISSIONCTL_SERVER_PORT", "9001")
    monkeypatch.setenv("MISSIONCTL_LOG_LEVEL", "debug")
    monkeypatch.setenv("MISSIONCTL_LLM_MODEL", "gpt-test")
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", "postgresql+psycopg://u:pw@db/x")
    settings = get_settings()
    assert settings.home == tmp_path
    assert settings.server.port == 9001
    assert settings.log_level == "DEBUG"
    assert settings.llm.configured
    assert settings.database_url == "postgresql+psycopg://u:pw@db/x"


def test_masked_hides_every_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISSIONCTL_LLM_API_KEY", "sk-canary-123")
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", "postgresql+psycopg://u:db-canary-456@db/x")
    settings = get_settings()
    shown = repr(settings) + str(settings.masked())
    assert "sk-canary-123" not in shown
    assert "db-canary-456" not in shown
    assert settings.masked()["llm"]["MISSIONCTL_LLM_API_KEY"] == "**********"


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISSIONCTL_SERVER_PORT", "70000")
    with pytest.raises(ValidationError, match="port"):
        get_settings()
