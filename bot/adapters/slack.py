"""Slack: translate Bolt requests into Turns and render Replies as Block Kit. Decides nothing.

    POST /slack/events (or Socket Mode)
      Bolt AsyncApp: signature check (401 before any listener), url_verification
      listener: await ack() first, then the turn runs in a background task   (3-second rule)
      Coach.handle(turn) -> replies -> chat.postMessage / postEphemeral / update / files

Slack's 429 answers are retried after Retry-After (slack_sdk does not retry them unless asked);
a post that still fails is logged with its conversation, never dropped silently.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime
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

from bot.coach import Coach
from bot.config import Settings
from bot.content import kebab
from bot.dialogs.base import Args, parse
from bot.dialogs.setup import NAME_LIMIT, ORG_NAME_LIMIT, sector_of
from bot.errors import UserFacingError
from bot.model import Address, Receipt, Reply, Turn, User
from bot.schedule import parse_schedule

logger = logging.getLogger(__name__)

_REQUEST_CLIENT: contextvars.ContextVar[AsyncWebClient] = contextvars.ContextVar("slack_client")

CHOICE_ACTION = re.compile(r"^coach\.choice\.\d+$")
SETUP_VIEW = "coach_setup"  # the setup modal's callback id
INSTALL_PATH = "/slack/install"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
MAX_HOME_BLOCKS = 100  # Slack's limit for a Home tab
LOG_AS_DECISION = "coach_log_as_decision"  # the message shortcut's callback id
ENDORSE_REACTIONS = {"white_check_mark", "heavy_check_mark", "ballot_box_with_check"}
SECTION_TEXT_LIMIT = 3000  # Block Kit's limit for a section's text
BUTTON_LABEL_LIMIT = 75
BUTTONS_PER_ACTIONS_BLOCK = 25
RATE_LIMIT_RETRIES = 3
MAX_CONCURRENT_TURNS = 32  # turns running after their acks, per process; the rest wait
DELIVERY_EVENT = "coach_delivery"  # the metadata type marking what the worker posts
CLOCK_SKEW_S = 60  # between this machine's clock and Slack's, when reading history
HISTORY_PAGE = 100
SOCKET_MODE_CONNECT_TIMEOUT_S = 30
_OUR_MENTION = re.compile(r"(<@[UW][A-Z0-9]+>)")
_BOT_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+>\s*")


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    """Run background work after an ack; a failure is logged, never left in an unread task."""
    try:
        await work
    except Exception:
        logger.exception("Slack work after an ack failed")


def unescape(text: str) -> str:
    """Text as the person typed it: Slack sends &, < and > as HTML entities."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """Slack mrkdwn escaping, keeping user mentions (`<@U123>`) that the coach wrote itself."""
    parts = _OUR_MENTION.split(text)
    return "".join(
        part
        if _OUR_MENTION.fullmatch(part)
        else part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for part in parts
    )


def render_blocks(reply: Reply) -> list[dict[str, Any]]:
    """A reply as Block Kit blocks: its text, a fixed-width grid, and its choices as buttons."""
    blocks: list[dict[str, Any]] = [_section(escape(reply.text))]
    if reply.preformatted:
        blocks.append(_section(f"```{escape(reply.preformatted)}```"))
    for start in range(0, len(reply.choices), BUTTONS_PER_ACTIONS_BLOCK):
        chunk = reply.choices[start : start + BUTTONS_PER_ACTIONS_BLOCK]
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"coach.choice.{start + n}",
                        "text": {"type": "plain_text", "text": c.label[:BUTTON_LABEL_LIMIT]},
                        "value": json.dumps({"c": c.command, "s": c.step}),
                    }
                    for n, c in enumerate(chunk)
                ],
            }
        )
    return blocks


def _section(text: str) -> dict[str, Any]:
    if len(text) > SECTION_TEXT_LIMIT:
        text = text[: SECTION_TEXT_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def choice_from_value(value: str) -> tuple[str, str | None] | None:
    """A button's (command, step), or None when the value is not one the coach wrote."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    step = data.get("s")
    return data["c"], step if isinstance(step, str) else None


