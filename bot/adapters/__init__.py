"""Adapters translate a platform's requests into Turns and render Replies; they decide nothing.

Every platform implements the contract in `bot.adapters.base` and has one line in
`PLATFORMS`, which the web app (`bot.web`), the worker's couriers (`bot.scheduler`) and the
settings (`bot.config`) read. A platform's module is imported only when it is enabled, so a
platform's SDK costs nothing where it is not used. Only this package imports platform SDKs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from aiohttp import ClientSession

    from bot.adapters.base import Builder, Platform
    from bot.coach import Coach
    from bot.config import Settings


@dataclass(frozen=True)
class PlatformEntry:
    """One platform: its name (the `Address.platform` of its conversations), the module whose
    `build` makes it, whether the settings enable it, and whether they hold credentials of a
    real platform (then a plain `coach` serves instead of opening the console)."""

    name: str
    module: str
    enabled: Callable[[Settings], bool]
    credentials: Callable[[Settings], bool]

    def build(self, coach: Coach, settings: Settings, session: ClientSession) -> Platform:
        builder = cast("Builder", importlib.import_module(self.module).build)
        return builder(coach, settings, session)


PLATFORMS = (
    PlatformEntry("console", "bot.adapters.console", lambda s: True, lambda s: False),
    PlatformEntry(
        "slack", "bot.adapters.slack", lambda s: s.slack_enabled, lambda s: s.slack_enabled
    ),
    PlatformEntry(
        "teams", "bot.adapters.teams", lambda s: s.teams_enabled, lambda s: bool(s.teams_app_id)
    ),
)


def enabled(settings: Settings) -> list[PlatformEntry]:
    return [entry for entry in PLATFORMS if entry.enabled(settings)]
