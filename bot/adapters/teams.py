"""Microsoft Teams on the Microsoft 365 Agents SDK: translate activities into Turns, render
Replies as Adaptive Cards. Decides nothing. Every SDK import of the project is in this module.

    POST /api/messages
      handle: 415 for what is not JSON; with an app id, the bearer token is checked here
        first, and any failure is a 401 (503 if MSAL cannot reach its authority); then 400
        for what is not an activity
      CloudAdapter.process_request -> on_turn: keep the ConversationReference; the activity -> Turn
        (text, a card button as an Action.Execute invoke or an Action.Submit message, a meeting)
      Coach.handle(turn) -> replies -> send / update through the connector, with retries; a
        private reply goes to a 1:1 chat with the person; a card action invoke is answered
        with the card as it now stands

The adapter checks tokens itself rather than through the SDK's JwtTokenValidator (1.9): that
one fetches keys only from fixed Microsoft addresses, with a blocking client in a thread, one
fetch at a time under a lock and a 30 s timeout, and a token without a key id raises KeyError
(a 500). Here the keys come from the channel's OpenID metadata over aiohttp, with a timeout, one
fetch shared by every waiting request, and a failed fetch makes tokens fail at once for a while.

The SDK's connector client never retries: 429 and 5xx answers are retried here, honoring
Retry-After up to a cap, and a send that still fails is logged with its conversation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import jwt
from aiohttp import ClientSession, web
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    InvokeResponse,
)
from microsoft_agents.authentication.msal import MsalAuth, MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    AuthenticationConstants,
    ClaimsIdentity,
    TurnContext,
)
from microsoft_agents.hosting.core.authorization.auth_types import AuthTypes
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient
from pydantic import ValidationError

from bot.adapters.base import Route
from bot.coach import Coach
from bot.config import Settings
from bot.model import Address, Receipt, Reply, Turn, User

logger = logging.getLogger(__name__)

MEETING_EVENTS = {
    "application/vnd.microsoft.meetingStart": "meeting start",
    "application/vnd.microsoft.meetingEnd": "meeting end",
}
CARD_ACTION = "adaptiveCard/action"  # the invoke an Action.Execute (or a card refresh) sends
COACH_VERB = "coach"  # a button: its data holds the command
REFRESH_VERB = "refresh"  # Teams asks for the card as it now stands
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
INLINE_LIMIT = 12_000  # a text document's characters shown in a card: Teams refuses ~28 KB
CARD_TTL_S = 365 * 86400  # how long a card can be refreshed; older ones answer errors.stale
SEND_ATTEMPTS = 4
SEND_BACKOFF_S = 0.5  # doubled after each failed attempt, unless the answer says Retry-After
RETRY_AFTER_CAP_S = 10.0  # a longer Retry-After is cut to this: a turn is not held for minutes
RETRIED_STATUSES = {429, 500, 502, 503, 504}
KEY_FETCH_TIMEOUT_S = 5.0  # the OpenID metadata and key set, together
KEY_REFRESH_S = 86400.0  # keys are fetched again daily
KEY_MISS_REFRESH_S = 300.0  # an unknown key id fetches the keys again at most this often
KEY_FAILURE_HOLD_S = 30.0  # after a failed fetch, tokens needing it fail at once this long
AUTHORITY_TIMEOUT_S = 10.0  # MSAL's first look at the token authority (its OpenID configuration)
TOKEN_LEEWAY_S = 300  # clock skew allowed on exp / nbf, as the Bot Framework allows
MULTI_TENANT_AUTHORITY_TENANT = "botframework.com"  # where a multi-tenant bot gets its tokens
_THREAD = re.compile(r";messageid=(\d+)$")
T = TypeVar("T")


def _card(reply: Reply, link: str | None = None) -> dict[str, Any]:
    """The reply as an Adaptive Card: its text, fixed-width parts, and its choices as buttons
    (Universal Actions, falling back to Action.Submit on clients without them). `link` is where
    its binary attachment (a Word report) can be downloaded: a Teams bot cannot upload a file
    into a channel, so the card's first action opens the link."""
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": reply.text, "wrap": True}]
    attached = reply.attachment.content if reply.attachment and link is None else None
    if attached and len(attached) > INLINE_LIMIT:  # no link to the whole: shown up to a line
        attached = attached[: attached.rfind("\n", 0, INLINE_LIMIT) + 1 or INLINE_LIMIT] + "[…]"
    for fixed in (reply.preformatted, attached):
        if fixed:
            body.append({"type": "TextBlock", "text": fixed, "fontType": "Monospace", "wrap": True})
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
    }
    actions: list[dict[str, Any]] = []
    if reply.attachment and link is not None:
        actions.append({"type": "Action.OpenUrl", "title": reply.attachment.filename, "url": link})
    if actions:
        card["actions"] = actions
    if reply.choices:
        card["actions"] = actions + [
            {
                "type": "Action.Execute",
                "verb": COACH_VERB,
                "title": c.label,
                "data": {"coach": c.command, "step": c.step},
                "fallback": {
                    "type": "Action.Submit",
                    "title": c.label,
                    "data": {"coach": c.command, "step": c.step},
                },
            }
            for c in reply.choices
        ]
        # whoever opens the card gets it as it now stands (Teams sends an invoke for it)
        card["refresh"] = {"action": {"type": "Action.Execute", "verb": REFRESH_VERB}}
    return card


