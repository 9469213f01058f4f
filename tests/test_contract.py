"""The adapter contract (bot/adapters/base.py), held by every platform through one suite: the
same scenarios, parametrised over the console, Slack (signed requests, a stand-in Web API)
and Teams (activities, a stand-in connector). Each driver reads what a person would see:
what everyone in the channel sees, and what only one person sees."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.adapters.base import Platform
from bot.model import Address, Reply, Turn, User
from tests.conftest import Convo
from tests.test_slack import CHANNEL as SLACK_CHANNEL
from tests.test_slack import Slack
from tests.test_slack import slack as slack  # the fixture
from tests.test_teams import BOT as TEAMS_BOT
from tests.test_teams import CHANNEL as TEAMS_CHANNEL
from tests.test_teams import TENANT, Teams
from tests.test_teams import teams as teams  # the fixture


class ConsoleChat:
    def __init__(self, convo: Convo) -> None:
        self.convo = convo
        self.platform: Platform = convo.channel
        self.here = convo.channel.address
        self.seen: list[Reply] = []

    def user(self, name: str) -> str:
        return name

    async def act(self, user: str, text: str) -> None:
        self.seen += await self.convo.channel.line(f"{user}: {text}")

    async def act_privately(self, user: str, text: str) -> None:
        self.seen += await self.convo.channel.line(f"{user}: dm {text}")

    async def deliver(self, turn: Turn, reply: Reply) -> None:
        assert await self.platform.deliver(turn, reply)
        self.seen.append(reply)

    def public(self) -> list[str]:
        return [r.text for r in self.seen if r.to is None]

    def private(self, user: str) -> list[str]:
        return [r.text for r in self.seen if r.to == user]


class SlackChat:
    def __init__(self, slack: Slack) -> None:
        self.slack = slack
        self.platform: Platform = slack.channel
        self.here = Address("slack", "T1", SLACK_CHANNEL)

    def user(self, name: str) -> str:
        return f"U{name.upper().replace('_', '')}"

    async def act(self, user: str, text: str) -> None:
        assert await self.slack.command(user, text) == 200

    async def act_privately(self, user: str, text: str) -> None:
        event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user,
                 "text": text, "ts": f"{time.time():.6f}"}  # fmt: skip
        assert await self.slack.event(event, f"Ev{time.monotonic_ns()}") == 200

    async def deliver(self, turn: Turn, reply: Reply) -> None:
        assert await self.platform.deliver(turn, reply)

    def _calls(self, method: str) -> list[dict[str, Any]]:
        return self.slack.fake.of(method)

    def public(self) -> list[str]:
        return [c["text"] for m in ("chat.postMessage", "chat.update") for c in self._calls(m)
                if c["channel"] == SLACK_CHANNEL]  # fmt: skip

    def private(self, user: str) -> list[str]:
        ephemeral = [c["text"] for c in self._calls("chat.postEphemeral") if c["user"] == user]
        direct = [c["text"] for c in self._calls("chat.postMessage") if c["channel"] == f"D{user}"]
        return ephemeral + direct


class TeamsChat:
    def __init__(self, teams: Teams) -> None:
        self.teams = teams
        self.platform: Platform = teams.channel
        self.here = Address("teams", TENANT, TEAMS_CHANNEL)

    def user(self, name: str) -> str:
        return f"29:{name}"

    async def act(self, user: str, text: str) -> None:
        assert await self.teams.say(user.removeprefix("29:"), text) in (200, 201, 202)

    async def act_privately(self, user: str, text: str) -> None:
        activity = self.teams.activity(user.removeprefix("29:"), text=text)
        activity["conversation"] = {"id": f"a:dm-{user}", "conversationType": "personal",
                                    "tenantId": TENANT}  # fmt: skip
        activity["recipient"] = TEAMS_BOT
        assert await self.teams.post(activity) in (200, 201, 202)

    async def deliver(self, turn: Turn, reply: Reply) -> None:
        assert await self.platform.deliver(turn, reply)

    def _texts(self, conversation: str) -> list[str]:
        return [_teams_text(s.activity) for s in self.teams.connector.sent
                if s.conversation.split(";")[0] == conversation]  # fmt: skip

    def public(self) -> list[str]:
        return self._texts(TEAMS_CHANNEL)

    def private(self, user: str) -> list[str]:
        chats = [*self.teams.connector.personal(user), f"a:dm-{user}"]  # created, or its own
        return [text for conversation in chats for text in self._texts(conversation)]


def _teams_text(activity: dict[str, Any]) -> str:
    if activity.get("text"):
        return str(activity["text"])
    return json.dumps(activity.get("attachments", []))


@pytest.fixture(params=["console", "slack", "teams"])
def chat(request, convo):
    if request.param == "console":
        return ConsoleChat(convo)
    if request.param == "slack":
        return SlackChat(request.getfixturevalue("slack"))
    return TeamsChat(request.getfixturevalue("teams"))


async def set_up(chat) -> dict[str, str]:
    users = {name: chat.user(name) for name in ("lead", "chamber", "ngo")}
    for user, text in [
        ("lead", 'setup "Riverside Air Quality Partnership"'),
        ("lead", 'partner add "City of Riverside" government'),
        ("lead", 'partner add "Metro Chamber" business'),
        ("lead", 'join "City of Riverside"'),
        ("chamber", 'join "Metro Chamber"'),
        ("lead", f"member confirm @{users['chamber']}"),
    ]:
        await chat.act(users[user], text)
    return users


async def test_a_refusal_reaches_only_the_person_refused(chat, content, store):
    users = await set_up(chat)
    before = len(chat.public())
    await chat.act(users["chamber"], 'partner add "Clean Air Coalition" nonprofit')

    refusal = content.prompts.render(
        "errors.facilitators_only", command="partner add", facilitators=""
    )
    assert any(refusal.split("(")[0] in text for text in chat.private(users["chamber"]))
    assert chat.public()[before:] == []
    assert "clean-air-coalition" not in (await store.load(chat.here)).partnership.orgs


async def test_a_private_reply_to_another_person_reaches_only_them(chat, content):
    users = await set_up(chat)
    before, chamber_before = len(chat.public()), len(chat.private(users["chamber"]))
    turn = Turn(chat.here, User(users["lead"], "lead"), "partners")
    await chat.deliver(turn, Reply("Your confidential brief: the Metro Chamber role.", to=users["ngo"]))

    assert chat.private(users["ngo"]) == ["Your confidential brief: the Metro Chamber role."]
    assert len(chat.private(users["chamber"])) == chamber_before
    assert chat.public()[before:] == []


async def test_words_written_privately_act_in_the_partnership_the_person_acts_in(chat, store):
    users = await set_up(chat)
    await chat.act(users["lead"], 'decide "Meet on the first Tuesday of each month"')
    before = len(chat.public())

    await chat.act_privately(users["chamber"], "endorse D1")

    decision = (await store.load(chat.here)).partnership.decisions["D1"]
    assert set(decision.stances) == {"metro-chamber"}
    assert len(chat.public()) > before  # the endorsement shows in the partnership's channel


async def test_a_person_who_never_acted_in_a_partnership_is_told_so_privately(chat, content):
    users = await set_up(chat)
    await chat.act_privately(users["ngo"], "decisions")

    told = content.prompts.render("errors.no_partnership_privately")
    assert told in chat.private(users["ngo"])


async def test_words_written_privately_act_where_the_person_acted_last_back_and_forth(
    coach, store
):
    """Where a person acts is written only when it changes: acting in A, then B, then A
    again still makes private words act in A."""
    lead = User("U-lead", "lead")
    first, second = (Address("console", "local", name) for name in ("first", "second"))
    for here in (first, second):
        await coach.handle(Turn(here, lead, f'setup "{here.channel}"'))
        await coach.handle(Turn(here, lead, 'partner add "City" government'))
        await coach.handle(Turn(here, lead, 'join "City"'))

    for here in (first, second, first, first, second, second, first):
        await coach.handle(Turn(here, lead, "decisions"))
        assert await store.acting_in("console", "local", lead.id) == here.conversation
    await coach.handle(Turn(first, lead, "decisions", private=True))
    assert await store.acting_in("console", "local", lead.id) == first.conversation
