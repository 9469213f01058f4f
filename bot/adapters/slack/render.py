"""Slack's rendering: pure functions from the core's replies to Block Kit, and back from the
values the coach wrote into buttons. No I/O; tests check them against expected JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from bot.model import Choice, Reply

SECTION_TEXT_LIMIT = 3000  # Block Kit's limit for a section's text
BUTTON_LABEL_LIMIT = 75  # also the limit of a button's accessibility label
BUTTONS_PER_ACTIONS_BLOCK = 25
MAX_HOME_BLOCKS = 100  # Slack's limit for a Home tab
MAX_BUTTON_VALUE = 2000  # Slack's limit for a button's value
_OUR_MENTION = re.compile(r"(<@[UW][A-Z0-9]+>)")

Prompt = Callable[..., str]  # renders a prompt key from the content


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
    blocks = _sections(escape(reply.text))
    if reply.preformatted:
        blocks += _sections(escape(reply.preformatted), fence="```")
    for start in range(0, len(reply.choices), BUTTONS_PER_ACTIONS_BLOCK):
        chunk = reply.choices[start : start + BUTTONS_PER_ACTIONS_BLOCK]
        blocks.append(
            {
                "type": "actions",
                "elements": [_button(start + n, c) for n, c in enumerate(chunk)],
            }
        )
    return blocks


def _button(n: int, choice: Choice) -> dict[str, Any]:
    """A choice as a button. Its accessibility label (what a screen reader says) adds the
    command the button runs when the visible label does not name what it acts on: *Endorse*
    on a decision's card is read as "Endorse (endorse D1)"."""
    button: dict[str, Any] = {
        "type": "button",
        "action_id": f"coach.choice.{n}",
        "text": {"type": "plain_text", "text": choice.label[:BUTTON_LABEL_LIMIT]},
        "value": json.dumps({"c": choice.command, "s": choice.step}),
    }
    label = choice.label.lower()
    if any(word.lower() not in label for word in choice.command.split()[1:]):
        described = f"{choice.label} ({choice.command})"
        button["accessibility_label"] = described[:BUTTON_LABEL_LIMIT]
    return button


def _sections(text: str, fence: str = "") -> list[dict[str, Any]]:
    """`text` as section blocks, split between lines where it is longer than a section takes
    (a long grid or list is shown whole, never cut off); each part is wrapped in `fence`."""
    room = SECTION_TEXT_LIMIT - 2 * len(fence)
    parts: list[str] = []
    for line in text.split("\n"):
        while len(line) > room:  # a single line longer than a section: split it as it is
            parts.append(line[:room])
            line = line[room:]
        if parts and len(parts[-1]) + 1 + len(line) <= room:
            parts[-1] += "\n" + line
        else:
            parts.append(line)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{fence}{part}{fence}"}}
        for part in parts
    ]


def choice_from_value(value: object) -> tuple[str, str | None] | None:
    """A button's (command, step), or None when the value is not one the coach wrote."""
    if not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE:
        return None
    if value.count("[") + value.count("{") > 32:  # the coach's own nest one deep: no parse
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    step = data.get("s")
    return data["c"], step if isinstance(step, str) else None


def home_view(title: str, replies: Iterable[Reply]) -> dict[str, Any]:
    """The App Home tab: a header, then each partnership's open decisions."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}}
    ]
    for reply in replies:
        blocks += render_blocks(reply)
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}
