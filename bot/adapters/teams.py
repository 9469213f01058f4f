"""Microsoft Teams: translate Bot Framework activities into Turns, render Replies as Adaptive
Cards. Decides nothing. Every botbuilder import of the project is in this module, so the move
to the SDK's successor (the Microsoft 365 Agents SDK, same Activity protocol) touches only it.

    POST /api/messages
      CloudAdapter.process: authenticates the request (when an app id is configured)
      on_turn: keep the ConversationReference; the activity -> Turn (text, card submit, meeting)
      Coach.handle(turn) -> replies -> send / update through the connector, with retries

botbuilder never retries a connector call (msrest's retry policy relies on a urllib3 option
that 2.x dropped): 429 and 5xx answers are retried here, and a send that still fails is logged
with its conversation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from aiohttp import ClientSession, web
from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ConversationReference,
)
from jwt.exceptions import PyJWTError
from msrest.universal_http.requests import ClientRetryPolicy

from bot.adapters.base import Route
from bot.coach import Coach
from bot.config import Settings
from bot.model import Address, Receipt, Reply, Turn, User

logger = logging.getLogger(__name__)

# Every turn builds two connector clients, and each builds an msrest retry policy that tests
# `i not in safe_codes` for 999 codes against a ~500-item list: about two thirds of a turn's CPU
# (bench/teams.py). The list is only ever tested for membership; the same codes as a frozenset
# give the identical policy at a fraction of the cost.
ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]

MEETING_EVENTS = {
    "application/vnd.microsoft.meetingStart": "meeting start",
    "application/vnd.microsoft.meetingEnd": "meeting end",
}
SEND_ATTEMPTS = 4
SEND_BACKOFF_S = 0.5  # doubled after each failed attempt, unless the answer says Retry-After
RETRIED_STATUSES = {429, 500, 502, 503, 504}
_THREAD = re.compile(r";messageid=(\d+)$")
T = TypeVar("T")


def render_activity(reply: Reply) -> Activity:
    """A reply as a Teams message: plain text, or an Adaptive Card when it has choices or a grid."""
    if not reply.choices and not reply.preformatted and not reply.attachment:
        return Activity(type=ActivityTypes.message, text=reply.text, text_format="plain")
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": reply.text, "wrap": True}]
    if reply.preformatted:
        body.append(
            {"type": "TextBlock", "text": reply.preformatted, "fontType": "Monospace", "wrap": True}
        )
    if reply.attachment and not reply.attachment.binary:  # a zip: Teams takes files by Graph only
        body.append(
            {
                "type": "TextBlock",
                "text": reply.attachment.content,
                "fontType": "Monospace",
                "wrap": True,
            }
        )
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
    }
    if reply.choices:
        # Action.Submit arrives as a message with `value`; Action.Execute would arrive as an
        # invoke, which botbuilder 4.17 answers with 500 (it serialises the body twice).
        card["actions"] = [
            {
                "type": "Action.Submit",
                "title": c.label,
                "data": {"coach": c.command, "step": c.step},
            }
            for c in reply.choices
        ]
    attachment = Attachment(content_type="application/vnd.microsoft.card.adaptive", content=card)
    return Activity(type=ActivityTypes.message, text=reply.text, attachments=[attachment])


def _well_formed(body: Any) -> bool:
    """Enough of an activity to act on and to answer: its type, conversation and service URL."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("type"), str)
        and isinstance(body.get("serviceUrl"), str)
        and isinstance(body.get("conversation"), dict)
        and isinstance(body["conversation"].get("id"), str)
    )


def address_of(activity: Activity) -> Address:
    """The conversation an activity belongs to; a channel thread's replies share the channel."""
    conversation = activity.conversation
    tenant = conversation.tenant_id or (activity.channel_data or {}).get("tenant", {}).get("id")
    thread = _THREAD.search(conversation.id)
    channel = _THREAD.sub("", conversation.id)
    return Address("teams", tenant or "none", channel, thread.group(1) if thread else None)


