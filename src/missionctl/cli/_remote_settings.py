"""The remote CLI's own settings: ``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN``.

A module of its own so that pydantic-settings is loaded only when a command reads them
(``missionctl.cli.remote.load_remote_settings``), not for ``missionctl --help``.
"""

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class RemoteSettings(BaseSettings):
    """Where the CLI's server is and which token it uses (both unset: the local database).

    These are the CLI's own settings, not the server's (``missionctl.settings``), which ignores
    them.
    """

    model_config = SettingsConfigDict(env_prefix="MISSIONCTL_", extra="ignore")

    url: str | None = Field(
        default=None, description="Base URL of the server, e.g. http://127.0.0.1:8000."
    )
    token: SecretStr | None = Field(default=None, description="API token (mc_…), sent as Bearer.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # an empty variable means unset, as in a shell `MISSIONCTL_URL=`
        value = value.strip()
        import httpx2

        parsed = httpx2.URL(value)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("must be an http:// or https:// URL, e.g. http://127.0.0.1:8000")
        return value

    @field_validator("token")
    @classmethod
    def _printable_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        secret = value.get_secret_value().strip()  # `$(cat token-file)` keeps a newline
        # A header cannot carry other characters; the message must not quote the value.
        if not secret.isascii() or not secret.isprintable() or " " in secret:
            raise ValueError("is not an API token: expected printable ASCII without spaces (mc_…)")
        return SecretStr(secret)
