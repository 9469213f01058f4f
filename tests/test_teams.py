"""Teams end to end: Bot Framework activities POSTed over HTTP to the coach's aiohttp app,
replies sent by botbuilder's own connector client to a local stand-in for the connector."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.adapters.teams import TeamsChannel, render_activity
from bot.config import Settings
from bot.model import Address, Choice, Receipt, Reply
from bot.web import PLATFORMS_KEY, build_web_app
from tests.fake_teams import FakeConnector

TENANT = "tenant-1"
CHANNEL = "19:partnership@thread.tacv2"
HERE = Address("teams", TENANT, CHANNEL)
BOT = {"id": "28:coach-bot", "name": "Coach"}


@dataclass
class Teams:
    """Sends activities the way Teams does, and reads what the coach sent back."""

    connector: FakeConnector
    http: ClientSession
    channel: TeamsChannel
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def activity(self, user: str, **fields: Any) -> dict[str, Any]:
        return {
            "type": "message",
            "id": f"act-{next(self.ids)}",
            "timestamp": "2026-04-14T15:00:00Z",
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": f"29:{user}", "name": user},
            "conversation": {"id": CHANNEL, "conversationType": "channel", "tenantId": TENANT},
            "recipient": BOT,
            "channelData": {"tenant": {"id": TENANT}},
        } | fields

    async def post(self, activity: dict[str, Any], **headers: str) -> int:
        async with self.http.post("/api/messages", json=activity, headers=headers) as response:
            return response.status

    async def say(self, user: str, text: str) -> int:
        """A channel message that @mentions the coach."""
        mention = {"type": "mention", "mentioned": BOT, "text": "<at>Coach</at>"}
        return await self.post(
            self.activity(user, text=f"<at>Coach</at> {text}", entities=[mention])
        )

    async def click(self, user: str, card: dict[str, Any], title: str) -> int:
        """Press a card's Action.Submit button: Teams sends a message whose value is its data."""
        action = next(a for a in card["actions"] if a["title"] == title)
        return await self.post(self.activity(user, value=action["data"]))


@pytest.fixture
async def teams(coach):
    connector = FakeConnector()
    await connector.start()
    app = await build_web_app(coach, Settings(teams_emulator=True))
    server = TestServer(app)
    await server.start_server()
    http = ClientSession(base_url=server.make_url("/"))
    yield Teams(connector, http, app[PLATFORMS_KEY]["teams"])  # type: ignore[arg-type]
    await http.close()
    await server.close()
    await connector.close()


async def set_up_three_partners(teams: Teams) -> None:
    for user, text in [
        ("city", 'setup "Sacramento Transportation & Air Quality Collaborative"'),
        ("city", 'partner add "City of Sacramento" government'),
        ("city", 'partner add "Metro Chamber" business'),
        ("city", 'partner add "Clean Air Coalition" nonprofit'),
        ("city", 'join "City of Sacramento"'),
        ("chamber", 'join "Metro Chamber"'),
        ("ngo", 'join "Clean Air Coalition"'),
    ]:
        assert await teams.say(user, text) == 201


def test_a_reply_with_choices_renders_as_an_adaptive_card():
    activity = render_activity(
        Reply("Endorse D1?", choices=(Choice("Endorse", "endorse D1", "D1:r1"),))
    ).serialize()
    assert activity["type"] == "message"
    assert activity["attachments"] == [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": "Endorse D1?", "wrap": True}],
            "actions": [{"type": "Action.Submit", "title": "Endorse",
                         "data": {"coach": "endorse D1", "step": "D1:r1"}}],
        },
    }]  # fmt: skip
    plain = render_activity(Reply("Hello")).serialize()
    assert plain["text"] == "Hello" and "attachments" not in plain


async def test_a_scorecard_session_with_three_organizations_endorsing(teams, store):
    await set_up_three_partners(teams)
    assert "Clean Air Coalition (nonprofit) joins the partnership" in teams.connector.texts()[3]
    first = teams.connector.sent[0]
    assert first.conversation == CHANNEL and first.activity_id == "act-1"  # a reply to the message

    await teams.say("city", "scorecard who why what")
    question = teams.connector.card(teams.connector.sent[-1])
    assert "Who? (1 of 12) who.partners" in question["body"][0]["text"]
    await teams.click("chamber", question, "Partially in place")
    assert teams.connector.texts()[-1] == "chamber rated who.partners: Partially in place."

    await teams.say("chamber", 'decide "Each partner names one representative by May 1"')
    proposal = teams.connector.sent[-1]
    card = teams.connector.card(proposal)
    card_id = await store.message_id(HERE, "decision:D1")
    assert card_id == "sent-11"
    for user in ("chamber", "ngo", "city"):
        await teams.click(user, card, "Endorse")
        update = teams.connector.sent[-1]
        assert (update.method, update.activity_id) == ("PUT", card_id)  # the card, in place
        if update.activity.get("attachments"):  # the final update has no buttons left
            card = teams.connector.card(update)
    assert teams.connector.texts()[-1].startswith("D1 is now agreed")
    snapshot = await store.load(HERE)
    assert snapshot.partnership.decisions["D1"].agreed_at is not None
    assert snapshot.partnership.ratings["who.partners"].by == "29:chamber"


