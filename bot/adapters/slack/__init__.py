"""Slack: Bolt requests in, Turns to the core, Block Kit out. Decides nothing.

    POST /slack/events (or Socket Mode)
      Bolt AsyncApp: signature check (401 before any listener), url_verification
      listener: await ack() first, then the turn runs in a background task   (3-second rule)
        listeners.py   each kind of request -> a Turn (pure)
        setup_form.py  the setup modal, and its submission as one form turn
      Coach.handle(turn) -> replies
        delivery.py    post, ephemeral, direct message, update, thread, file; the worker's courier
        render.py      Block Kit (pure)
        oauth.py       installations and OAuth states for many workspaces, in Redis

Each request's Web API client (with its workspace's token, under OAuth) is passed along
explicitly to everything that answers it. Slack's 429 answers are retried after Retry-After; a
post that still fails is logged with its conversation, never dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any

from aiohttp import ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.base import Route
from bot.adapters.slack import listeners
from bot.adapters.slack.delivery import CLOCK_SKEW_S, SlackDelivery
from bot.adapters.slack.render import home_view, render_blocks
from bot.adapters.slack.setup_form import SETUP_VIEW, form_turn, setup_view
from bot.coach import Coach
from bot.config import Settings
from bot.model import Address, Receipt, Reply, Turn, User

__all__ = ["CLOCK_SKEW_S", "SlackChannel", "build", "render_blocks"]

logger = logging.getLogger(__name__)

Ack = Callable[..., Awaitable[None]]

CHOICE_ACTION = re.compile(r"^coach\.choice\.\d+$")
INSTALL_PATH = "/slack/install"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
EVENTS_PATH = "/slack/events"
LOG_AS_DECISION = "coach_log_as_decision"  # the message shortcut's callback id
RATE_LIMIT_RETRIES = 3
MAX_CONCURRENT_TURNS = 32  # turns running after their acks, per process; the rest wait
SOCKET_MODE_CONNECT_TIMEOUT_S = 30


def build(coach: Coach, settings: Settings, session: ClientSession) -> SlackChannel:
    return SlackChannel(coach, settings, session)


class SlackChannel:
    """The coach in Slack: a Bolt app whose listeners turn requests into turns.

    Args:
        coach: the core.
        settings: the Slack settings (`slack_*`).
        session: an aiohttp session shared by every Web API call (one connection pool).
    """

    name = "slack"

    def __init__(self, coach: Coach, settings: Settings, session: ClientSession) -> None:
        self.coach = coach
        self.settings = settings
        self.client = AsyncWebClient(
            token=settings.slack_bot_token or None,  # with OAuth, each workspace has its own
            base_url=settings.slack_api_url,
            session=session,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(),
                AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ],
        )
        self.delivery = SlackDelivery(coach.conversations)
        # process_before_response: the listener runs inline (no 10 ms ack polling) and each
        # listener acks first and hands the turn to a background task.
        self.app = AsyncApp(
            client=self.client,
            # Socket Mode requests come over the coach's own websocket and carry no signature
            signing_secret=settings.slack_signing_secret or None,
            request_verification_enabled=not settings.slack_app_token,
            process_before_response=True,
            logger=logger,
            oauth_flow=self._oauth_flow(coach, settings) if settings.slack_oauth_enabled else None,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._turns = asyncio.Semaphore(MAX_CONCURRENT_TURNS)
        self._socket_mode: Any = None
        self._register()

    # --- the contract (bot.adapters.base.Platform) ---------------------------------------------

    def routes(self) -> Sequence[Route]:
        routes: list[Route] = []
        if not self.settings.slack_app_token:
            routes.append(("POST", EVENTS_PATH, self.handle))
            logger.info("Slack: serving POST %s", EVENTS_PATH)
        if self.settings.slack_oauth_enabled:
            routes += [("GET", INSTALL_PATH, self.handle_oauth)]
            routes += [("GET", OAUTH_REDIRECT_PATH, self.handle_oauth)]
            logger.info("Slack: installable into other workspaces at %s", INSTALL_PATH)
        return routes

    async def start(self) -> None:
        if self.settings.slack_app_token:
            await self.start_socket_mode(self.settings.slack_app_token)
            logger.info("Slack: connected over Socket Mode")

    async def close(self) -> None:
        if self._socket_mode is not None:
            await self._socket_mode.close_async()
        await self.drain()

    async def deliver(self, turn: Turn, reply: Reply) -> bool:
        # a public reply may belong in another conversation (a card in a linked channel)
        where = turn.address if reply.private else (reply.where or turn.address)
        client = await self.client_for(where.workspace)
        return client is not None and await self._deliver(client, turn, reply)

    async def send(self, address: Address, replies: list[Reply], receipt: Receipt) -> bool:
        """What the worker sends, with the workspace's own token. Only 429s are retried here:
        Slack did not take those. A dropped connection may have posted; the next run of the
        job looks in the history before posting again."""
        client = await self.client_for(address.workspace)
        if client is None:
            return False
        client = AsyncWebClient(
            token=client.token,
            base_url=client.base_url,
            session=client.session,
            retry_handlers=[
                h for h in client.retry_handlers if isinstance(h, AsyncRateLimitErrorRetryHandler)
            ],
        )
        return await self.delivery.send(client, address, replies, receipt)

    async def person(self, address: Address, user_id: str) -> User:
        client = await self.client_for(address.workspace)
        if client is None:
            return User(user_id, user_id)
        return await self.delivery.person(client, address, user_id)

    # --- clients per workspace -----------------------------------------------------------------

    async def client_for(self, workspace: str) -> AsyncWebClient | None:
        """The Web API client for a workspace: the one bot token, or under OAuth the
        workspace's own (None when the coach is not installed there)."""
        flow = self.app.oauth_flow
        if self.client.token or flow is None:
            return self.client
        bot = await flow.settings.installation_store.async_find_bot(
            enterprise_id=None, team_id=workspace
        )
        if bot is None:
            return None
        return AsyncWebClient(
            token=bot.bot_token,
            base_url=self.client.base_url,
            session=self.client.session,
            retry_handlers=self.client.retry_handlers,
        )

    def _oauth_flow(self, coach: Coach, settings: Settings) -> AsyncOAuthFlow:
        """Installing into many workspaces: Slack's OAuth flow, with its records in Redis."""
        from bot.adapters.slack.oauth import RedisInstallationStore, RedisOAuthStateStore

        return AsyncOAuthFlow(
            client=self.client,
            logger=logger,
            settings=AsyncOAuthSettings(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret,
                scopes=list(settings.slack_scopes),
                installation_store=RedisInstallationStore(coach.conversations),
                state_store=RedisOAuthStateStore(coach.conversations),
                install_path=INSTALL_PATH,
                redirect_uri_path=OAUTH_REDIRECT_PATH,
            ),
        )

    # --- HTTP and Socket Mode ------------------------------------------------------------------

    async def handle_oauth(self, request: web.Request) -> web.Response:
        """The aiohttp handler for the install page and Slack's redirect back after it."""
        flow = self.app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        bolt_request = await to_bolt_request(request)
        if request.path == INSTALL_PATH:
            return await to_aiohttp_response(await flow.handle_installation(bolt_request))
        return await to_aiohttp_response(await flow.handle_callback(bolt_request))

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler for POST /slack/events."""
        try:
            bolt_request = await to_bolt_request(request)
        except ValueError:  # Bolt parses the body before it checks the signature
            logger.warning("Slack request with a malformed body (%s)", request.content_type)
            return web.Response(status=400, text="malformed request body")
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def start_socket_mode(self, app_token: str) -> None:
        """Reach Slack over Socket Mode (a websocket the coach opens): no public URL needed."""
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        self._socket_mode = AsyncSocketModeHandler(self.app, app_token, web_client=self.client)
        # slack_sdk's connect() retries every failure forever, a bad token included: ask for
        # the websocket URL ourselves first, so a bad token or an unreachable Slack fails start-up
        # with a clear error instead of hanging it.
        opened = await self.client.apps_connections_open(app_token=app_token)
        self._socket_mode.client.wss_uri = str(opened["url"])
        await asyncio.wait_for(self._socket_mode.connect_async(), SOCKET_MODE_CONNECT_TIMEOUT_S)

    async def drain(self) -> None:
        """Wait for the turns still running after their acks (tests; shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the ack, tracked so shutdown can wait for it."""
        task = asyncio.get_running_loop().create_task(_logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- listeners: ack first, then hand the turn to a background task -----------------------

    def _register(self) -> None:
        app = self.app
        app.command("/coach")(self._on_command)
        app.event("app_mention")(self._on_event(listeners.mention_turn))
        app.event("message")(self._on_event(listeners.direct_message_turn))
        app.event("reaction_added")(self._on_reaction)
        app.action(CHOICE_ACTION)(self._on_event(listeners.choice_turn))
        app.shortcut(LOG_AS_DECISION)(self._on_event(listeners.shortcut_turn))
        app.view(SETUP_VIEW)(self._on_setup_submitted)
        app.event("app_home_opened")(self._on_home_opened)
        app.error(self._on_error)

    def _on_event(
        self, to_turn: Callable[[dict[str, Any]], Turn | None]
    ) -> Callable[[Ack, dict[str, Any], AsyncWebClient], Awaitable[None]]:
        """A listener: ack, convert the body with `to_turn`, run the turn after the ack."""

        async def listener(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            turn = to_turn(body)
            if turn is not None:
                self._spawn(self._run(client, turn))
            elif to_turn is not listeners.direct_message_turn:  # most messages are not for us
                logger.warning("Slack %s not shaped as expected; ignored", to_turn.__name__)

        return listener

    async def _on_command(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if listeners.wants_setup_form(body):
            view = setup_view(self.coach.prompt, str(body.get("channel_id", "")))
            self._spawn(self._open_form(client, str(body["trigger_id"]), view))
            return
        turn = listeners.command_turn(body)
        if turn is None:
            logger.warning("Slack command not shaped as expected; ignored")
            return
        self._spawn(self._run(client, turn))

    async def _on_reaction(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        found = listeners.reaction(body)
        if found is not None:
            self._spawn(self._endorse_by_reaction(client, *found))

    async def _endorse_by_reaction(
        self, client: AsyncWebClient, address: Address, ts: str, user: str, event_id: str | None
    ) -> None:
        key = await self.coach.conversations.message_key(address, ts)
        if key is None or not key.startswith("decision:"):
            return  # a tick on a message that is not a decision card is just a tick
        turn = Turn(address, User(user, user), f"endorse {key.split(':', 1)[1]}", event_id=event_id)
        await self._run(client, turn)

    async def _open_form(
        self, client: AsyncWebClient, trigger_id: str, view: dict[str, Any]
    ) -> None:
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as error:
            logger.error("could not open the setup form: %s", error.response)

    async def _on_setup_submitted(
        self, ack: Ack, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The setup modal: checked by the core before the ack, so problems show beside their
        fields; applied as one turn after it."""
        turn = form_turn(body)
        if turn is None:
            await ack()
            logger.warning("Slack setup form not shaped as expected; ignored")
            return
        errors = await self.coach.check_form(turn)
        if errors:  # answered in the form itself; nothing is set up until it is all right
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        self._spawn(self._run(client, turn))

    async def _on_home_opened(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        event = body.get("event") or {}
        team, user = body.get("team_id"), event.get("user")
        if event.get("tab") == "home" and isinstance(team, str) and isinstance(user, str):
            self._spawn(self._publish_home(client, team, user))

    async def _publish_home(self, client: AsyncWebClient, team: str, user: str) -> None:
        replies = await self.coach.overview("slack", team, user)
        view = home_view(self.coach.prompt("home.title"), replies)
        try:
            await client.views_publish(user_id=user, view=view)
        except SlackApiError as error:
            logger.error("could not publish App Home for %s: %s", user, error.response)

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        logger.error("Slack request failed: %r (type %s)", error, body.get("type"))

    # --- a turn after its ack ------------------------------------------------------------------

    async def _run(self, client: AsyncWebClient, turn: Turn) -> None:
        # Slack has had its ack; from here nothing may be lost silently: a failure is logged
        # with the conversation, and the person gets the apology if it can still be posted.
        async with self._turns:
            try:
                person = await self.delivery.person(client, turn.address, turn.user.id)
                turn = replace(turn, user=person)
                for reply in await self.coach.handle(turn):
                    where = reply.where
                    if where is not None and where.workspace != turn.address.workspace:
                        await self.deliver(turn, reply)  # with that workspace's own token
                    else:
                        await self._deliver(client, turn, reply)
            except Exception:
                logger.exception(
                    "Slack turn failed after its ack: conversation=%s user=%s",
                    turn.address.conversation,
                    turn.user.id,
                )

    async def _deliver(self, client: AsyncWebClient, turn: Turn, reply: Reply) -> bool:
        try:
            await self.delivery.deliver(client, turn, reply)
        except SlackApiError as error:
            logger.error(
                "could not post to Slack conversation %s (%s): %s",
                (reply.where or turn.address).conversation,
                reply.key or "reply",
                error.response.get("error", error.response.status_code),
            )
            return False
        return True


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    """Run background work after an ack; a failure is logged, never left in an unread task."""
    try:
        await work
    except Exception:
        logger.exception("Slack work after an ack failed")
