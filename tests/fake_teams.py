"""A local aiohttp server standing in for the Bot Framework connector, recording every call.

Activities sent to the coach carry this server's URL as their `serviceUrl`, so botbuilder's
own connector client sends the replies here over HTTP.
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


@dataclass
class FakeConnector:
    server: TestServer | None = None
    sent: list[Sent] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # statuses for the next calls
    members: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (tenant, email)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> None:
        app = web.Application()
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

    def texts(self) -> list[str]:
        return [s.activity.get("text", "") for s in self.sent]

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

    async def _send(self, request: web.Request) -> web.Response:
        if self.failures:
            status = self.failures.pop(0)
            return web.json_response({"error": {"code": "Throttled"}}, status=status)
        activity = json.loads(await request.read())
        self.sent.append(
            Sent(
                request.method,
                unquote(request.match_info["conversation"]),
                activity,
                request.match_info.get("id"),
            )
        )
        sent_id = request.match_info["id"] if request.method == "PUT" else f"sent-{next(self._ids)}"
        return web.json_response({"id": sent_id})
