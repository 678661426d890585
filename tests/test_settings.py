"""Settings come from MISSIONCTL_* variables; secrets never print."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from missionctl.settings import find_home, get_settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ["MISSIONCTL_HOME", "MISSIONCTL_DATABASE_URL", "MISSIONCTL_LLM_MODEL"]:
        monkeypatch.delenv(name, raising=False)
    assert find_home(tmp_path) is None  # nothing above the test's directory either
    monkeypatch.chdir(tmp_path)
    settings = get_settings()
    assert settings.home == tmp_path / ".missionctl"  # where it would be made; not made here
    assert not settings.home.exists()
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/.missionctl/missionctl.db"
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


def test_the_home_is_the_nearest_data_directory_above(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MISSIONCTL_HOME", raising=False)
    (tmp_path / ".missionctl").mkdir()
    (tmp_path / "project" / ".missionctl").mkdir(parents=True)
    deep = tmp_path / "project" / "src" / "pkg"
    deep.mkdir(parents=True)
    (deep / ".missionctl").write_text("a file of that name is not a data directory")
    monkeypatch.chdir(deep)
    assert get_settings().home == tmp_path / "project" / ".missionctl"
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "chosen"))
    assert get_settings().home == tmp_path / "chosen"  # MISSIONCTL_HOME wins over any search


def test_the_search_stops_at_the_filesystem_edge(tmp_path: Path) -> None:
    (tmp_path / ".missionctl").mkdir()
    mount = tmp_path / "mnt"
    start = mount / "work"
    start.mkdir(parents=True)

    def device_of(path: Path) -> int:  # everything from mnt down is another filesystem
        return 2 if path == mount or mount in path.parents else 1

    assert find_home(start, device_of=device_of) is None
    assert find_home(start) == tmp_path / ".missionctl"  # on one filesystem it is found
    (mount / ".missionctl").mkdir()
    assert find_home(start, device_of=device_of) == mount / ".missionctl"  # the mount point


def test_public_url_is_an_http_base_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISSIONCTL_SERVER_PUBLIC_URL", "https://mc.example.com/base/")
    assert get_settings().server.public_url == "https://mc.example.com/base"
    monkeypatch.setenv("MISSIONCTL_SERVER_PUBLIC_URL", "")
    assert get_settings().server.public_url is None
    for bad in ("mc.example.com", "ftp://mc.example.com", "https://mc.example.com/?a=1"):
        monkeypatch.setenv("MISSIONCTL_SERVER_PUBLIC_URL", bad)
        with pytest.raises(ValidationError, match="public_url"):
            get_settings()


def test_an_engine_range_is_min_dash_max_within_the_bounds_or_refused_naming_the_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from missionctl.engine.worker import EngineConfig
    from missionctl.settings import EngineSettings

    monkeypatch.setenv("MISSIONCTL_ENGINE_AUTOSCALE", " 2 - 16 ")
    assert EngineSettings().autoscale_range == (2, 16)
    # Started within its range: the default 32 at once is brought to 16 before any claim.
    config = EngineConfig.from_settings(EngineSettings())
    assert config.concurrency == 16 and config.autoscale is not None
    assert (config.autoscale.minimum, config.autoscale.maximum) == (2, 16)
    monkeypatch.setenv("MISSIONCTL_ENGINE_AUTOSCALE", "")
    assert EngineSettings().autoscale_range is None
    for bad in ("16-2", "0-4", "1-1001", "four-8", "8", "-3-4", "1-²"):
        monkeypatch.setenv("MISSIONCTL_ENGINE_AUTOSCALE", bad)
        with pytest.raises(ValueError, match="MIN-MAX"):
            EngineSettings()
