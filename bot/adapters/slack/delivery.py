"""Slack's outbound side: a turn's replies, and what the worker sends (check-ins).

    a reply to one person    ephemeral when it answers that person's own act in a channel;
                             otherwise, and always with a file (the archive), a direct message
                             (conversations.open, kept per person), with an ephemeral note
                             where they asked that says where the file went
    a reply with a key       updates the message that shows that key (a decision's card)
    a reply with a thread    joins its dialog's thread, starting it on the first message
    an attachment            a file in the thread (files_upload_v2), or in the direct message

Every call goes through the Web API client it is given, which carries the workspace's token:
nothing is picked up from ambient context.

The worker's courier (`send`) marks each message with a receipt in its metadata. On a re-run
of a job cut short, it reads the channel's history since the first attempt and posts only the
parts that are missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.render import escape, render_blocks
from bot.conversations import Conversations
from bot.model import Address, Receipt, Reply, Turn, User

logger = logging.getLogger(__name__)

DELIVERY_EVENT = "coach_delivery"  # the metadata type marking what the worker posts
CLOCK_SKEW_S = 60  # between this machine's clock and Slack's, when reading history
HISTORY_PAGE = 100


class SlackDelivery:
    def __init__(self, conversations: Conversations, render: Callable[..., str]) -> None:
        self.conversations = conversations
        self.render = render  # the content's prompts (`Prompts.render`)

    async def deliver(self, client: AsyncWebClient, turn: Turn, reply: Reply) -> None:
        """Post one reply to a turn: privately, as an update of its card, in its thread, or
        anew. Public replies go to the turn's conversation, or to `reply.where`."""
        text, blocks = escape(reply.text), render_blocks(reply)
        if reply.to is not None:
            await self._private(client, turn, reply, text, blocks)
            return
        address = reply.where or turn.address
        conversations = self.conversations
        if reply.key and (existing := await conversations.message_id(address, reply.key)):
            await client.chat_update(channel=address.channel, ts=existing, text=text, blocks=blocks)
            return
        thread = address.thread
        if reply.thread:
            thread = await conversations.message_id(address, f"thread:{reply.thread}") or thread
        if reply.attachment:
            comment: str | None = text
            if reply.choices:  # buttons need a message of their own: the file goes in its thread
                posted = await client.chat_postMessage(
                    channel=address.channel, thread_ts=thread, text=text, blocks=blocks
                )
                thread, comment = thread or str(posted["ts"]), None
            await client.files_upload_v2(
                channel=address.channel,
                thread_ts=thread,
                filename=reply.attachment.filename,
                content=reply.attachment.body,
                initial_comment=comment,
            )
            return
        posted = await client.chat_postMessage(
            channel=address.channel, thread_ts=thread, text=text, blocks=blocks
        )
        ts = str(posted["ts"])
        if reply.key:
            await conversations.remember_message(address, reply.key, ts)
        if reply.thread and thread is None:
            await conversations.remember_message(address, f"thread:{reply.thread}", ts)

    async def _private(
        self,
        client: AsyncWebClient,
        turn: Turn,
        reply: Reply,
        text: str,
        blocks: list[dict[str, Any]],
    ) -> None:
        assert reply.to is not None
        address = turn.address
        if reply.to == turn.user.id and not turn.private and reply.attachment is None:
            # the answer to the person's own act in a channel: shown to them where they acted
            await client.chat_postEphemeral(
                channel=address.channel,
                user=reply.to,
                text=text,
                blocks=blocks,
                thread_ts=address.thread,
            )
            return
        channel = address.channel if turn.private and reply.to == turn.user.id else None
        channel = channel or await self.direct(client, address, reply.to)
        if reply.attachment is None:
            await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
            return
        # an ephemeral message cannot carry a file: it goes to the person's direct messages
        comment: str | None = text
        thread = None
        if reply.choices:  # buttons need a message of their own: the file goes in its thread
            posted = await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
            thread, comment = str(posted["ts"]), None
        await client.files_upload_v2(
            channel=channel,
            thread_ts=thread,
            filename=reply.attachment.filename,
            content=reply.attachment.body,
            initial_comment=comment,
        )
        if reply.to == turn.user.id and channel != address.channel:  # asked in a channel
            note = self.render("slack.file_sent_directly", file=reply.attachment.filename)
            await client.chat_postEphemeral(
                channel=address.channel, user=reply.to, text=escape(note), thread_ts=address.thread
            )

    async def direct(self, client: AsyncWebClient, address: Address, user_id: str) -> str:
        """The coach's direct conversation with a person, opened once and then remembered."""
        known = await self.conversations.direct(address, user_id)
        if known is not None:
            return known
        opened = await client.conversations_open(users=user_id)
        channel = str(opened["channel"]["id"])
        await self.conversations.remember_direct(address, user_id, channel)
        return channel

    async def person(self, client: AsyncWebClient, address: Address, user_id: str) -> User:
        """The user with the name people know them by and, for a member of another workspace
        (Slack Connect), that workspace's name; cached for a day.

        A mention (<@U…>) would render nicely too, but it notifies the person every time a
        list names them, and reads as an id in exports.
        """

        async def look_up() -> User:
            name, home, verified, tz = user_id, None, [], None
            try:
                found = (await client.users_info(user=user_id))["user"]
                profile = found.get("profile", {})
                name = profile.get("display_name") or profile.get("real_name") or found.get("name")
                home_team = found.get("team_id")
                tz = found.get("tz") or None  # "America/Chicago", from the person's profile
                enterprise = (found.get("enterprise_user") or {}).get("enterprise_id")
                email = profile.get("email") or ""  # with the users:read.email scope
                verified = [f"slack:{i}" for i in (home_team, enterprise) if i]
                if "@" in email:
                    verified.append(f"domain:{email.rpartition('@')[2].lower()}")
                if home_team and home_team != address.workspace:
                    home = (await client.team_info(team=home_team))["team"]["name"]
            except SlackApiError as error:
                logger.warning("could not look up Slack user %s: %s", user_id, error.response)
            return User(user_id, str(name or user_id), home, tuple(verified), tz)

        return await self.conversations.person(address, user_id, look_up)

    # --- the worker's courier -----------------------------------------------------------------

    async def send(
        self, client: AsyncWebClient, address: Address, replies: list[Reply], receipt: Receipt
    ) -> bool:
        """Post what the worker sends into a channel, each reply a new message marked with the
        receipt in its metadata. On a re-run (`receipt.since`), parts already in the channel's
        history are not posted again. False when the channel cannot be reached."""
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
            content=attachment.body,
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