def render_activity(reply: Reply, link: str | None = None) -> Activity:
    """A reply as a Teams message: plain text, or an Adaptive Card when it has choices, a grid
    or an attachment (`link`: where its binary document can be downloaded)."""
    if not reply.choices and not reply.preformatted and not reply.attachment:
        return Activity(type=ActivityTypes.message, text=reply.text, text_format="plain")
    attachment = Attachment(content_type=CARD_TYPE, content=_card(reply, link))
    text = f"{reply.text}\n{link}" if link else reply.text  # the plain-text fallback
    return Activity(type=ActivityTypes.message, text=text, attachments=[attachment])


_NOT_JSON = object()  # a body that does not parse


def _well_formed(body: Any) -> bool:
    """Enough of an activity to act on and to answer: its type, its conversation, who sent it
    and to whom (the conversation's reference needs both), and an absolute http(s) service
    URL to answer at."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("type"), str)
        and _http_url(body.get("serviceUrl"))
        and all(_has_id(body.get(key)) for key in ("conversation", "from", "recipient"))
    )


def _has_id(account: Any) -> bool:
    return isinstance(account, dict) and isinstance(account.get("id"), str) and bool(account["id"])


def _http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        url = urlsplit(value)
        return url.scheme in ("http", "https") and bool(url.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def address_of(activity: Activity) -> Address:
    """The conversation an activity belongs to; a channel thread's replies share the channel."""
    conversation = activity.conversation
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    listed = channel_data.get("tenant")
    listed_id = listed.get("id") if isinstance(listed, dict) else None
    tenant = conversation.tenant_id or (listed_id if isinstance(listed_id, str) else None)
    thread = _THREAD.search(conversation.id)
    channel = _THREAD.sub("", conversation.id)
    return Address("teams", tenant or "none", channel, thread.group(1) if thread else None)


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's connection settings from the coach's (MicrosoftAppId, …): see bot/config.py."""
    managed = settings.teams_app_type == "UserAssignedMSI"
    tenant = settings.teams_tenant_id
    if settings.teams_app_type == "MultiTenant":
        tenant = tenant or MULTI_TENANT_AUTHORITY_TENANT
    return AgentAuthConfiguration(
        AuthTypes.user_managed_identity if managed else AuthTypes.client_secret,
        client_id=settings.teams_app_id or None,
        tenant_id=tenant or None,
        client_secret=(settings.teams_app_password or None) if not managed else None,
        authority=settings.teams_authority or None,
        anonymous_allowed=not settings.teams_app_id,
    )


class _KeysUnavailable(Exception):
    """The channel's signing keys could not be fetched."""


class _Unauthorized(Exception):
    """A request's token does not authenticate it."""