class _BotConfig:
    """The settings botbuilder's ConfigurationBotFrameworkAuthentication reads by name."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.teams_app_id
        self.APP_PASSWORD = settings.teams_app_password
        self.APP_TYPE = settings.teams_app_type
        self.APP_TENANTID = settings.teams_tenant_id


def build(coach: Coach, settings: Settings, session: ClientSession) -> TeamsChannel:
    return TeamsChannel(coach, settings)


class TeamsChannel:  # a botbuilder Bot by shape: CloudAdapter calls its on_turn
    """The coach in Teams: CloudAdapter in, Coach in the middle, connector calls out.

    Args:
        coach: the core.
        settings: the Teams settings (`teams_*`).
    """

    name = "teams"

    def __init__(self, coach: Coach, settings: Settings) -> None:
        self.coach = coach
        self.app_id = settings.teams_app_id
        self.adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_BotConfig(settings)))
        self.adapter.on_turn_error = self._on_turn_error

    def routes(self) -> Sequence[Route]:
        if self.app_id:
            logger.info("Teams: serving POST /api/messages for app %s", self.app_id)
        else:
            logger.warning(
                "Teams: serving POST /api/messages WITHOUT authentication (TEAMS_EMULATOR): "
                "for the Bot Framework Emulator and local tests only"
            )
        return [("POST", "/api/messages", self.handle)]

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def deliver(self, turn: Turn, reply: Reply) -> bool:
        return await self.send(reply.where or turn.address, [reply], Receipt("reply"))

    async def person(self, address: Address, user_id: str) -> User:
        cached = await self.coach.conversations.person(address, user_id, lambda: _unknown(user_id))
        return cached

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler for POST /api/messages."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.Response(status=415, text="expected a JSON Bot Framework activity")
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="malformed JSON")
        if not _well_formed(body):
            return web.Response(status=400, text="not a Bot Framework activity")
        try:
            response = await self.adapter.process(request, self)
        except (PyJWTError, ValueError):
            if "Authorization" not in request.headers:
                return web.Response(status=400, text="malformed activity")
            # botbuilder validates any Authorization header it is given, and a token that is
            # not a JWT at all raises instead of failing authentication: answer as for a bad one
            return web.Response(status=401, text="invalid token")
        return response or web.Response(status=201)

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        address = address_of(activity)
        reference = TurnContext.get_conversation_reference(activity)
        # the channel itself, not the thread this message was in: check-ins go to the channel
        reference.conversation.id = _THREAD.sub("", reference.conversation.id)
        await self.coach.conversations.remember_reference(
            address, json.dumps(reference.serialize())
        )
        turn = self._turn(activity, address)
        if turn is None:
            return
        turn = replace(turn, user=await self._person(context, address, turn.user))
        for reply in await self.coach.handle(turn):
            if reply.where is not None and reply.where.conversation != address.conversation:
                await self.deliver(turn, reply)  # another conversation: a card in a linked one
            else:
                await self._deliver(context, address, reply)

    def _turn(self, activity: Activity, address: Address) -> Turn | None:
        user = activity.from_property
        who = User(user.id, user.name or user.id) if user else User("unknown", "unknown")
        step = None
        if activity.type == ActivityTypes.message:
            if isinstance(activity.value, dict) and "coach" in activity.value:  # a card button
                text, step = str(activity.value["coach"]), activity.value.get("step")
                step = str(step) if step is not None else None
            else:
                text = (TurnContext.remove_recipient_mention(activity) or "").strip()
        elif activity.type == ActivityTypes.event and activity.name in MEETING_EVENTS:
            text = MEETING_EVENTS[activity.name]
        else:
            return None  # conversation updates, typing, reactions: nothing to act on
        return Turn(address, who, text, step=step, event_id=activity.id)

    async def _person(self, context: TurnContext, address: Address, user: User) -> User:
        """A guest from another tenant carries a hint of their organization: the name in their
        email domain (Teams tells the tenant's id, not its name). Cached for a day."""

        async def look_up() -> User:
            home = None
            try:
                member = await TeamsInfo.get_member(context, user.id)
                if member.tenant_id and member.tenant_id != address.workspace:
                    email = member.email or member.user_principal_name or ""
                    home = email.partition("@")[2].split(".")[0] or None
            except Exception as error:  # not in Teams (the Emulator), or the lookup failed
                logger.info("no Teams member details for %s: %r", user.id, error)
            return User(user.id, user.name, home)

        cached = await self.coach.conversations.person(address, user.id, look_up)
        return replace(cached, name=user.name)

    async def _deliver(self, context: TurnContext, address: Address, reply: Reply) -> bool:
        # Teams has no message only one person sees in a channel; private replies are posted
        # in the conversation like the rest.
        activity = render_activity(reply)
        store = self.coach.conversations
        try:
            if reply.key and (existing := await store.message_id(address, reply.key)):
                activity.id = existing
                activity.conversation = context.activity.conversation
                await _retrying(lambda: context.update_activity(activity))
                return True
            sent = await _retrying(lambda: context.send_activity(activity))
        except Exception as error:
            logger.error(
                "could not send to Teams conversation %s (%s): %s",
                address.conversation,
                reply.key or "reply",
                error,
            )
            return False
        if reply.key and sent is not None and sent.id:
            await store.remember_message(address, reply.key, sent.id)
        return True

    async def send(self, address: Address, replies: list[Reply], receipt: Receipt) -> bool:
        """Post replies into a conversation the bot has seen (check-ins, updates), from any
        process. False when the bot has never been in that conversation.

        The receipt goes unchecked: Teams gives a bot no way to read a conversation's messages
        (only Microsoft Graph does, with permissions to read every message), so a job re-run
        after Teams took a check-in but before the worker recorded it posts it again."""
        stored = await self.coach.conversations.reference(address)
        if stored is None:
            return False
        reference = ConversationReference().deserialize(json.loads(stored))

        delivered: list[bool] = []

        async def post(context: TurnContext) -> None:
            for reply in replies:
                delivered.append(await self._deliver(context, address, reply))

        await self.adapter.continue_conversation(reference, post, self.app_id)
        return bool(delivered) and all(delivered)

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        logger.error(
            "Teams turn failed: conversation=%s activity=%s: %r",
            context.activity.conversation.id if context.activity.conversation else "?",
            context.activity.id,
            error,
        )


async def _retrying(call: Callable[[], Awaitable[T]]) -> T:
    """A connector call, retried on 429 and 5xx with backoff (Retry-After when given)."""
    delay = SEND_BACKOFF_S
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await call()
        except Exception as error:
            response = getattr(error, "response", None)
            status = getattr(response, "status_code", None)
            if status not in RETRIED_STATUSES or attempt == SEND_ATTEMPTS:
                raise
            retry_after = (getattr(response, "headers", None) or {}).get("Retry-After")
            wait = float(retry_after) if retry_after and retry_after.isdigit() else delay
            logger.info("Teams answered %s; retrying in %.1f s", status, wait)
            await asyncio.sleep(wait)
            delay *= 2
    raise AssertionError("unreachable")


async def _unknown(user_id: str) -> User:
    return User(user_id, user_id)
