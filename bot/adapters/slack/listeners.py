"""Slack's inbound side: each kind of request Slack sends, converted to the core's `Turn`.

Pure functions of the request body, like bolt's own `to_bolt_request`: they decide nothing,
and answer None for a body that is not shaped as Slack sends it (the listener then logs one line
and acts on nothing).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from bot.adapters.slack.render import choice_from_value, unescape
from bot.model import Address, Turn, User

COMMAND = "/coach"
ID_LIMIT = 255  # Slack's ids and timestamps are far shorter
ENDORSE_REACTIONS = {"white_check_mark", "heavy_check_mark", "ballot_box_with_check"}
_BOT_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+>\s*")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _id(container: object, key: str = "id") -> str | None:
    """`container[key]` when the container is a dict and the value looks like a Slack id or
    timestamp (`C0123`, `Ev0A1`, `1712345678.000100`): printable ASCII with no spaces, at most
    ID_LIMIT characters. Anything else (a lone surrogate, a newline) names nothing: such ids
    would become Redis keys, and only a forged but signed request could carry them."""
    value = container.get(key) if isinstance(container, dict) else None
    if not isinstance(value, str) or not 0 < len(value) <= ID_LIMIT:
        return None
    return value if value.isascii() and value.isprintable() and " " not in value else None


def slash_command(form: bytes) -> dict[str, str] | None:
    """The fields of a form-encoded body that is a `/coach` slash command; None for anything
    else (a click or a form submission, which carry a `payload` field; Slack's `ssl_check`;
    another command; a body that is not UTF-8). Parsed field by field: a command whose text
    says "payload" is a command.
    """
    try:
        fields = dict(parse_qsl(form.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        return None
    if fields.get("command") != COMMAND or "payload" in fields or "ssl_check" in fields:
        return None
    return fields


def command_turn(body: dict[str, Any]) -> Turn | None:
    """`/coach …`."""
    team, channel, user = _id(body, "team_id"), _id(body, "channel_id"), _id(body, "user_id")
    text = _text(body.get("text", ""))
    if not (team and channel and user) or text is None:
        return None
    return Turn(Address("slack", team, channel), User(user, user), unescape(text))


def wants_setup_form(body: dict[str, Any]) -> bool:
    """`/coach setup` with no name: Slack can offer a form instead of a usage hint."""
    text = _text(body.get("text", "")) or ""
    return text.strip().lower() in {"setup", "/coach setup"} and bool(_id(body, "trigger_id"))


def mention_turn(body: dict[str, Any]) -> Turn | None:
    """`@Coach …` in a channel (or a thread of it)."""
    event, team = body.get("event"), _id(body, "team_id")
    channel, user = _id(event, "channel"), _id(event, "user")
    if not (team and channel and user and isinstance(event, dict)):
        return None
    text, thread = _text(event.get("text", "")), _id(event, "thread_ts")
    if text is None:
        return None
    return Turn(
        Address("slack", team, channel, thread),
        User(user, user),
        unescape(_BOT_MENTION.sub("", text, count=1)),
        event_id=_id(body, "event_id"),
    )


def direct_message_turn(body: dict[str, Any]) -> Turn | None:
    """A message in the coach's direct conversation with a person (its Messages tab): words
    written to the coach privately. None for anything else (edits, the coach's own posts)."""
    event, team = body.get("event"), _id(body, "team_id")
    if not isinstance(event, dict) or event.get("channel_type") != "im":
        return None
    if event.get("subtype") or event.get("bot_id"):
        return None
    channel, user, text = _id(event, "channel"), _id(event, "user"), _text(event.get("text"))
    if not (team and channel and user) or text is None:
        return None
    return Turn(
        Address("slack", team, channel),
        User(user, user),
        unescape(_BOT_MENTION.sub("", text, count=1)),
        event_id=_id(body, "event_id"),
        private=True,
    )


def reaction(body: dict[str, Any]) -> tuple[Address, str, str, str | None] | None:
    """An endorsing reaction on a message: (conversation, message ts, user, event id)."""
    event, team = body.get("event"), _id(body, "team_id")
    if not isinstance(event, dict) or _id(event, "reaction") not in ENDORSE_REACTIONS:
        return None
    item = event.get("item")
    channel, ts, user = _id(item, "channel"), _id(item, "ts"), _id(event, "user")
    if not (team and channel and ts and user and isinstance(item, dict)):
        return None
    if item.get("type") != "message":
        return None
    return Address("slack", team, channel), ts, user, _id(body, "event_id")


def choice_turn(body: dict[str, Any]) -> Turn | None:
    """A click on one of the coach's buttons; its text is empty when the button's value is not
    one the coach wrote (answered as a stale choice). None for a click outside a channel."""
    team, user, channel = (
        _id(body.get("team"), "id"),
        _id(body.get("user")),
        _id(body.get("channel")),
    )
    actions = body.get("actions")
    if not (team and user and channel and isinstance(actions, list) and actions):
        return None
    container = body.get("container")
    thread = _id(container, "thread_ts")
    address = Address("slack", team, channel, thread)
    action = actions[0] if isinstance(actions[0], dict) else {}
    choice = choice_from_value(action.get("value"))
    if choice is None:
        return Turn(address, User(user, user), "", step="?")
    return Turn(address, User(user, user), choice[0], step=choice[1])


def shortcut_turn(body: dict[str, Any]) -> Turn | None:
    """The "Log as decision" message shortcut: the message's text proposed as a decision."""
    team, user, channel = (
        _id(body.get("team"), "id"),
        _id(body.get("user")),
        _id(body.get("channel")),
    )
    message = body.get("message")
    text = _text(message.get("text", "")) if isinstance(message, dict) else None
    if not (team and user and channel) or text is None:
        return None
    return Turn(Address("slack", team, channel), User(user, user), "decide", body=unescape(text))