class _SigningKeys:
    """The channel's token-signing keys, listed by its OpenID metadata: fetched with aiohttp
    under a timeout, one fetch shared by every request waiting for it, and cached. After a
    failed fetch, tokens that need one fail at once for a while instead of each waiting."""

    def __init__(self, metadata_url: str) -> None:
        self.metadata_url = metadata_url
        self._keys: dict[str, tuple[jwt.PyJWK, list[str]]] = {}
        self._fetched = -math.inf
        self._failed = -math.inf
        self._fetch: asyncio.Future[None] | None = None

    async def get(self, kid: str) -> tuple[jwt.PyJWK, list[str]] | None:
        """The key with id `kid` and the channels it is endorsed for; None if there is none."""
        age = time.monotonic() - self._fetched
        if age > KEY_REFRESH_S or (kid not in self._keys and age > KEY_MISS_REFRESH_S):
            try:
                await self._refresh()
            except _KeysUnavailable:
                if kid not in self._keys:  # a known key stays good while the fetch fails
                    raise
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        if time.monotonic() - self._failed < KEY_FAILURE_HOLD_S:
            raise _KeysUnavailable(f"fetching {self.metadata_url} failed moments ago")
        if self._fetch is None:
            self._fetch = asyncio.ensure_future(self._download())
            self._fetch.add_done_callback(self._fetched_or_failed)
        await asyncio.shield(self._fetch)  # a waiter that gives up does not stop the fetch

    def _fetched_or_failed(self, fetch: asyncio.Future[None]) -> None:
        self._fetch = None
        if not fetch.cancelled():
            fetch.exception()  # retrieved: a failure is logged once, by _download

    async def _download(self) -> None:
        try:
            timeout = aiohttp.ClientTimeout(total=KEY_FETCH_TIMEOUT_S)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                async with http.get(self.metadata_url) as response:
                    response.raise_for_status()
                    jwks_uri = (await response.json(content_type=None))["jwks_uri"]
                async with http.get(jwks_uri) as response:
                    response.raise_for_status()
                    listed = (await response.json(content_type=None))["keys"]
            keys = {}
            for jwk in listed:
                try:
                    keys[jwk["kid"]] = (jwt.PyJWK(jwk), list(jwk.get("endorsements") or []))
                except (jwt.PyJWTError, KeyError, TypeError, ValueError):
                    continue  # a key of a kind this process cannot use
        except Exception as error:  # unreachable, too slow, or not a key set
            self._failed = time.monotonic()
            logger.warning(
                "Teams: could not fetch the token-signing keys from %s: %r; requests are "
                "refused with 401 until they can be fetched",
                self.metadata_url,
                error,
            )
            raise _KeysUnavailable(repr(error)) from error
        self._keys, self._fetched = keys, time.monotonic()


