"""A local aiohttp server standing in for the Slack Web API, recording every call.

The coach's real slack_sdk client is pointed at it through SLACK_API_URL, so requests travel
over HTTP exactly as they would to Slack. Posted messages and shared files are kept per channel,
so conversations.history and conversations.replies answer as Slack's would.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.test_utils import TestServer

BOT_USER = "UBOT"
TEAM = "T1"


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeSlack:
    server: TestServer | None = None
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, str], dict[str, Any], bool]]] = field(
        default_factory=dict
    )
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> messages
    filenames: dict[str, str] = field(default_factory=dict)  # file id -> name
    last_ts: float = 0.0
    uploads: dict[str, bytes] = field(default_factory=dict)
    external_users: dict[str, str] = field(default_factory=dict)  # Slack Connect: user -> team
    time_zones: dict[str, str] = field(default_factory=dict)  # user -> their profile's tz
    teams: dict[str, str] = field(default_factory=dict)  # team id -> workspace name
    delays: dict[str, float] = field(default_factory=dict)  # method -> seconds before answering
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # users.info and a few others
        app.router.add_post("/upload/{file}", self._upload)
        self.server = TestServer(app)
        await self.server.start_server()

    async def close(self) -> None:
        assert self.server is not None
        await self.server.close()

    @property
    def api_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    def fail_next(
        self,
        method: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body=None,
        after_doing_it: bool = False,
    ) -> None:
        """Answer the next call of `method` with this status instead of success; with
        `after_doing_it`, the call takes effect first (a post made, then a 500 or a lost
        answer, as happens)."""
        self.failures.setdefault(method, []).append(
            (status, headers or {}, body or {"ok": False, "error": "ratelimited"}, after_doing_it)
        )

    def messages(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """A channel's messages (or one thread's), oldest first."""
        return [
            m for m in self.history.get(channel, [])
            if thread_ts is None or m.get("thread_ts", m["ts"]) == thread_ts
        ]  # fmt: skip

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the caller went away (was killed): not done
        raw = await request.read() if request.content_type != "multipart/form-data" else b""
        if request.content_type == "application/json":
            params = json.loads(raw or b"{}")
        elif request.content_type == "multipart/form-data":
            params = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        else:
            params = dict(parse_qsl(raw.decode()))
        params |= dict(request.query)  # slack_sdk sends some methods' arguments in the URL
        for key in ("blocks", "view"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        params["_auth"] = request.headers.get("Authorization", "")
        self.calls.append(Call(method, params))
        if self.failures.get(method):
            status, headers, body, after_doing_it = self.failures[method].pop(0)
            if after_doing_it:
                self._answer(method, params)
            return web.json_response(body, status=status, headers=headers)
        return web.json_response(self._answer(method, params))

    def _post(self, channel: str, message: dict[str, Any]) -> str:
        self.last_ts = max(time.time(), self.last_ts + 0.000001)  # unique and rising, as Slack's
        ts = f"{self.last_ts:.6f}"
        self.history.setdefault(channel, []).append(message | {"ts": ts})
        return ts

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            return ok | {"user_id": BOT_USER, "bot_id": "B1", "team_id": TEAM, "team": "Team"}
        if method == "oauth.v2.access":  # a workspace finishing the install flow
            return ok | {
                "access_token": "xoxb-installed", "token_type": "bot", "app_id": "A1",
                "scope": "commands,chat:write", "bot_user_id": "UBOT3",
                "team": {"id": "T3", "name": "Third Workspace"}, "enterprise": None,
                "authed_user": {"id": "UINSTALLER"}, "is_enterprise_install": False,
            }  # fmt: skip
        if method == "users.info":
            user = params.get("user", "")
            profile = {"display_name": user.lower(), "real_name": f"Real {user}"}
            team = self.external_users.get(user, TEAM)
            found = {"id": user, "name": user.lower(), "team_id": team, "profile": profile}
            if user in self.time_zones:
                found["tz"] = self.time_zones[user]
            return ok | {"user": found}
        if method == "team.info":
            team = params.get("team", "")
            return ok | {"team": {"id": team, "name": self.teams.get(team, "")}}
        if method == "chat.postMessage":
            message = {"text": params.get("text"), "user": BOT_USER}
            for key in ("thread_ts", "metadata"):
                if params.get(key):
                    message[key] = params[key]
            return ok | {
                "channel": params.get("channel"),
                "ts": self._post(params["channel"], message),
            }
        if method in ("conversations.history", "conversations.replies"):
            channel = params.get("channel", "")
            if method == "conversations.replies":
                found = self.messages(channel, params["ts"])
            else:
                oldest = float(params.get("oldest") or 0)
                found = [m for m in self.messages(channel)
                         if "thread_ts" not in m and float(m["ts"]) > oldest][::-1]  # fmt: skip
            if params.get("include_all_metadata") not in ("1", "true", True):
                found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
            start, limit = int(params.get("cursor") or 0), int(params.get("limit") or 100)
            more = start + limit < len(found)
            return ok | {
                "messages": found[start : start + limit], "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }  # fmt: skip
        if method == "chat.postEphemeral":
            return ok | {"message_ts": f"{1700000000 + next(self._ts)}.000200"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            self.filenames[file_id] = params.get("filename", "")
            return ok | {
                "upload_url": str(self.server.make_url(f"/upload/{file_id}")),
                "file_id": file_id,
            }  # type: ignore[union-attr]
        if method == "files.completeUploadExternal":
            files = [{"id": f["id"], "name": self.filenames.get(f["id"], "")}
                     for f in json.loads(params.get("files", "[]"))]  # fmt: skip
            if params.get("channel_id"):  # shared into the channel (or a thread), as a message
                message = {"text": params.get("initial_comment", ""), "files": files}
                if params.get("thread_ts"):
                    message["thread_ts"] = params["thread_ts"]
                self._post(params["channel_id"], message)
            return ok | {"files": [{"id": f["id"]} for f in files]}
        if method == "conversations.open":  # the coach's direct conversation with a person
            return ok | {"channel": {"id": f"D{params.get('users', '')}"}}
        if method == "apps.connections.open":
            return ok | {"url": params.get("_socket_url", "")}
        return ok

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file"]] = await request.read()
        return web.Response(text="OK")


def signed_headers(
    secret: str, body: str, *, timestamp: int | None = None, **extra: str
) -> dict[str, str]:
    """Headers for a request signed the way Slack signs them."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", **extra}


async def eventually(check, timeout_s: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until `check()` is true (work continues in the background after Slack's ack)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the coach's Slack calls")
        await asyncio.sleep(0.01)