async def test_with_an_app_id_an_unauthenticated_request_is_refused(coach, store):
    app = await build_web_app(coach, Settings(teams_app_id="00000000-0000-0000-0000-000000000001"))
    server = TestServer(app)
    await server.start_server()
    try:
        async with ClientSession(base_url=server.make_url("/")) as http:
            activity = {"type": "message", "id": "x1", "serviceUrl": "http://127.0.0.1:9/",
                        "channelId": "msteams", "from": {"id": "29:m"}, "recipient": BOT,
                        "conversation": {"id": CHANNEL, "tenantId": TENANT},
                        "text": 'setup "Forged"'}  # fmt: skip
            for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
                async with http.post("/api/messages", json=activity, headers=headers) as r:
                    assert r.status == 401
    finally:
        await server.close()
    assert (await store.load(HERE)).partnership.name is None
    assert await store.reference(HERE) is None


async def test_a_redelivered_activity_is_handled_once(teams, store):
    await set_up_three_partners(teams)
    activity = teams.activity("chamber", text='decide "Meet monthly"')
    assert await teams.post(activity) == 201
    assert await teams.post(activity) == 201
    assert sum("proposes D1" in t for t in teams.connector.texts()) == 1
    assert list((await store.load(HERE)).partnership.decisions) == ["D1"]


async def test_throttled_sends_are_retried_and_failures_logged(teams, caplog, monkeypatch):
    monkeypatch.setattr("bot.adapters.teams.SEND_BACKOFF_S", 0.01)
    teams.connector.failures = [429, 503]
    await teams.say("city", 'setup "Trails"')
    assert teams.connector.texts() == [
        'Partnership "Trails" is set up in this channel, and city is its facilitator.\n'
        + teams.connector.texts()[0].split("\n", 1)[1]
    ]
    teams.connector.failures = [500, 500, 500, 500]
    await teams.say("city", "partners")
    assert (
        "could not send to Teams conversation teams:tenant-1:19:partnership@thread.tacv2"
        in caplog.text
    )
    assert len(teams.connector.sent) == 1


async def test_malformed_activities_get_a_4xx_and_change_nothing(teams, store):
    async with teams.http.post("/api/messages", data=b"{}") as r:
        assert r.status == 415  # no Content-Type
    for body in (b"{not json", b"[]", b'{"type": 5}', b'{"type": "message"}'):
        async with teams.http.post(
            "/api/messages", data=body, headers={"Content-Type": "application/json"}
        ) as r:
            assert 400 <= r.status < 500, body
    assert await store.revision(HERE.conversation) == 0
    assert (await teams.http.get("/healthz")).status == 200


async def test_unknown_and_stale_card_actions_get_a_clear_reply(teams, store):
    await set_up_three_partners(teams)
    await teams.post(teams.activity("ngo", value={"coach": "frobnicate", "step": None}))
    assert 'I don\'t know the command "frobnicate"' in teams.connector.texts()[-1]
    await teams.say("chamber", 'decide "Meet monthly"')
    card = teams.connector.card(teams.connector.sent[-1])
    await teams.say("chamber", 'revise D1 "Meet every six weeks"')
    await teams.click("ngo", card, "Endorse")  # the button of the first version
    assert "That button belongs to an earlier message" in teams.connector.texts()[-1]
    assert (await store.load(HERE)).partnership.decisions["D1"].stances == {}


