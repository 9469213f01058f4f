"""Slack over Socket Mode end to end: the coach asks the Web API (a local fake) for a websocket
URL with its app token, connects to a local stand-in for Slack's Socket Mode endpoint, acks the
envelopes it receives there and answers through the Web API, exactly as it would with Slack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from bot.adapters.slack import SlackChannel
from bot.config import Secret, Settings
from bot.model import Address
from bot.web import PLATFORMS_KEY, build_web_app
from tests.fake_slack import BOT_USER, TEAM, FakeSlack

CHANNEL = "C1"
HERE = Address("slack", TEAM, CHANNEL)
ACK_WITHIN_S = 3.0  # Slack's deadline for acking an envelope
WAIT_S = 5.0


@dataclass
class FakeSlackWithSocketMode(FakeSlack):
    """The fake Web API, whose apps.connections.open hands out the local endpoint's URL."""

    socket_url: str = ""

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        return super()._answer(method, params)


class SocketModeEndpoint:
    """A stand-in for Slack's Socket Mode endpoint: says hello to each connection, sends the
    envelopes a test hands it, and records what the client sends back (its acks)."""

    def __init__(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._connect)
        self.server = TestServer(app, host="127.0.0.1")
        self.sockets: list[web.WebSocketResponse] = []
        self.received: list[dict[str, Any]] = []

    async def start(self) -> None:
        await self.server.start_server()

    async def close(self) -> None:
        await self.server.close()

    @property
    def url(self) -> str:
        return str(self.server.make_url("/link").with_scheme("ws"))

    async def send(self, message: dict[str, Any]) -> None:
        """Send to the latest connection."""
        await self.sockets[-1].send_json(message)

    def ack_of(self, envelope_id: str) -> dict[str, Any] | None:
        return next((m for m in self.received if m.get("envelope_id") == envelope_id), None)

    async def _connect(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({
            "type": "hello", "num_connections": len(self.sockets),
            "connection_info": {"app_id": "A1"},
            "debug_info": {"host": "local", "approximate_connection_time": 18060},
        })  # fmt: skip
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.received.append(json.loads(message.data))
        return ws


async def until(check: Callable[[], object], what: str, timeout_s: float = WAIT_S) -> float:
    """Wait (bounded) until `check()` is true; returns the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not check():
        if loop.time() - start > timeout_s:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.005)
    return loop.time() - start


def slash_command(envelope_id: str, user: str, text: str) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id, "type": "slash_commands", "accepts_response_payload": True,
        "payload": {
            "token": "legacy", "team_id": TEAM, "team_domain": "team", "channel_id": CHANNEL,
            "channel_name": "partnership", "user_id": user, "user_name": user.lower(),
            "command": "/coach", "text": text, "api_app_id": "A1",
            "is_enterprise_install": "false", "response_url": "https://hooks.example/response",
            "trigger_id": f"trig-{time.monotonic_ns()}",
        },
    }  # fmt: skip


def event_callback(
    envelope_id: str, event: dict[str, Any], event_id: str, retry_attempt: int = 0
) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
        "retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else "",
        "payload": {
            "token": "legacy", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
            "event_id": event_id, "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        },
    }  # fmt: skip


async def test_the_coach_works_over_socket_mode(coach, store):
    fake = FakeSlackWithSocketMode()
    endpoint = SocketModeEndpoint()
    await fake.start()
    await endpoint.start()
    fake.socket_url = endpoint.url
    settings = Settings(
        slack_bot_token=Secret("xoxb-test"),
        slack_signing_secret=Secret("s"),
        slack_app_token=Secret("xapp-test"),
        slack_api_url=fake.api_url,
    )
    app = await build_web_app(coach, settings)
    server = TestServer(app)
    channel: SlackChannel = app[PLATFORMS_KEY]["slack"]  # type: ignore[assignment]
    try:
        async with asyncio.timeout(WAIT_S):  # the SDK retries a failed connect forever
            await server.start_server()  # on_startup connects over Socket Mode
        assert "/slack/events" not in {r.canonical for r in app.router.resources()}

        (opened,) = fake.of("apps.connections.open")
        assert opened["_auth"] == "Bearer xapp-test"
        await until(lambda: len(endpoint.sockets) == 1, "the websocket connection")

        # a slash command: acked at once, answered through the Web API, stored
        await endpoint.send(slash_command("env-1", "ULEAD", 'setup "Trails"'))
        took = await until(lambda: endpoint.ack_of("env-1"), "the ack of env-1", ACK_WITHIN_S)
        assert endpoint.ack_of("env-1") == {"envelope_id": "env-1"}
        assert took < ACK_WITHIN_S

        def posted(text: str) -> list[dict[str, Any]]:
            return [p for p in fake.of("chat.postMessage") if text in p["text"]]

        await until(lambda: posted('Partnership "Trails" is set up'), "the setup reply")
        (reply,) = posted('Partnership "Trails" is set up')
        assert reply["channel"] == CHANNEL
        assert reply["_auth"] == "Bearer xoxb-test"
        assert (await store.load(HERE)).partnership.name == "Trails"

        # an app_mention, then Slack's redelivery of the same event: handled once
        mention = {"type": "app_mention", "user": "ULEAD", "channel": CHANNEL, "ts": "1.1",
                   "text": f'<@{BOT_USER}> partner add "Metro Chamber" business'}  # fmt: skip
        await endpoint.send(event_callback("env-2", mention, "Ev42"))
        await endpoint.send(event_callback("env-3", mention, "Ev42", retry_attempt=1))
        await until(
            lambda: endpoint.ack_of("env-2") and endpoint.ack_of("env-3"),
            "the acks of env-2 and env-3",
            ACK_WITHIN_S,
        )
        await until(lambda: posted("Metro Chamber (business) joins"), "the partner_added reply")
        await channel.drain()  # both deliveries were acked, so both turns have been spawned
        assert len(posted("Metro Chamber (business) joins")) == 1
        assert list((await store.load(HERE)).partnership.orgs) == ["metro-chamber"]

        # Slack asks the client to reconnect: it fetches a new URL and carries on there
        await endpoint.send({"type": "disconnect", "reason": "refresh_requested"})
        await until(lambda: len(endpoint.sockets) == 2, "the reconnection")
        assert len(fake.of("apps.connections.open")) == 2
        await until(lambda: endpoint.sockets[0].closed, "the old connection to close")
        await endpoint.send(slash_command("env-4", "ULEAD", 'partner add "Clean Air" nonprofit'))
        await until(lambda: endpoint.ack_of("env-4"), "the ack of env-4", ACK_WITHIN_S)
        await until(lambda: posted("Clean Air (nonprofit) joins"), "the second partner_added")
    finally:
        await server.close()  # on_cleanup: SlackChannel.close closes Socket Mode, then the session
        await endpoint.close()
        await fake.close()
    assert all(ws.closed for ws in endpoint.sockets)
    calls = [c for c in fake.calls if c.method != "apps.connections.open"]
    assert all(c.params["_auth"] == "Bearer xoxb-test" for c in calls)


async def test_a_bad_app_token_fails_start_up_instead_of_hanging(coach):
    from slack_sdk.errors import SlackApiError

    fake = FakeSlack()
    await fake.start()
    fake.fail_next("apps.connections.open", 200, body={"ok": False, "error": "invalid_auth"})
    settings = Settings(
        slack_bot_token=Secret("xoxb-test"),
        slack_app_token=Secret("xapp-wrong"),
        slack_api_url=fake.api_url,
    )
    assert settings.slack_enabled  # Socket Mode needs no signing secret
    server = TestServer(await build_web_app(coach, settings))
    try:
        async with asyncio.timeout(5):
            try:
                await server.start_server()
            except SlackApiError as error:
                assert error.response["error"] == "invalid_auth"
            else:
                raise AssertionError("start-up should fail on a bad app token")
    finally:
        await server.close()
        await fake.close()
