"""Slack: Bolt requests in, Turns to the core, Block Kit out. Decides nothing.

    POST /slack/events (or Socket Mode)
      SlackChannel.handle: the signature, checked on the raw body before anything parses it
                           (401, one log line); a body Bolt cannot read is a 400
        `/coach` with the one bot token: queued and acked here (the hot path; Bolt's
                           middleware, authorize and listener matching add nothing to it)
      Bolt AsyncApp: everything else (events, clicks, forms, ssl_check, url_verification,
                     commands under OAuth), the listener
      listener: the request -> a Turn, with an event id (Slack's, or a digest of the signed
                body: a replayed request is the same turn); queued in Redis; then the ack
        listeners.py   each kind of request -> a Turn (pure)
        setup_form.py  the setup modal, and its submission as one form turn
      the turn queue (bot.turnqueue, consumed in every process that serves Slack)
        Coach.handle(turn) -> replies   (the commit refuses an event id it has seen)
        the replies noted on the entry  (a process taking it over posts them)
        delivery.py    post, ephemeral, direct message, update, thread, file; the worker's courier
        render.py      Block Kit (pure)
        oauth.py       installations and OAuth states for many workspaces, in Redis

Each queued turn carries its workspace, whose Web API client (with its token, under OAuth) is
passed along explicitly to everything that answers it. Slack's 429 answers are retried after
Retry-After, its 500 and 503 with backoff, a dropped connection once; a reply still refused
then is kept in Redis for the worker to try again (`bot.redelivery`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any

from aiohttp import ClientError, ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.base import Route
from bot.adapters.slack import listeners
from bot.adapters.slack.delivery import CLOCK_SKEW_S, SlackDelivery
from bot.adapters.slack.render import home_view, render_blocks
from bot.adapters.slack.setup_form import FIELDS, SETUP_VIEW, form_turn, setup_view
from bot.coach import Coach
from bot.config import Settings
from bot.content import clip
from bot.model import Address, Receipt, Reply, Turn, User
from bot.turnqueue import Entry

__all__ = ["CLOCK_SKEW_S", "SlackChannel", "build", "render_blocks"]

logger = logging.getLogger(__name__)
LOG_LINE_LIMIT = 300  # characters of one log line about a request from outside


class OneBoundedLine(logging.Filter):
    """Bolt's log records as one line of at most `LOG_LINE_LIMIT` characters: some of its
    warnings quote a request's whole body (with sample code, over many lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if len(text) > LOG_LINE_LIMIT or "\n" in text:
            record.msg, record.args = bounded(text), None
        return True


def bounded(text: str) -> str:
    """`text` on one line, cut to `LOG_LINE_LIMIT` characters."""
    return clip(" ".join(text.split()), LOG_LINE_LIMIT)


bolt_logger = logging.getLogger(f"{__name__}.bolt")  # Bolt copies its filters to its own loggers
bolt_logger.addFilter(OneBoundedLine())

Ack = Callable[..., Awaitable[None]]

