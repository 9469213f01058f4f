"""A local aiohttp server standing in for the Bot Framework connector, recording every call.

Activities sent to the coach carry this server's URL as their `serviceUrl`, so the Agents
SDK's own connector client sends the replies here over HTTP.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Sent:
    method: str  # POST (a new message or a reply) or PUT (an update)
    conversation: str
    activity: dict[str, Any]
    activity_id: str | None  # the activity replied to (POST) or updated (PUT)
    id: str  # the message's id, as the connector answered it


@dataclass
class Created:
    """A conversation the bot started (a 1:1 chat for a private reply)."""

    id: str
    parameters: dict[str, Any]


@dataclass
class FakeConnector:
    server: TestServer | None = None
    sent: list[Sent] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # statuses for the next calls
    created: list[Created] = field(default_factory=list)
    members: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (tenant, email)
    retry_after: str | None = None  # the Retry-After header of failure answers
    authorizations: list[str | None] = field(default_factory=list)  # each call's header
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{id}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{id}", self._send)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self.server = TestServer(app)
        await self.server.start_server()

    async def close(self) -> None:
        assert self.server is not None
        await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/")).rstrip("/") + "/"

    def texts(self, conversation: str | None = None) -> list[str]:
        """The texts sent, to every conversation or to one."""
        return [
            s.activity.get("text", "")
            for s in self.sent
            if conversation is None or s.conversation == conversation
        ]

    def card(self, sent: Sent) -> dict[str, Any]:
        (attachment,) = sent.activity["attachments"]
        return attachment["content"]

    async def _member(self, request: web.Request) -> web.Response:
        member = unquote(request.match_info["member"])
        tenant, email = self.members.get(member, ("tenant-1", f"{member[3:]}@city.example.gov"))
        return web.json_response(
            {"id": member, "name": member[3:], "tenantId": tenant, "email": email,
             "userPrincipalName": email}
        )  # fmt: skip

    def _failure(self) -> web.Response | None:
        if not self.failures:
            return None
        headers = {"Retry-After": self.retry_after} if self.retry_after else {}
        return web.json_response(
            {"error": {"code": "Throttled"}}, status=self.failures.pop(0), headers=headers
        )

    async def _create(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization"))
        if failure := self._failure():
            return failure
        parameters = json.loads(await request.read())
        created = Created(f"a:1on1-{len(self.created) + 1}", parameters)
        self.created.append(created)
        return web.json_response({"id": created.id})

    async def _send(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization"))
        if failure := self._failure():
            return failure
        activity = json.loads(await request.read())
        sent_id = request.match_info["id"] if request.method == "PUT" else f"sent-{next(self._ids)}"
        self.sent.append(
            Sent(
                request.method,
                unquote(request.match_info["conversation"]),
                activity,
                request.match_info.get("id"),
                sent_id,
            )
        )
        return web.json_response({"id": sent_id})
