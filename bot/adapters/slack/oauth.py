"""Slack's install flow for many workspaces: installations and OAuth states kept in Redis.

slack_sdk ships file, SQL and cloud stores but none on Redis; these two implement its store
interfaces on the coach's own store, so any web process can authorize any workspace.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.conversations import Conversations

logger = logging.getLogger(__name__)

OAUTH_STATE_TTL_S = 600  # the time a person has to finish installing


def _team(enterprise_id: str | None, team_id: str | None, enterprise_install: bool | None) -> str:
    return f"{enterprise_id or 'none'}-{'none' if enterprise_install else team_id or 'none'}"


class RedisInstallationStore(AsyncInstallationStore):
    """The latest installation (and its bot) per workspace, and per installing user."""

    def __init__(self, store: Conversations) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_save(self, installation: Installation) -> None:
        team = _team(
            installation.enterprise_id,
            installation.team_id,
            installation.is_enterprise_install,
        )
        data = json.dumps(installation.__dict__)
        await self.store.put_record("slack-installation", team, data)
        await self.store.put_record("slack-installation", f"{team}:{installation.user_id}", data)
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        team = _team(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        await self.store.put_record("slack-bot", team, json.dumps(bot.__dict__))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self.store.get_record(
            "slack-bot", _team(enterprise_id, team_id, is_enterprise_install)
        )
        return Bot(**json.loads(found)) if found else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        team = _team(enterprise_id, team_id, is_enterprise_install)
        found = await self.store.get_record(
            "slack-installation", f"{team}:{user_id}" if user_id else team
        )
        return Installation(**json.loads(found)) if found else None

    async def async_delete_bot(
        self, *, enterprise_id: str | None, team_id: str | None, **_: Any
    ) -> None:
        await self.store.delete_record("slack-bot", _team(enterprise_id, team_id, False))

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        **_: Any,
    ) -> None:
        team = _team(enterprise_id, team_id, False)
        await self.store.delete_record(
            "slack-installation", f"{team}:{user_id}" if user_id else team
        )


class RedisOAuthStateStore(AsyncOAuthStateStore):
    """One-time states for the install flow: issued on the install page, consumed once."""

    def __init__(self, store: Conversations) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = uuid.uuid4().hex
        await self.store.put_record("slack-oauth-state", state, "1", ttl_s=OAUTH_STATE_TTL_S)
        return state

    async def async_consume(self, state: str) -> bool:
        return await self.store.take_record("slack-oauth-state", state) is not None