class _Tokens:
    """Checks the bearer token the Bot Framework channel sends with every activity."""

    def __init__(self, settings: Settings) -> None:
        gov = "login.microsoftonline.us" in settings.teams_authority.lower()
        self.app_id = settings.teams_app_id
        self.issuer = (
            AuthenticationConstants.GOV_AGENTS_SDK_TOKEN_ISSUER
            if gov
            else AuthenticationConstants.AGENTS_SDK_TOKEN_ISSUER
        )
        self.keys = _SigningKeys(
            settings.teams_openid_metadata_url
            or (
                AuthenticationConstants.GOV_ABS_OPENID_METADATA_URL
                if gov
                else AuthenticationConstants.PUBLIC_ABS_OPENID_METADATA_URL
            )
        )

    async def identity(self, authorization: str | None, body: dict[str, Any]) -> ClaimsIdentity:
        """The token's claims; raises for any token that does not authenticate the request."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _Unauthorized("no bearer token")
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise _Unauthorized(f"algorithm {header.get('alg')!r}")
        kid = header.get("kid")
        found = await self.keys.get(kid) if isinstance(kid, str) else None
        if found is None:
            raise _Unauthorized("unknown key id")
        key, endorsements = found
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=self.app_id,
            issuer=self.issuer,
            leeway=TOKEN_LEEWAY_S,
            options={"require": ["exp", "iss", "aud"]},
        )
        if endorsements and body.get("channelId") not in endorsements:
            raise _Unauthorized(f"key not endorsed for channel {body.get('channelId')!r}")
        service_url = claims.get("serviceurl")
        if service_url is not None and service_url != body.get("serviceUrl"):
            raise _Unauthorized("token issued for another service URL")
        return ClaimsIdentity(claims, authentication_type="Bearer", security_token=token)


class _Inbound:
    """The request as the SDK's adapter reads it (HttpRequestProtocol): its JSON already read,
    and the identity its token proved."""

    method = "POST"

    def __init__(self, request: web.Request, body: Any, identity: ClaimsIdentity) -> None:
        self.headers = request.headers
        self._body = body
        self._identity = identity

    async def json(self) -> Any:
        return self._body

    def get_claims_identity(self) -> ClaimsIdentity:
        return self._identity

    def get_path_param(self, name: str) -> str:
        raise KeyError(name)


def build(coach: Coach, settings: Settings, session: ClientSession) -> TeamsChannel:
    return TeamsChannel(coach, settings)


class TeamsChannel:  # an Agents SDK Agent by shape: CloudAdapter calls its on_turn
    """The coach in Teams: CloudAdapter in, Coach in the middle, connector calls out.

    Args:
        coach: the core.
        settings: the Teams settings (`teams_*`).
    """

    name = "teams"

    def __init__(self, coach: Coach, settings: Settings) -> None:
        self.coach = coach
        self.app_id = settings.teams_app_id
        self.public_url = settings.public_url
        self._connections = MsalConnectionManager(
            connections_configurations={"SERVICE_CONNECTION": auth_configuration(settings)}
        )
        self.adapter = CloudAdapter(connection_manager=self._connections)
        self._msal_ready = not settings.teams_app_id  # the emulator gets no tokens
        self._msal_lock = asyncio.Lock()
        self.adapter.on_turn_error = self._on_turn_error
        self._tokens = _Tokens(settings) if settings.teams_app_id else None

    # --- the contract (bot.adapters.base.Platform) ---------------------------------------------

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
        """Close the HTTP sessions MSAL keeps for its token requests: left open, their pooled
        connections to the authority are only dropped when the process exits."""
        provider = self._connections.get_default_connection()
        clients = getattr(provider, "_msal_auth_client_map", {})  # the SDK offers no close
        for client in list(clients.values()):
            http = getattr(client, "http_client", None)
            if http is not None:
                await asyncio.to_thread(http.close)
        clients.clear()
        self._msal_ready = not self.app_id

    @property
    def delivers_files(self) -> bool:
        """A Teams bot cannot upload a file: it offers one by a download link, which needs
        the web process's public URL."""
        return bool(self.public_url)

    async def deliver(self, turn: Turn, reply: Reply) -> bool:
        """A reply to a turn, from outside the turn: through the stored reference."""
        if reply.to is not None:
            return await self.deliver_private(turn.address, reply.to, reply)
        return await self.send(reply.where or turn.address, [reply], Receipt("reply"))

    async def person(self, address: Address, user_id: str) -> User:
        return await self.coach.conversations.person(address, user_id, lambda: _unknown(user_id))

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler for POST /api/messages."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.Response(status=415, text="expected a JSON Bot Framework activity")
        try:
            body = await request.json()
        except ValueError:
            body = _NOT_JSON
        identity = ClaimsIdentity()  # the emulator: anonymous
        if self._tokens is not None:  # first: without a token, every body is a 401
            claimed = body if isinstance(body, dict) else {}
            authorization = request.headers.get("Authorization")
            try:
                identity = await self._tokens.identity(authorization, claimed)
            except Exception as error:  # every kind of failure: a 401, never a 5xx
                logger.info("Teams: refused an unauthenticated request: %r", error)
                return web.Response(status=401, text="missing or invalid token")
        if body is _NOT_JSON:
            return web.Response(status=400, text="malformed JSON")
        if not _well_formed(body):
            return web.Response(status=400, text="not a Bot Framework activity")
        try:
            await self._prepare_msal()
        except Exception as error:
            logger.error("Teams: cannot get the bot's tokens, so cannot answer: %r", error)
            return web.Response(status=503, text="the bot cannot reach its token authority")
        try:
            answer = await self.adapter.process_request(_Inbound(request, body, identity), self)
        except ValidationError:
            return web.Response(status=400, text="not a Bot Framework activity")
        if answer.body is not None:
            return web.json_response(answer.body, status=answer.status_code)
        return web.Response(status=answer.status_code)

    async def _prepare_msal(self) -> None:
        """Build MSAL's client once, in a thread. The SDK builds it on first use inside the
        event loop, and MSAL's constructor fetches the authority's OpenID configuration with
        a blocking client and no timeout: the whole process would wait on Microsoft."""
        if self._msal_ready:
            return
        async with self._msal_lock:
            if self._msal_ready:
                return
            provider = self._connections.get_default_connection()
            if isinstance(provider, MsalAuth):
                async with asyncio.timeout(AUTHORITY_TIMEOUT_S):
                    await asyncio.to_thread(provider._get_client)
            self._msal_ready = True

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        address = address_of(activity)
        reference = activity.get_conversation_reference()
        # the channel itself, not this message, its sender or the thread it was in: check-ins
        # go there. So it is the same for every message, and written when it changes.
        reference.activity_id = reference.user = reference.request_id = None
        reference.conversation.id = _THREAD.sub("", reference.conversation.id)
        stored = reference.model_dump_json(by_alias=True, exclude_none=True)
        turn = self._turn(activity, address)
        user = await self._arrived(context, address, stored, turn.user if turn else None)
        if turn is not None and user is not None:
            turn = replace(turn, user=user)
            for reply in await self.coach.handle(turn):
                if reply.where is not None and reply.where.conversation != address.conversation:
                    await self.send(reply.where, [reply], Receipt("reply"))  # the partnership's
                else:
                    await self._deliver(context, address, reply, turn.user.id)
        if activity.type == ActivityTypes.invoke and activity.name == CARD_ACTION:
            await self._answer_card_action(context, address)

    def _turn(self, activity: Activity, address: Address) -> Turn | None:
        user = activity.from_property
        who = User(user.id, user.name or user.id) if user and user.id else None
        who = who or User("unknown", "unknown")
        data: Any = None
        if activity.type == ActivityTypes.message:
            data = activity.value  # Action.Submit: a message whose value is the button's data
        elif activity.type == ActivityTypes.invoke and activity.name == CARD_ACTION:
            value = activity.value if isinstance(activity.value, dict) else {}
            action = value.get("action")
            if not isinstance(action, dict) or action.get("verb") != COACH_VERB:
                return None  # a refresh: answered with the card, nothing to act on
            data = action.get("data")
        elif activity.type == ActivityTypes.event and activity.name in MEETING_EVENTS:
            text = MEETING_EVENTS[activity.name]  # Teams' own event: quiet where nothing is set up
            return Turn(address, who, text, event_id=activity.id, automatic=True)
        else:
            return None  # conversation updates, typing, reactions: nothing to act on
        if isinstance(data, dict) and "coach" in data:  # a card button
            step = data.get("step")
            return Turn(
                address,
                who,
                str(data["coach"]),
                step=str(step) if step is not None else None,
                event_id=activity.id,
            )
        if activity.type != ActivityTypes.message:
            return None
        text = (activity.remove_recipient_mention() or "").strip()
        # words in the person's 1:1 chat with the coach act in the partnership they act in
        private = activity.conversation.conversation_type == "personal"
        return Turn(address, who, text, event_id=activity.id, private=private)

    async def _arrived(
        self, context: TurnContext, address: Address, reference: str, user: User | None
    ) -> User | None:
        """Keep the conversation's `reference`, and the person who acts (`user`, if anyone
        does) as Teams describes them. A guest from another tenant carries a hint of their
        organization: the name in their email domain (Teams tells the tenant's id, not its
        name). Teams vouches for the member's tenant and email domain (`User.verified`).
        Cached for a day."""
        if user is None:
            return await self.coach.conversations.arrived(address, reference)

        async def look_up() -> User:
            home, verified = None, []
            connector = _connector(context)
            try:
                if not isinstance(connector, TeamsConnectorClient):
                    raise TypeError(f"no Teams connector ({type(connector).__name__})")
                member = await connector.get_conversation_member(address.channel, user.id)
                email = member.email or member.user_principal_name or ""
                if member.tenant_id:
                    verified.append(f"teams:{member.tenant_id}")
                if "@" in email:
                    verified.append(f"domain:{email.rpartition('@')[2].lower()}")
                if member.tenant_id and member.tenant_id != address.workspace:
                    home = email.partition("@")[2].split(".")[0] or None
            except Exception as error:  # not in Teams (the Emulator), or the lookup failed
                logger.info("no Teams member details for %s: %r", user.id, error)
            return User(user.id, user.name, home, tuple(verified))

        cached = await self.coach.conversations.arrived(address, reference, user.id, look_up)
        assert cached is not None  # looked up when not cached
        # the client says its time zone on every message ("America/Chicago")
        return replace(cached, name=user.name, tz=context.activity.local_timezone or cached.tz)

    async def _deliver(
        self, context: TurnContext, address: Address, reply: Reply, user_id: str | None
    ) -> bool:
        """Post one reply: to the person alone, as an update of its card, or anew."""
        personal = context.activity.conversation.conversation_type == "personal"
        if reply.to is not None and not (personal and reply.to == user_id):
            return await self._deliver_private(context, address, reply.to, reply)
        activity = render_activity(reply, await self._link(address, reply))
        store = self.coach.conversations
        try:
            if reply.key and (existing := await store.message_id(address, reply.key)):
                activity.id = existing
                await _retrying(lambda: context.update_activity(activity))
                sent_id: str | None = existing
            else:
                sent_id = (await _retrying(lambda: context.send_activity(activity))).id
        except Exception as error:
            logger.error(
                "could not send to Teams conversation %s (%s): %r",
                address.conversation,
                reply.key or "reply",
                error,
            )
            return False
        if sent_id and reply.key:
            await store.remember_message(address, reply.key, sent_id)
        if sent_id and (reply.key or reply.choices):  # a card Teams may ask for again
            await store.put_record(
                "teams-card", f"{address.conversation}:{sent_id}", json.dumps(_card(reply)),
                ttl_s=CARD_TTL_S,
            )  # fmt: skip
        return True

    async def _deliver_private(
        self, context: TurnContext, address: Address, user_id: str, reply: Reply
    ) -> bool:
        """Post a reply in the 1:1 chat between the bot and the person, created the first time
        (Teams has no message only one person sees in a channel or group chat)."""
        store = self.coach.conversations
        key = f"dm:{user_id}"
        connector = _connector(context)
        bot = context.activity.recipient
        activity = render_activity(reply, await self._link(address, reply))
        try:
            if connector is None or bot is None:
                raise TypeError("no connector client or bot account in this turn")
            chat = await store.message_id(address, key)
            if chat is None:
                parameters = ConversationParameters.model_validate(
                    {
                        "isGroup": False,
                        "bot": bot,
                        "members": [ChannelAccount(id=user_id)],
                        "tenantId": address.workspace,
                        "channelData": {"tenant": {"id": address.workspace}},
                    }
                )
                created = await _retrying(
                    lambda: connector.conversations.create_conversation(parameters)
                )
                chat = created.id
                await store.remember_message(address, key, chat)
            activity.channel_id = context.activity.channel_id
            activity.from_property = bot
            activity.conversation = ConversationAccount(
                id=chat, conversation_type="personal", tenant_id=address.workspace
            )
            await _retrying(lambda: connector.conversations.send_to_conversation(chat, activity))
        except Exception as error:
            logger.error(
                "could not send privately to %s from Teams conversation %s: %r",
                user_id,
                address.conversation,
                error,
            )
            return False
        return True

    async def _link(self, address: Address, reply: Reply) -> str | None:
        """A download link for the reply's document, kept in Redis for a day: a binary one (a
        Word report), or a text one too long for a card. None for a short text document (the
        card shows it), or without a public URL to serve it from (then the card shows the
        text, or the binary's plain-text stand-in, up to INLINE_LIMIT)."""
        attachment = reply.attachment
        if attachment is None or not self.public_url:
            return None
        if attachment.data is None and len(attachment.content) <= INLINE_LIMIT:
            return None  # a text document short enough to show in the card
        data = attachment.content.encode() if attachment.data is None else attachment.data
        token = await self.coach.conversations.put_file(
            address,
            attachment.filename,
            attachment.media_type,
            data,
            partnership=attachment.partnership,  # a 1:1 chat belongs to no partnership
        )
        return f"{self.public_url}/files/{token}"

    async def _answer_card_action(self, context: TurnContext, address: Address) -> None:
        """Answer a card's invoke with the card as it now stands (after the button's turn)."""
        card_id = context.activity.reply_to_id
        stored = card_id and await self.coach.conversations.get_record(
            "teams-card", f"{address.conversation}:{card_id}"
        )
        if stored:
            body = AdaptiveCardInvokeResponse(
                status_code=200, type=CARD_TYPE, value=json.loads(stored)
            )
        else:  # sent before cards were kept, or too long ago
            body = AdaptiveCardInvokeResponse(
                status_code=200,
                type="application/vnd.microsoft.activity.message",
                value=self.coach.prompt("errors.stale"),
            )
        answer = InvokeResponse(
            status=200, body=body.model_dump(mode="json", by_alias=True, exclude_none=True)
        )
        await context.send_activity(Activity(type=ActivityTypes.invoke_response, value=answer))

    async def send(self, address: Address, replies: list[Reply], receipt: Receipt) -> bool:
        """Post replies into a conversation the bot has seen (check-ins, updates), from any
        process. False when the bot has never been in that conversation.

        The receipt goes unchecked: Teams gives a bot no way to read a conversation's messages
        (only Microsoft Graph does, with permissions to read every message), so a job re-run
        after Teams took a check-in but before the worker recorded it posts it again."""
        delivered: list[bool] = []

        async def post(context: TurnContext) -> None:
            for reply in replies:
                delivered.append(await self._deliver(context, address, reply, None))

        return await self._continue(address, post) and bool(delivered) and all(delivered)

    async def deliver_private(self, address: Address, user_id: str, reply: Reply) -> bool:
        """Post a reply to one member of a conversation the bot has seen, in their 1:1 chat
        with the bot (in a 1:1 chat, that chat). False when it could not be delivered."""
        delivered: list[bool] = []

        async def post(context: TurnContext) -> None:
            private = replace(reply, to=user_id)
            delivered.append(await self._deliver(context, address, private, user_id))

        return await self._continue(address, post) and all(delivered) and bool(delivered)

    async def _continue(
        self, address: Address, callback: Callable[[TurnContext], Awaitable[None]]
    ) -> bool:
        """Run `callback` in a turn of the conversation at `address`, from its stored reference."""
        stored = await self.coach.conversations.reference(address)
        if stored is None:
            return False
        activity = ConversationReference.model_validate_json(stored).get_continuation_activity()
        activity.id = None  # else every post would be a reply to this made-up activity
        await self._prepare_msal()
        if self.app_id:
            await self.adapter.continue_conversation(self.app_id, activity, callback)
        else:  # the emulator: no token to get
            await self.adapter.continue_conversation_with_claims(
                ClaimsIdentity(), activity, callback, AuthenticationConstants.AGENTS_SDK_SCOPE
            )
        return True

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        logger.error(
            "Teams turn failed: conversation=%s activity=%s: %r",
            context.activity.conversation.id if context.activity.conversation else "?",
            context.activity.id,
            error,
        )


def _connector(context: TurnContext) -> ConnectorClientBase | None:
    """The turn's connector client (the SDK keeps it by its abstract type)."""
    found = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
    return found if isinstance(found, ConnectorClientBase) else None


def _retry_after(error: aiohttp.ClientResponseError) -> float | None:
    value = error.headers.get("Retry-After", "") if error.headers else ""
    try:
        seconds = float(value)
    except ValueError:
        return None  # absent, or an HTTP date: the backoff instead
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_S) if math.isfinite(seconds) else None


async def _retrying(call: Callable[[], Awaitable[T]]) -> T:
    """A connector call, retried on 429 and 5xx with backoff (Retry-After when given, capped)."""
    delay = SEND_BACKOFF_S
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await call()
        except aiohttp.ClientResponseError as error:
            if error.status not in RETRIED_STATUSES or attempt == SEND_ATTEMPTS:
                raise
            wait = _retry_after(error)
            wait = delay if wait is None else wait
            logger.info("Teams answered %s; retrying in %.1f s", error.status, wait)
            await asyncio.sleep(wait)
            delay *= 2
    raise AssertionError("unreachable")


async def _unknown(user_id: str) -> User:
    return User(user_id, user_id)