async def test_meetings_get_an_agenda_and_a_summary(teams):
    await set_up_three_partners(teams)
    await teams.say("chamber", 'decide "Meet monthly"')
    await teams.say("chamber", 'decide "Share one dashboard"')
    start = {"type": "event", "name": "application/vnd.microsoft.meetingStart",
             "value": {"Id": "m1", "MeetingType": "Scheduled", "Title": "Monthly"}}  # fmt: skip
    await teams.post(teams.activity("city", **start))
    agenda = teams.connector.texts()[-1]
    assert agenda.startswith('The meeting of "Sacramento Transportation')
    assert (
        '- D1 "Meet monthly", waiting on City of Sacramento, Metro Chamber, Clean Air Coalition'
        in agenda
    )
    assert "Scorecard items still open (27):" in agenda

    for user in ("chamber", "ngo", "city"):
        await teams.say(user, "endorse D1")
    end = start | {"name": "application/vnd.microsoft.meetingEnd"}
    await teams.post(teams.activity("city", **end))
    summary = teams.connector.texts()[-1]
    assert 'Agreed during the meeting:\n- D1 "Meet monthly"' in summary
    assert 'Still waiting for endorsement:\n- D2 "Share one dashboard"' in summary


async def test_a_check_in_can_be_sent_later_from_any_process(teams, coach, store):
    update = {"type": "conversationUpdate", "membersAdded": [BOT]}
    assert await teams.post(teams.activity("city", **update)) == 201
    assert teams.connector.sent == []  # nothing to say yet, but the conversation is known
    assert await store.reference(HERE) is not None

    elsewhere = TeamsChannel(coach, Settings(teams_emulator=True))  # another process, say
    assert await elsewhere.send(HERE, [Reply("Time for this week's check-in.")], Receipt("t"))
    (sent,) = teams.connector.sent
    assert (sent.method, sent.conversation, sent.activity["text"]) == (
        "POST",
        CHANNEL,
        "Time for this week's check-in.",
    )
    assert not await elsewhere.send(Address("teams", TENANT, "19:never-seen"), [Reply("x")], Receipt("t"))


async def test_a_guest_from_a_partner_tenant_is_offered_their_organization(teams, store):
    await set_up_three_partners(teams)
    await teams.say("chamber", 'decide "Meet monthly"')
    teams.connector.members["29:guest"] = ("tenant-chamber", "pat@metrochamber.org")
    await teams.say("guest", "endorse D1")
    assert (
        'Your account looks like it belongs to Metro Chamber; if you represent it, type /coach join "Metro Chamber"'
        in teams.connector.texts()[-1]
    )
    await teams.say("guest", "join")
    assert "guest represents Metro Chamber" in teams.connector.texts()[-1]


def test_the_retry_policy_speed_up_keeps_the_same_retried_codes():
    from msrest.universal_http.requests import ClientRetryPolicy

    original = [i for i in range(500) if i != 408] + [501, 505]  # msrest's own definition
    assert ClientRetryPolicy().policy.status_forcelist == [
        i for i in range(999) if i not in original
    ]


async def test_check_ins_go_to_the_channel_not_the_last_thread(teams, coach, store):
    await set_up_three_partners(teams)
    in_thread = teams.activity("city", text="partners")
    in_thread["conversation"] = in_thread["conversation"] | {"id": f"{CHANNEL};messageid=1699999"}
    assert await teams.post(in_thread) == 201
    assert await teams.channel.send(HERE, [Reply("Weekly check-in")], Receipt("t"))
    assert teams.connector.sent[-1].conversation == CHANNEL

    teams.connector.failures = [500] * 4
    assert not await teams.channel.send(HERE, [Reply("Another")], Receipt("t"))  # failures are reported


async def test_meeting_events_where_no_partnership_is_set_up_stay_quiet(teams):
    start = {"type": "event", "name": "application/vnd.microsoft.meetingStart", "value": {}}
    assert await teams.post(teams.activity("city", **start)) == 201
    assert teams.connector.sent == []


async def test_the_worker_posts_a_check_in_with_its_report_on_a_card(teams, coach, store):
    from datetime import UTC, datetime

    from bot.scheduler import send_checkin

    await set_up_three_partners(teams)
    await teams.say("city", "checkins weekly tue 09:00 America/Chicago")
    due = datetime(2026, 4, 21, 14, 0, tzinfo=UTC)  # Tuesday 09:00 in Chicago
    couriers = {"teams": TeamsChannel(coach, Settings(teams_emulator=True)).send}
    assert await send_checkin(coach, couriers, HERE.conversation, due, due) == "sent"
    card = teams.connector.card(teams.connector.sent[-1])
    texts = [block["text"] for block in card["body"]]
    assert texts[0].startswith('Check-in for "Sacramento')
    assert any(t.startswith("# Progress report: Sacramento") for t in texts)
    assert (await store.load(HERE)).partnership.last_checkin["due"] == due.isoformat()