CHOICE_ACTION = re.compile(r"^coach\.choice\.\d+$")
INSTALL_PATH = "/slack/install"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
EVENTS_PATH = "/slack/events"
FORM = "application/x-www-form-urlencoded"
LOG_AS_DECISION = "coach_log_as_decision"  # the message shortcut's callback id
SETUP_FORM = "setup-form"  # a record: who opened the setup form, for which conversation
SETUP_FORM_TTL_S = 24 * 3600  # a modal left open overnight can still be submitted
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2  # Slack's 500 and 503, after 0.5 s and 1 s (plus jitter)
MAX_CONCURRENT_TURNS = 32  # queued turns running at once, per process; the rest wait in Redis
SOCKET_MODE_CONNECT_TIMEOUT_S = 30
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# Bolt's errors while reading a signed payload of an unexpected shape (a list where a string
# belongs): the request is refused, with one log line
SHAPE_ERRORS = (AttributeError, IndexError, KeyError, TypeError, ValueError)


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
    delivers_files = True  # uploaded into the conversation, or to the person's direct messages

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
                AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
            ],
        )
        self.delivery = SlackDelivery(coach.conversations, coach.content.prompts.render)
        # The signature is checked in `handle`, on the raw body, before Bolt parses it (Socket
        # Mode requests come over the coach's own websocket and carry none).
        secret = settings.slack_signing_secret
        self._verifier = SignatureVerifier(secret) if secret else None
        # With the one bot token, `handle` answers `/coach` itself: Bolt's dispatch (its
        # middleware chain, authorize, listener matching) was most of an ack's CPU, and the
        # listener needs nothing from it. Under OAuth each workspace's installation is looked
        # up by Bolt's authorize, so commands go through Bolt.
        self._commands_direct = bool(settings.slack_bot_token) and not settings.slack_oauth_enabled
        # process_before_response: the listener runs inline (no 10 ms ack polling); it queues
        # the turn in Redis and acks.
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or None,
            request_verification_enabled=False,
            process_before_response=True,
            logger=bolt_logger,
            oauth_flow=self._oauth_flow(coach, settings) if settings.slack_oauth_enabled else None,
        )
        self.queue = coach.conversations.queue(
            self.name,
            self._run_entry,
            concurrency=MAX_CONCURRENT_TURNS,
            claim_after_s=settings.turn_claim_after_s,
        )
        self._tasks: set[asyncio.Task[None]] = set()
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
        await self.queue.start()
        if self.settings.slack_app_token:
            await self.start_socket_mode(self.settings.slack_app_token)
            logger.info("Slack: connected over Socket Mode")

    async def close(self) -> None:
        if self._socket_mode is not None:
            await self._socket_mode.close_async()
        await self.queue.close()  # the turns taken finish; the rest wait in Redis
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def deliver(self, turn: Turn, reply: Reply) -> bool:
        """One reply to a turn from outside its listener (a card in a linked channel, the
        worker's redelivery): False when Slack still refuses it."""
        # a public reply may belong in another conversation (a card in a linked channel)
        where = turn.address if reply.private else (reply.where or turn.address)
        client = await self.client_for(where.workspace)
        return client is not None and await self._deliver(client, turn, reply, keep=False)

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
        """The aiohttp handler for POST /slack/events: the signature first, on the raw body
        (every failure a 401); then a `/coach` command is queued and acked here (with the one
        bot token), anything else goes to Bolt."""
        raw = await request.read()  # at most the app's client_max_size (bot.web)
        refusal = self._unsigned(request, raw)
        if refusal:
            logger.warning(
                "Slack request refused: %s (%d bytes from %s)", refusal, len(raw), request.remote
            )
            return web.Response(status=401, text="invalid request")
        if self._commands_direct and request.content_type == FORM:
            command = listeners.slash_command(raw)
            if command is not None:
                return await self._answer_command(command, raw)
        try:
            bolt_request = await to_bolt_request(request)
            # Bolt's error handling reads the payload again, so a payload of an unexpected
            # shape can make it raise from there too
            response = await self.app.async_dispatch(bolt_request)
        except SHAPE_ERRORS as error:  # signed, yet not a body Bolt can read
            logger.warning(
                "Slack request with a malformed body refused (%s, %s)",
                request.content_type,
                bounded(repr(error)),
            )
            return web.Response(status=400, text="malformed request body")
        return await to_aiohttp_response(response)

    def _unsigned(self, request: web.Request, raw: bytes) -> str | None:
        """Why the request is not signed by Slack with the signing secret, or None."""
        if self._verifier is None:
            return "no signing secret is set"
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not _TIMESTAMP.fullmatch(timestamp):
            return "no timestamp"
        if not signature.isascii():  # slack_sdk's compare_digest raises on any other
            return "bad or stale signature"
        if not self._verifier.is_valid(raw, timestamp, signature):
            return "bad or stale signature"
        return None

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
        """Wait until every turn queued so far is done, and the forms are open (tests,
        benchmarks)."""
        await self.queue.idle()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the ack, tracked so shutdown can wait for it."""
        task = asyncio.get_running_loop().create_task(_logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- listeners: queue the turn in Redis, then ack ------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.command(listeners.COMMAND)(self._on_command)
        app.event("app_mention")(self._on_event(listeners.mention_turn))
        app.event("message")(self._on_event(listeners.direct_message_turn))
        app.event("reaction_added")(self._on_reaction)
        app.action(CHOICE_ACTION)(self._on_event(listeners.choice_turn))
        app.shortcut(LOG_AS_DECISION)(self._on_event(listeners.shortcut_turn))
        app.view(SETUP_VIEW)(self._on_setup_submitted)
        app.event("app_home_opened")(self._on_home_opened)
        app.error(self._on_error)

    async def _enqueue(
        self, kind: str, turn: Turn, request: AsyncBoltRequest, context: AsyncBoltContext
    ) -> None:
        """Queue a turn of a request Bolt dispatched (`_queue`)."""
        await self._queue(kind, turn, request_id(request), context.team_id)

    async def _queue(self, kind: str, turn: Turn, body_id: str, team: str | None) -> None:
        """Queue a turn in Redis (durable before the ack; any process runs it), with an event
        id: Slack's own for events, else `body_id`, a digest of the signed body, so a replayed
        request is the same turn and the commit counts it once. It also carries the workspace
        whose client answers it."""
        if turn.event_id is None:
            turn = replace(turn, event_id=body_id)
        team = team or turn.address.workspace
        await self.queue.add({"kind": kind, "team": team, "turn": turn.to_json()})

    def _on_event(
        self, to_turn: Callable[[dict[str, Any]], Turn | None]
    ) -> Callable[..., Awaitable[None]]:
        """A listener: convert the body with `to_turn`, queue the turn, ack."""

        async def listener(
            ack: Ack, body: dict[str, Any], request: AsyncBoltRequest, context: AsyncBoltContext
        ) -> None:
            turn = to_turn(body)
            if turn is not None:
                await self._enqueue("turn", turn, request, context)
            elif to_turn is not listeners.direct_message_turn:  # most messages are not for us
                logger.warning("Slack %s not shaped as expected; ignored", to_turn.__name__)
            await ack()

        return listener

    async def _on_command(
        self,
        ack: Ack,
        body: dict[str, Any],
        client: AsyncWebClient,
        request: AsyncBoltRequest,
        context: AsyncBoltContext,
    ) -> None:
        await self._command(client, body, request_id(request), context.team_id)
        await ack()

    async def _answer_command(self, body: dict[str, str], raw: bytes) -> web.Response:
        """`/coach` straight from the signed request (the one bot token): queued, then the
        ack Bolt's listener would give: 200, empty. Redis failing is a 500, as in Bolt, so
        Slack tells the person and nothing acked is lost."""
        try:
            await self._command(self.client, body, body_id(raw), body.get("team_id"))
        except Exception as error:
            refused = await self._on_error(error, body)
            return web.Response(status=refused.status if refused else 500, text="")
        return web.Response(status=200, text="")

    async def _command(
        self, client: AsyncWebClient, body: dict[str, Any], body_id: str, team: str | None
    ) -> None:
        """`/coach …`: its turn queued in Redis; acknowledge it when this returns."""
        if listeners.wants_setup_form(body):
            # a form opens within Slack's 3 s of its trigger or never: not queued; it opens
            # after the ack
            channel, user = str(body.get("channel_id", "")), str(body.get("user_id", ""))
            view = setup_view(self.coach.prompt, channel)
            grant = _form_grant(str(body.get("team_id", "")), user, channel)
            self._spawn(self._open_form(client, str(body["trigger_id"]), view, grant))
            return
        turn = listeners.command_turn(body)
        if turn is None:
            logger.warning("Slack command not shaped as expected; ignored")
        else:
            await self._queue("turn", turn, body_id, team)

    async def _on_reaction(
        self, ack: Ack, body: dict[str, Any], request: AsyncBoltRequest, context: AsyncBoltContext
    ) -> None:
        found = listeners.reaction(body)
        if found is not None:
            address, ts, user, event_id = found
            # the message's ts rides in the turn's body until the consumer looks it up
            turn = Turn(address, User(user, user), "", event_id=event_id, body=ts)
            await self._enqueue("reaction", turn, request, context)
        await ack()

    async def _endorse_by_reaction(self, client: AsyncWebClient, turn: Turn, entry: Entry) -> None:
        key = await self.coach.conversations.message_key(turn.address, turn.body or "")
        if key is None or not key.startswith("decision:"):
            return  # a tick on a message that is not a decision card is just a tick
        turn = replace(turn, text=f"endorse {key.split(':', 1)[1]}", body=None)
        await self._run(client, turn, entry)

    async def _open_form(
        self, client: AsyncWebClient, trigger_id: str, view: dict[str, Any], grant: str
    ) -> None:
        # who opened the form for which conversation: its submission must match
        await self.coach.conversations.put_record(SETUP_FORM, grant, "1", ttl_s=SETUP_FORM_TTL_S)
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as error:
            logger.error("could not open the setup form: %s", error.response.get("error"))

    async def _on_setup_submitted(
        self, ack: Ack, body: dict[str, Any], request: AsyncBoltRequest, context: AsyncBoltContext
    ) -> None:
        """The setup modal: checked before the ack, so problems show beside their fields;
        applied as one queued turn after it. Only the person who opened the form with
        `/coach setup` in a conversation can submit it for that conversation."""
        turn = form_turn(body)
        if turn is None:
            await ack()
            logger.warning("Slack setup form not shaped as expected; ignored")
            return
        address = turn.address
        grant = _form_grant(address.workspace, turn.user.id, address.channel)
        if await self.coach.conversations.get_record(SETUP_FORM, grant) is None:
            logger.warning(
                "Slack setup form for %s refused: %s did not open it there",
                address.conversation,
                turn.user.id,
            )
            problem = self.coach.prompt("slack.setup_not_opened_here")
            await ack(response_action="errors", errors={FIELDS[0]: problem})
            return
        # as the platform describes the person (cached): their time zone reads the check-ins
        turn = replace(turn, user=await self.person(address, turn.user.id))
        errors = await self.coach.check_form(turn)
        if errors:  # answered in the form itself; nothing is set up until it is all right
            await ack(response_action="errors", errors=errors)
            return
        await self._enqueue("turn", turn, request, context)
        await ack()

    async def _on_home_opened(
        self, ack: Ack, body: dict[str, Any], request: AsyncBoltRequest, context: AsyncBoltContext
    ) -> None:
        event = body.get("event")
        event = event if isinstance(event, dict) else {}
        team, user = body.get("team_id"), event.get("user")
        if event.get("tab") == "home" and isinstance(team, str) and isinstance(user, str):
            turn = Turn(Address(self.name, team, user), User(user, user), "")
            await self._enqueue("home", turn, request, context)
        await ack()

    async def _publish_home(self, client: AsyncWebClient, team: str, user: str) -> None:
        replies = await self.coach.overview("slack", team, user)
        view = home_view(self.coach.prompt("home.title"), replies)
        try:
            await client.views_publish(user_id=user, view=view)
        except SlackApiError as error:
            logger.error("could not publish App Home for %s: %s", user, error.response)

    async def _on_error(self, error: Exception, body: Any) -> BoltResponse | None:
        """Bolt's errors, in its middleware or a listener: one line each. A signed payload of
        an unexpected shape is refused with a 400; anything else (Redis down before the ack)
        is a 500, so Slack sends the event again."""
        frame = error.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = "/".join(frame.tb_frame.f_code.co_filename.split("/")[-2:]) if frame else "?"
        where += f":{frame.tb_lineno}" if frame else ""
        kind = body.get("type") if isinstance(body, dict) else None
        malformed = isinstance(error, SHAPE_ERRORS)
        logger.log(
            logging.WARNING if malformed else logging.ERROR,
            "Slack request %s: %s (type %s, at %s)",
            "with a malformed payload refused" if malformed else "failed",
            bounded(repr(error)),
            bounded(str(kind)),
            where,
        )
        return BoltResponse(status=400, body="malformed request body") if malformed else None

    # --- queued work, in whichever process takes it ---------------------------------------------

    async def _run_entry(self, entry: Entry) -> None:
        """One entry of the turn queue: a turn, an endorsing reaction, or App Home to refresh."""
        fields = entry.fields
        team, kind = fields.get("team", ""), fields.get("kind")
        turn = Turn.from_json(fields["turn"])
        client = await self.client_for(team)
        if client is None:
            logger.warning("the coach is not installed in %s; a queued %s is dropped", team, kind)
            return
        if kind == "home":
            await self._publish_home(client, turn.address.workspace, turn.user.id)
        elif entry.note is not None:  # a turn done by a process that died while posting
            turn, replies = _unnoted(entry.note)
            logger.info("posting the replies of %s again (taken over)", turn.address.conversation)
            for reply in replies:  # at least once: some may have been posted before it died
                await self._deliver(client, turn, reply)
        elif kind == "reaction":
            await self._endorse_by_reaction(client, turn, entry)
        else:
            await self._run(client, turn, entry)

    async def _run(self, client: AsyncWebClient, turn: Turn, entry: Entry) -> None:
        # Slack has had its ack; from here nothing may be lost silently: a failure is logged
        # with the conversation, and the person gets the apology if it can still be posted.
        # Once the turn is committed its replies are noted on its queue entry: a process
        # killed while posting them leaves them to the one that takes the entry over (the
        # commit would refuse the turn as done, and answer nothing).
        try:
            person = await self.delivery.person(client, turn.address, turn.user.id)
            turn = replace(turn, user=person)
            replies = await self.coach.handle(turn)
            if replies:
                await self.queue.note(entry.id, _noted(turn, replies))
            for reply in replies:
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

    async def _deliver(
        self, client: AsyncWebClient, turn: Turn, reply: Reply, *, keep: bool = True
    ) -> bool:
        """Deliver one reply; False when Slack refused it. With `keep`, a reply refused for a
        passing reason (5xx, 429, a dropped connection: still so after the client's own
        retries) is kept for the worker to try again."""
        where = (reply.where or turn.address).conversation
        try:
            await self.delivery.deliver(client, turn, reply)
            return True
        except SlackApiError as error:
            status = error.response.status_code
            reason = str(error.response.get("error") or status)
            passing = status == 429 or status >= 500
        except (ClientError, TimeoutError) as error:
            reason, passing = bounded(repr(error)), True
        kept = passing and keep
        logger.error(
            "could not post to Slack conversation %s (%s): %s%s",
            where,
            reply.key or "reply",
            reason,
            "; kept for the worker to try again" if kept else "",
        )
        if kept:
            await self.coach.conversations.keep_undelivered(self.name, turn, reply)
        return False


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    """Run background work after an ack; a failure is logged, never left in an unread task."""
    try:
        await work
    except Exception:
        logger.exception("Slack work after an ack failed")


def request_id(request: AsyncBoltRequest) -> str:
    """`body_id` of a request Bolt dispatched (Socket Mode: the body, as it has no raw one)."""
    return body_id((request.raw_body or json.dumps(request.body, sort_keys=True)).encode())


def body_id(raw: bytes) -> str:
    """An event id for a request Slack gives none (a command, a click, a form, a shortcut): a
    digest of its signed body. Each request Slack sends differs (a `trigger_id`, an
    `action_ts`), and a replay must repeat the body and its timestamp to pass the signature
    check, within its five minutes, so a replay has the same id."""
    return "slack-request:" + hashlib.sha256(raw).hexdigest()[:32]


def _noted(turn: Turn, replies: list[Reply]) -> str:
    return json.dumps({"turn": turn.to_json(), "replies": [r.to_json() for r in replies]})


def _unnoted(note: str) -> tuple[Turn, list[Reply]]:
    found = json.loads(note)
    return Turn.from_json(found["turn"]), [Reply.from_json(r) for r in found["replies"]]


def _form_grant(team: str, user: str, channel: str) -> str:
    return f"{team}:{user}:{channel}"
