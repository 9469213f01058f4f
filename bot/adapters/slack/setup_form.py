"""Slack's setup form: the modal `/coach setup` opens, and its submission as one form turn.

The core checks and applies the whole form (`bot.dialogs.setup.setup_form`); this module only
draws the modal and reads its fields back.
"""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.render import Prompt
from bot.model import Address, Turn, User

SETUP_VIEW = "coach_setup"  # the modal's callback id
FIELDS = ("name", "partners", "checkins")  # the modal's block ids, the form turn's field names


def setup_view(prompt: Prompt, channel: str) -> dict[str, Any]:
    """The modal, for the conversation `channel` (kept in its private metadata)."""

    def plain(key: str) -> dict[str, str]:
        return {"type": "plain_text", "text": prompt(key)}

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
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
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


def form_turn(body: dict[str, Any]) -> Turn | None:
    """The submitted modal as one `setup` turn carrying every field; None when the payload is
    not shaped like the modal the coach opened."""
    view, team, user = body.get("view"), body.get("team"), body.get("user")
    if not (isinstance(view, dict) and isinstance(team, dict) and isinstance(user, dict)):
        return None
    team_id, user_id = team.get("id"), user.get("id")
    channel, state = view.get("private_metadata"), view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    if not (isinstance(channel, str) and channel and isinstance(values, dict)):
        return None
    if not (isinstance(team_id, str) and team_id and isinstance(user_id, str) and user_id):
        return None
    fields = []
    for name in FIELDS:
        block = values.get(name)
        element = block.get("value") if isinstance(block, dict) else None
        value = (element.get("value") if isinstance(element, dict) else None) or ""
        if not isinstance(value, str):
            return None
        fields.append((name, value.strip()))
    address = Address("slack", team_id, channel)
    return Turn(address, User(user_id, user_id), "setup", form=tuple(fields))
