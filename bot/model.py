"""The plain types that cross the boundary between adapters and the core.

Adapters build a `Turn` from a platform's request and render the core's `Reply` objects;
nothing platform-specific passes through here.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Address:
    """Where a turn happened: one conversation on one platform, optionally a thread in it."""

    platform: str  # "console", "slack", "teams"
    workspace: str  # Slack team id, Teams tenant id, "local" for the console
    channel: str
    thread: str | None = None

    @property
    def conversation(self) -> str:
        """The conversation's key, the same for every thread in it."""
        return f"{self.platform}:{self.workspace}:{self.channel}"


@dataclass(frozen=True)
class User:
    """Who acted. `home` names the person's own organization on the platform, when the
    platform knows it and it is not the conversation's (a Slack Connect workspace, a guest's
    Teams tenant): the coach suggests the partner organization it matches."""

    id: str
    name: str
    home: str | None = None


@dataclass(frozen=True)
class Turn:
    """One inbound act: the words a user typed after `/coach`, or a choice they picked.

    `step` is set when the turn comes from a choice (a button, or a number in the console):
    it names the dialog step the choice belonged to, so a click on an old message is stale.
    `event_id` is the platform's id for the event, so a retried delivery is handled once.
    `body` is free text that came from a form field or a message rather than typed words (a
    setup modal's name, a message turned into a decision): taken verbatim as the command's text.
    """

    address: Address
    user: User
    text: str
    step: str | None = None
    event_id: str | None = None
    body: str | None = None


@dataclass(frozen=True)
class Choice:
    """An option offered with a reply: a button on Slack and Teams, a number in the console."""

    label: str
    command: str  # the words the choice stands for, as if typed after /coach
    step: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file that comes with a reply: text (`content`), or a binary document (`data`, such as
    a Word file) with `content` as its plain-text stand-in."""

    filename: str
    content: str
    media_type: str
    data: bytes | None = None


@dataclass(frozen=True)
class Reply:
    """One message from the coach. `private` replies go only to the user who acted.

    `key` names what the message shows (`decision:D1`): a platform that can edit messages
    updates the earlier message with the same key instead of posting another. `thread` names the
    dialog the message belongs to (`scorecard`), so a platform can keep each dialog in a thread.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    private: bool = False
    attachment: Attachment | None = None
    preformatted: str | None = field(default=None)  # a grid or table shown in fixed width
    key: str | None = None
    thread: str | None = None

    def to_json(self) -> str:
        fields = asdict(self)
        data = self.attachment.data if self.attachment else None
        if data is not None:  # bytes travel as base64
            fields["attachment"]["data"] = base64.b64encode(data).decode("ascii")
        return json.dumps(fields)

    @classmethod
    def from_json(cls, text: str) -> Reply:
        fields = json.loads(text)
        choices = tuple(Choice(**c) for c in fields.pop("choices"))
        attachment = fields.pop("attachment")
        if attachment and attachment.get("data") is not None:
            attachment["data"] = base64.b64decode(attachment["data"])
        return cls(
            **fields, choices=choices, attachment=Attachment(**attachment) if attachment else None
        )


@dataclass(frozen=True)
class Receipt:
    """Marks what the worker sends, so a re-run can find it on the platform instead of
    sending it twice.

    `token` is unique per message the worker means to send (a check-in: its due time); each
    reply sent under it is one part, numbered from 0. `since` is set on a re-run: when the first
    attempt began, so anything it posted is no older than that.
    """

    token: str
    since: datetime | None = None
