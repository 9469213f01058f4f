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

    @classmethod
    def of_conversation(cls, conversation: str) -> Address:
        """The address a conversation key (`platform:workspace:channel`) names; a
        partnership's id is its home conversation's key."""
        platform, workspace, channel = conversation.split(":", 2)
        return cls(platform, workspace, channel)


@dataclass(frozen=True)
class User:
    """Who acted. `home` names the person's own organization on the platform, when the
    platform knows it and it is not the conversation's (a Slack Connect workspace, a guest's
    Teams tenant): the coach suggests the partner organization it matches.

    `verified` lists what the platform itself vouches for about the person: `slack:T123` (the
    Slack workspace or Enterprise Grid org they belong to), `teams:<tenant id>`, and
    `domain:example.org` (their email's domain, read from their profile). A partner
    organization tied to one of these confirms its members' joins at once.

    `tz` is the person's time zone as the platform reports it (an IANA name, from their Slack
    profile or their Teams client), when it does: a new partnership starts in its facilitator's.
    """

    id: str
    name: str
    home: str | None = None
    verified: tuple[str, ...] = ()
    tz: str | None = None


@dataclass(frozen=True)
class Turn:
    """One inbound act: the words a user typed after `/coach`, or a choice they picked.

    `step` is set when the turn comes from a choice (a button, or a number in the console):
    it names the dialog step the choice belonged to, so a click on an old message is stale.
    `event_id` is the platform's id for the event, so a retried delivery is handled once.
    `body` is free text that came from a form field or a message rather than typed words (a
    message turned into a decision): taken verbatim as the command's text.
    `form` holds a whole form's fields (the Slack setup modal), for the core to check and apply
    at once. `private` marks words written to the coach in a direct conversation: they act in
    the partnership the person last spoke to the coach in (see `Coach.handle`).
    `automatic` marks a turn the platform sent by itself (Teams: a meeting started), not a
    person: where no partnership is set up it gets no reply, where a typed one would.
    """

    address: Address
    user: User
    text: str
    step: str | None = None
    event_id: str | None = None
    body: str | None = None
    form: tuple[tuple[str, str], ...] | None = None
    private: bool = False
    automatic: bool = False

    def field(self, name: str) -> str:
        """One field of the turn's form, empty when absent."""
        return dict(self.form or ()).get(name, "")

    def to_json(self) -> str:
        """The turn as JSON, for a queue any process can take it from (see `from_json`).
        Written out by hand: `dataclasses.asdict` costs several times as much, on the ack's
        path."""
        a, u = self.address, self.user
        return json.dumps(
            {
                "address": {
                    "platform": a.platform,
                    "workspace": a.workspace,
                    "channel": a.channel,
                    "thread": a.thread,
                },
                "user": {
                    "id": u.id,
                    "name": u.name,
                    "home": u.home,
                    "verified": u.verified,
                    "tz": u.tz,
                },
                "text": self.text,
                "step": self.step,
                "event_id": self.event_id,
                "body": self.body,
                "form": self.form,
                "private": self.private,
                "automatic": self.automatic,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Turn:
        """A turn written by `to_json`; raises ValueError (or TypeError, KeyError) for text
        that is not one."""
        fields = json.loads(text)
        form = fields.pop("form")
        user = fields["user"]
        return cls(
            **fields
            | {
                "address": Address(**fields["address"]),
                "user": User(**fields["user"] | {"verified": tuple(user.get("verified", ()))}),
                "form": tuple((str(k), str(v)) for k, v in form) if form is not None else None,
            }
        )


@dataclass(frozen=True)
class Choice:
    """An option offered with a reply: a button on Slack and Teams, a number in the console."""

    label: str
    command: str  # the words the choice stands for, as if typed after /coach
    step: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file that comes with a reply: text (`content`), or a binary document (`data`, such as
    a Word file) with `content` as its plain-text stand-in.

    `partnership` names the partnership the document belongs to (the core sets it): a platform
    that keeps the file for a download link files it under that partnership, so deleting the
    partnership ends the link, wherever the link was sent (a 1:1 chat belongs to none)."""

    filename: str
    content: str
    media_type: str
    data: bytes | None = None
    partnership: str | None = None

    @property
    def body(self) -> str | bytes:
        """What the file holds: its binary document, else its text."""
        return self.data if self.data is not None else self.content

    @classmethod
    def of_bytes(cls, filename: str, data: bytes, media_type: str) -> Attachment:
        """A binary file (a zip), its name as the plain-text stand-in."""
        return cls(filename, filename, media_type, data=data)


@dataclass(frozen=True)
class Reply:
    """One message from the coach.

    Where it goes: `to` names the one person who sees it (a user id), else everyone in the
    conversation. A public reply goes to the turn's conversation, or to `where` when the core
    names another (a direct message acts on a partnership whose channel is elsewhere).
    Adapters deliver a private reply as the platform allows: Slack as an ephemeral message when
    it answers the person's own act in a channel and as a direct message otherwise, Teams in a
    1:1 chat, the console marked "to NAME only".

    `key` names what the message shows (`decision:D1`): a platform that can edit messages
    updates the earlier message with the same key instead of posting another. `thread` names the
    dialog the message belongs to (`scorecard:3`), so a platform can keep each dialog in a
    thread of its own.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    to: str | None = None
    attachment: Attachment | None = None
    preformatted: str | None = field(default=None)  # a grid or table shown in fixed width
    key: str | None = None
    thread: str | None = None
    where: Address | None = None

    @property
    def private(self) -> bool:
        return self.to is not None

    def to_json(self) -> str:
        fields = asdict(self)
        data = self.attachment.data if self.attachment else None
        if data is not None:  # bytes travel as base64
            fields["attachment"]["data"] = base64.b64encode(data).decode("ascii")
        return json.dumps(fields)

    @classmethod
    def from_json(cls, text: str) -> Reply:
        fields = json.loads(text)
        fields.pop("private", None)  # written by earlier versions; `to` says it now
        choices = tuple(Choice(**c) for c in fields.pop("choices"))
        attachment = fields.pop("attachment")
        where = fields.pop("where", None)
        if attachment and attachment.get("data") is not None:
            attachment["data"] = base64.b64decode(attachment["data"])
        return cls(
            **fields,
            choices=choices,
            attachment=Attachment(**attachment) if attachment else None,
            where=Address(**where) if where else None,
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