class SlackChannel:
    """The coach in Slack: a Bolt app whose listeners turn requests into turns.

    Args:
        coach: the core.
        settings: the Slack settings (`slack_*`).
        session: an aiohttp session shared by every Web API call (one connection pool).
    """

    def __init__(self, coach: Coach, settings: Settings, session: ClientSession) -> None:
        self.coach = coach
        self.client = AsyncWebClient(
            token=settings.slack_bot_token or None,  # with OAuth, each workspace has its own
            base_url=settings.slack_api_url,
            session=session,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(),
                AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ],
        )
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

    def _oauth_flow(self, coach: Coach, settings: Settings) -> AsyncOAuthFlow:
        """Installing into many workspaces: Slack's OAuth flow, with its records in Redis."""
        from bot.adapters.slack_oauth import RedisInstallationStore, RedisOAuthStateStore

        return AsyncOAuthFlow(
            client=self.client,
            logger=logger,
            settings=AsyncOAuthSettings(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret,
                scopes=list(settings.slack_scopes),
                installation_store=RedisInstallationStore(coach.store),
                state_store=RedisOAuthStateStore(coach.store),
                install_path=INSTALL_PATH,
                redirect_uri_path=OAUTH_REDIRECT_PATH,
            ),
        )

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

    @property
    def api(self) -> AsyncWebClient:
        """The Web API client for the request being handled (with its workspace's token)."""
        return _REQUEST_CLIENT.get(None) or self.client

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

    async def close(self) -> None:
        if self._socket_mode is not None:
            await self._socket_mode.close_async()
        await self.drain()

    async def drain(self) -> None:
        """Wait for the turns still running after their acks (tests; shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, client: AsyncWebClient, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the ack, with the request's client (its workspace's token)."""
        context = contextvars.copy_context()
        context.run(_REQUEST_CLIENT.set, client)
        task = asyncio.get_running_loop().create_task(_logged(work), context=context)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _register(self) -> None:
        app = self.app
        app.command("/coach")(self._on_command)
        app.event("app_mention")(self._on_mention)
        app.event("reaction_added")(self._on_reaction)
        app.action(CHOICE_ACTION)(self._on_choice)
        app.shortcut(LOG_AS_DECISION)(self._on_log_as_decision)
        app.view(SETUP_VIEW)(self._on_setup_submitted)
        app.event("app_home_opened")(self._on_home_opened)
        app.error(self._on_error)

    # --- listeners: ack first, then hand the turn to a background task -----------------------

    async def _on_command(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        if body.get("text", "").strip().lower() in {"setup", "/coach setup"}:
            # setup with no name: Slack can offer a form instead of a usage hint
            self._spawn(client, self._open_setup(body["trigger_id"], body["channel_id"]))
            return
        address = Address("slack", body["team_id"], body["channel_id"])
        text = unescape(body.get("text", ""))
        turn = Turn(address, User(body["user_id"], body["user_id"]), text)
        self._spawn(client, self._run(turn))

    async def _on_mention(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        event = body["event"]
        thread = event.get("thread_ts")
        address = Address("slack", body["team_id"], event["channel"], thread)
        text = unescape(_BOT_MENTION.sub("", event.get("text", ""), count=1))
        self._spawn(
            client,
            self._run(
                Turn(address, User(event["user"], event["user"]), text, event_id=body["event_id"])
            ),
        )

    async def _on_reaction(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        event = body["event"]
        item = event.get("item", {})
        if event.get("reaction") not in ENDORSE_REACTIONS or item.get("type") != "message":
            return
        address = Address("slack", body["team_id"], item["channel"])
        self._spawn(
            client, self._endorse_by_reaction(address, item["ts"], event["user"], body["event_id"])
        )

    async def _endorse_by_reaction(
        self, address: Address, message_id: str, user: str, event_id: str
    ) -> None:
        key = await self.coach.store.message_key(address, message_id)
        if key is None or not key.startswith("decision:"):
            return  # a tick on a message that is not a decision card is just a tick
        turn = Turn(address, User(user, user), f"endorse {key.split(':', 1)[1]}", event_id=event_id)
        await self._run(turn)

    async def _on_choice(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        action = body["actions"][0]
        channel = body.get("channel", {}).get("id")
        message = body.get("container", {})
        if not channel:
            return  # a button outside a channel (App Home) carries no conversation
        address = Address("slack", body["team"]["id"], channel, message.get("thread_ts"))
        user = User(body["user"]["id"], body["user"]["id"])
        choice = choice_from_value(action.get("value", ""))
        if choice is None:  # not a button the coach made: answer as for a stale one
            stale = Reply(self.coach.content.prompts.render("errors.stale"), private=True)
            self._spawn(client, self.deliver(Turn(address, user, ""), stale))
            return
        self._spawn(client, self._run(Turn(address, user, choice[0], step=choice[1])))

    async def _on_log_as_decision(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        message = body.get("message", {})
        address = Address("slack", body["team"]["id"], body["channel"]["id"])
        turn = Turn(
            address,
            User(body["user"]["id"], body["user"]["id"]),
            "decide",
            body=unescape(message.get("text", "")),
        )
        self._spawn(client, self._run(turn))

    async def _open_setup(self, trigger_id: str, channel: str) -> None:
        try:
            await self.api.views_open(trigger_id=trigger_id, view=self._setup_view(channel))
        except SlackApiError as error:
            logger.error("could not open the setup form in %s: %s", channel, error.response)

    def _setup_view(self, channel: str) -> dict[str, Any]:
        text = self.coach.content.prompts.render

        def plain(key: str) -> dict[str, str]:
            return {"type": "plain_text", "text": text(key)}

        return {
            "type": "modal",
            "callback_id": SETUP_VIEW,
            "private_metadata": channel,
            "title": plain("slack.setup_title"),
            "submit": plain("slack.setup_submit"),
            "close": plain("slack.setup_cancel"),
            "blocks": [
                {
                    "type": "input",
                    "block_id": "name",
                    "label": plain("slack.setup_name_label"),
                    "element": {"type": "plain_text_input", "action_id": "value"},
                },
                {
                    "type": "input",
                    "block_id": "partners",
                    "optional": True,
                    "label": plain("slack.setup_partners_label"),
                    "hint": plain("slack.setup_partners_hint"),
                    "element": {
                        "type": "plain_text_input",
                        "action_id": "value",
                        "multiline": True,
                    },
                },
                {
                    "type": "input",
                    "block_id": "checkins",
                    "optional": True,
                    "label": plain("slack.setup_checkins_label"),
                    "hint": plain("slack.setup_checkins_hint"),
                    "element": {"type": "plain_text_input", "action_id": "value"},
                },
            ],
        }

    async def _on_setup_submitted(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body["view"]
        values = view["state"]["values"]
        name = (values["name"]["value"]["value"] or "").strip()
        lines = (values["partners"]["value"].get("value") or "").splitlines()
        cadence = (values.get("checkins", {}).get("value", {}).get("value") or "").strip()
        partners, errors = self._check_setup_form(name, lines, cadence)
        if errors:  # answered in the form itself; nothing is set up until it is all right
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        address = Address("slack", body["team"]["id"], view["private_metadata"])
        user = User(body["user"]["id"], body["user"]["id"])
        turns = [Turn(address, user, "setup", body=name)]
        turns += [Turn(address, user, f'partner add "{org}" {sector}') for org, sector in partners]
        if cadence:
            turns.append(Turn(address, user, f"checkins {cadence}"))
        self._spawn(client, self._run_all(turns))

    def _check_setup_form(
        self, name: str, lines: list[str], cadence: str
    ) -> tuple[list[tuple[str, str]], dict[str, str]]:
        """The form's partners, and an error per field the core would refuse, so a form is
        set up whole or not at all. The limits and parsers are the core's own."""
        render = self.coach.content.prompts.render
        errors: dict[str, str] = {}
        if len(name) > NAME_LIMIT:
            errors["name"] = render(
                "errors.text_too_long_for_field", limit=NAME_LIMIT, length=len(name)
            )
        partners: list[tuple[str, str]] = []
        for position, line in enumerate(lines, 1):
            if not line.strip():
                continue
            org, _, sector_word = line.rpartition(",")
            org, sector = org.strip(), sector_of(sector_word)
            if not org or sector is None:
                errors["partners"] = render(
                    "slack.setup_bad_line", position=position, text=line.strip()[:60]
                )
            elif '"' in org:
                errors["partners"] = render("slack.setup_no_quotes", position=position)
            elif len(org) > ORG_NAME_LIMIT:
                errors["partners"] = render(
                    "errors.text_too_long_for_field", limit=ORG_NAME_LIMIT, length=len(org)
                )
            elif kebab(org) in (listed := {kebab(known): known for known, _ in partners}):
                errors["partners"] = render("setup.partner_exists", org=listed[kebab(org)])
            else:
                partners.append((org, sector))
                continue
            break
        if cadence:
            try:
                _, tokens = parse(f"checkins {cadence}")
                args = Args.of(tokens, frozenset({"holidays"}))
                if len(args.words) != 4:
                    raise UserFacingError("checkins.usage")
                country, _, region = args.options.get("holidays", "").partition("-")
                parse_schedule(
                    *args.words,
                    datetime.now(UTC),
                    country=country if "holidays" in args.options else None,
                    region=region or None,
                )
            except UserFacingError as error:  # a parse or schedule refusal
                errors["checkins"] = render(error.key, **error.variables)
        return partners, errors

    async def _run_all(self, turns: list[Turn]) -> None:
        for turn in turns:
            await self._run(turn)

    async def _on_home_opened(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        event = body["event"]
        if event.get("tab") == "home":
            self._spawn(client, self._publish_home(body["team_id"], event["user"]))

    async def _publish_home(self, team: str, user: str) -> None:
        replies = await self.coach.overview("slack", team, user)
        title = self.coach.content.prompts.render("home.title")
        blocks = [{"type": "header", "text": {"type": "plain_text", "text": title}}]
        for reply in replies:
            blocks += render_blocks(reply)
        try:
            await self.api.views_publish(
                user_id=user, view={"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}
            )
        except SlackApiError as error:
            logger.error("could not publish App Home for %s: %s", user, error.response)

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        logger.error("Slack request failed: %r (type %s)", error, body.get("type"))

    # --- delivery ---------------------------------------------------------------------------

    async def _run(self, turn: Turn) -> None:
        # Slack has had its ack; from here nothing may be lost silently: a failure is logged
        # with the conversation, and the person gets the apology if it can still be posted.
        async with self._turns:
            try:
                await self._run_turn(turn)
            except Exception:
                logger.exception(
                    "Slack turn failed after its ack: conversation=%s user=%s",
                    turn.address.conversation,
                    turn.user.id,
                )

    async def _run_turn(self, turn: Turn) -> None:
        turn = replace(turn, user=await self._person(turn.address.workspace, turn.user.id))
        replies = await self.coach.handle(turn)
        for reply in replies:
            try:
                await self.deliver(turn, reply)
            except SlackApiError as error:
                logger.error(
                    "could not post to Slack conversation %s (%s): %s",
                    turn.address.conversation,
                    reply.key or "reply",
                    error.response.get("error", error.response.status_code),
                )

    async def send(self, address: Address, replies: list[Reply], receipt: Receipt) -> bool:
        """Post what the worker sends (check-ins) into a channel, each reply a new message
        marked with the receipt in its metadata. On a re-run (`receipt.since`), parts already in
        the channel's history are not posted again. With the OAuth flow, the workspace's own
        bot token is looked up; False when the channel cannot be reached."""
        client = self.client
        token = client.token
        flow = self.app.oauth_flow
        if flow is not None and not token:
            store = flow.settings.installation_store
            bot = await store.async_find_bot(enterprise_id=None, team_id=address.workspace)
            if bot is None:
                return False
            token = bot.bot_token
        # Only 429s are retried here: Slack did not take those. A dropped connection may have
        # posted; the next run of the job looks in the history before posting again.
        client = AsyncWebClient(
            token=token,
            base_url=client.base_url,
            session=client.session,
            retry_handlers=[
                h for h in client.retry_handlers if isinstance(h, AsyncRateLimitErrorRetryHandler)
            ],
        )
        try:
            found = await self._posted(client, address, receipt)
            for part, reply in enumerate(replies):
                await self._post_part(client, address, reply, receipt, part, found.get(part))
        except SlackApiError as error:
            logger.error("could not post to Slack conversation %s: %s", address.conversation, error)
            return False
        return True

    async def _post_part(
        self,
        client: AsyncWebClient,
        address: Address,
        reply: Reply,
        receipt: Receipt,
        part: int,
        found: str | None,
    ) -> None:
        """One reply as a message (its attachment as a file in the message's thread), unless
        the channel holds it already (`found`: its ts)."""
        ts = found
        if ts is None:
            posted = await client.chat_postMessage(
                channel=address.channel,
                text=escape(reply.text),
                blocks=render_blocks(reply),
                metadata={
                    "event_type": DELIVERY_EVENT,
                    "event_payload": {"token": receipt.token, "part": part},
                },
            )
            ts = str(posted["ts"])
        attachment = reply.attachment
        if attachment is None:
            return
        if found is not None:  # the report follows its message at once, on the first page
            thread = await client.conversations_replies(channel=address.channel, ts=ts, limit=50)
            names = {f.get("name") for m in thread["messages"] for f in m.get("files", ())}
            if attachment.filename in names:
                return
        await client.files_upload_v2(
            channel=address.channel,
            thread_ts=ts,
            filename=attachment.filename,
            content=attachment.data if attachment.data is not None else attachment.content,
        )

    async def _posted(
        self, client: AsyncWebClient, address: Address, receipt: Receipt
    ) -> dict[int, str]:
        """The parts already posted under the receipt (part -> ts), from the channel's history
        since the first attempt began; nothing to look up on a first attempt. Without the
        history scopes nothing is found, and the parts are posted again: at least once, never
        lost."""
        if receipt.since is None:
            return {}
        found: dict[int, str] = {}
        cursor = None
        try:
            while True:
                page = await client.conversations_history(
                    channel=address.channel,
                    oldest=f"{receipt.since.timestamp() - CLOCK_SKEW_S:.6f}",
                    include_all_metadata=True,
                    limit=HISTORY_PAGE,
                    cursor=cursor,
                )
                for message in page.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if (
                        metadata.get("event_type") == DELIVERY_EVENT
                        and payload.get("token") == receipt.token
                        and str(payload.get("part", "")).isdigit()
                    ):
                        found[int(payload["part"])] = str(message["ts"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return found
        except SlackApiError as error:
            if error.response.get("error") not in ("missing_scope", "not_in_channel"):
                raise
            logger.warning(
                "cannot read the history of Slack conversation %s (%s): add the scopes "
                "channels:history and groups:history, or a re-run may post a check-in twice",
                address.conversation,
                error.response.get("error"),
            )
            return {}

    async def _person(self, team: str, user_id: str) -> User:
        """The user with the name people know them by and, for a member of another workspace
        (Slack Connect), that workspace's name; cached for a day.

        A mention (<@U…>) would render nicely too, but it notifies the person every time a
        list names them, and reads as an id in exports.
        """
        store = self.coach.store
        cached = await store.cached_person("slack", team, user_id)
        if cached is not None:
            return cached
        name, home = user_id, None
        try:
            found = (await self.api.users_info(user=user_id))["user"]
            profile = found.get("profile", {})
            name = profile.get("display_name") or profile.get("real_name") or found.get("name")
            home_team = found.get("team_id")
            if home_team and home_team != team:
                home = (await self.api.team_info(team=home_team))["team"]["name"]
        except SlackApiError as error:
            logger.warning("could not look up Slack user %s: %s", user_id, error.response)
        person = User(user_id, str(name or user_id), home)
        await store.cache_person("slack", team, person)
        return person

    async def deliver(self, turn: Turn, reply: Reply) -> None:
        """Post one reply: privately, as an update of its card, in its thread, or anew."""
        address, store = turn.address, self.coach.store
        text, blocks = escape(reply.text), render_blocks(reply)
        if reply.private:
            await self.api.chat_postEphemeral(
                channel=address.channel,
                user=turn.user.id,
                text=text,
                blocks=blocks,
                thread_ts=address.thread,
            )
            return
        if reply.key and (existing := await store.message_id(address, reply.key)):
            await self.api.chat_update(
                channel=address.channel, ts=existing, text=text, blocks=blocks
            )
            return
        thread = address.thread
        if reply.thread:
            thread = await store.message_id(address, f"thread:{reply.thread}") or thread
        if reply.attachment:
            data = reply.attachment.data
            content: str | bytes = data if data is not None else reply.attachment.content
            comment: str | None = text
            if reply.choices:  # buttons need a message of their own: the file goes in its thread
                posted = await self.api.chat_postMessage(
                    channel=address.channel, thread_ts=thread, text=text, blocks=blocks
                )
                thread, comment = thread or str(posted["ts"]), None
            await self.api.files_upload_v2(
                channel=address.channel,
                thread_ts=thread,
                filename=reply.attachment.filename,
                content=content,
                initial_comment=comment,
            )
            return
        posted = await self.api.chat_postMessage(
            channel=address.channel, thread_ts=thread, text=text, blocks=blocks
        )
        ts = str(posted["ts"])
        if reply.key:
            await store.remember_message(address, reply.key, ts)
        if reply.thread and thread is None:
            await store.remember_message(address, f"thread:{reply.thread}", ts)
