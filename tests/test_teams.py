"""Teams end to end: Bot Framework activities POSTed over HTTP to the coach's aiohttp app,
replies sent by the Agents SDK's own connector client to a local stand-in for the connector."""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

import jwt
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.adapters.teams import TeamsChannel, auth_configuration, render_activity
from bot.config import ConfigError, Secret, Settings
from bot.model import Address, Choice, Receipt, Reply
from bot.web import PLATFORMS_KEY, build_web_app
from tests.conftest import said
from tests.fake_teams import FakeConnector, FakeMicrosoft, Sent

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
    answers: list[dict[str, Any]] = field(default_factory=list)  # invoke responses

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

    async def click(self, user: str, sent: Sent, title: str) -> int:
        """Press a card's button (Action.Execute): Teams sends an adaptiveCard/action invoke
        naming the card's message, and shows the card the answer holds."""
        card = (sent.activity.get("attachments") or [{}])[0].get("content", {})
        action = next(a for a in card["actions"] if a["title"] == title)
        assert action["type"] == "Action.Execute"
        value = {"action": {"type": "Action.Execute", "verb": action["verb"],
                            "data": action["data"]}, "trigger": "manual"}  # fmt: skip
        return await self.invoke(user, sent.id, value)

    async def invoke(self, user: str, card_id: str, value: dict[str, Any]) -> int:
        activity = self.activity(
            user, type="invoke", name="adaptiveCard/action", replyToId=card_id, value=value
        )
        async with self.http.post("/api/messages", json=activity) as response:
            self.answers.append(await response.json())
            return response.status

    async def submit(self, user: str, card: dict[str, Any], title: str) -> int:
        """Press a button on a client without Universal Actions: its Action.Submit fallback
        arrives as a message whose value is the button's data."""
        action = next(a for a in card["actions"] if a["title"] == title)
        return await self.post(self.activity(user, value=action["fallback"]["data"]))


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
        ("city", "member confirm @29:chamber"),
        ("city", "member confirm @29:ngo"),
    ]:
        assert await teams.say(user, text) == 202


def dump(activity) -> dict[str, Any]:
    return activity.model_dump(by_alias=True, exclude_none=True, mode="json")


def test_a_reply_with_choices_renders_as_an_adaptive_card_with_universal_actions():
    activity = dump(render_activity(
        Reply("Endorse D1?", choices=(Choice("Endorse", "endorse D1", "D1:r1"),))
    ))  # fmt: skip
    assert activity["type"] == "message"
    data = {"coach": "endorse D1", "step": "D1:r1"}
    assert activity["attachments"] == [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": "Endorse D1?", "wrap": True}],
            "actions": [{"type": "Action.Execute", "verb": "coach", "title": "Endorse",
                         "data": data,
                         "fallback": {"type": "Action.Submit", "title": "Endorse", "data": data}}],
            "refresh": {"action": {"type": "Action.Execute", "verb": "refresh"}},
        },
    }]  # fmt: skip
    plain = dump(render_activity(Reply("Hello")))
    assert plain["text"] == "Hello" and "attachments" not in plain


async def test_a_scorecard_session_with_three_organizations_endorsing(teams, store):
    await set_up_three_partners(teams)
    assert "Clean Air Coalition (nonprofit) joins the partnership" in teams.connector.texts()[3]
    first = teams.connector.sent[0]
    assert first.conversation == CHANNEL and first.activity_id == "act-1"  # a reply to the message

    await teams.say("city", "scorecard who why what")
    question = teams.connector.sent[-1]
    assert "Who? (1 of 12) who.partners" in teams.connector.card(question)["body"][0]["text"]
    assert await teams.click("chamber", question, "Partially in place") == 200
    assert teams.connector.texts()[-1].startswith(
        "chamber rated who.partners for Metro Chamber: Partially in place."
    )

    await teams.say("chamber", 'decide "Each partner names one representative by May 1"')
    proposal = teams.connector.sent[-1]
    card_id = await store.message_id(HERE, "decision:D1")
    assert card_id == proposal.id
    for user in ("chamber", "ngo", "city"):
        assert await teams.click(user, proposal, "Endorse") == 200
        update = teams.connector.sent[-1]
        assert (update.method, update.activity_id) == ("PUT", card_id)  # the card, in place
        # the one who pressed the button sees the card as it now stands, buttons and all
        answer = teams.answers[-1]
        assert answer["statusCode"] == 200
        assert answer["type"] == "application/vnd.microsoft.card.adaptive"
        assert answer["value"]["body"][0]["text"] == update.activity["text"]
        if update.activity.get("attachments"):  # the final update has no buttons left
            proposal = update
            assert answer["value"] == teams.connector.card(update)
    assert teams.connector.texts()[-1].startswith("D1 is now agreed")
    snapshot = await store.load(HERE)
    assert snapshot.partnership.decisions["D1"].agreed_at is not None
    assert snapshot.partnership.ratings["who.partners"].history[-1].by == "29:chamber"


async def test_a_card_refreshes_to_its_current_state_for_whoever_opens_it(teams, store):
    await set_up_three_partners(teams)
    await teams.say("chamber", 'decide "Meet monthly"')
    proposal = teams.connector.sent[-1]
    await teams.click("chamber", proposal, "Endorse")
    endorsed = teams.connector.sent[-1].activity["text"]
    sent_before = len(teams.connector.sent)
    # the NGO opens the chat: Teams asks for the card, which shows the chamber's endorsement
    refresh = {"action": {"type": "Action.Execute", "verb": "refresh"}, "trigger": "automatic"}
    assert await teams.invoke("ngo", proposal.id, refresh) == 200
    answer = teams.answers[-1]
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert answer["value"]["body"][0]["text"] == endorsed != proposal.activity["text"]
    assert len(teams.connector.sent) == sent_before  # nothing posted, nothing changed
    assert (await store.load(HERE)).partnership.decisions["D1"].stances.keys() == {"metro-chamber"}
    # a card the coach does not know (sent long ago) answers with a message, not an error
    assert await teams.invoke("ngo", "sent-unknown", refresh) == 200
    assert teams.answers[-1]["type"] == "application/vnd.microsoft.activity.message"
    assert "That button belongs to an earlier message" in teams.answers[-1]["value"]


async def test_action_submit_still_works_for_clients_without_universal_actions(teams, store):
    await set_up_three_partners(teams)
    await teams.say("chamber", 'decide "Meet monthly"')
    card = teams.connector.card(teams.connector.sent[-1])
    assert await teams.submit("ngo", card, "Endorse") == 202
    assert teams.connector.sent[-1].method == "PUT"
    assert (await store.load(HERE)).partnership.decisions["D1"].stances.keys() == {
        "clean-air-coalition"
    }


APP_ID = "00000000-0000-0000-0000-000000000001"
APP_TENANT = "11111111-2222-3333-4444-555555555555"
CHANNEL_ISSUER = "https://api.botframework.com"


@dataclass
class Secured:
    """The coach with an app id (every request authenticated), and Microsoft's stand-ins."""

    microsoft: FakeMicrosoft
    connector: FakeConnector
    http: ClientSession
    teams: Teams
    settings: Settings

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": CHANNEL_ISSUER, "aud": APP_ID, "iat": now, "nbf": now, "exp": now + 3600,
                "serviceurl": self.connector.url} | changes  # fmt: skip

    async def post(self, token: str | None, text: str = 'setup "Forged"') -> int:
        activity = self.teams.activity("city", text=text)
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return await self.teams.post(activity, **headers)


@pytest.fixture
async def secured(coach, tmp_path, monkeypatch):
    microsoft = FakeMicrosoft()
    await microsoft.start(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", microsoft.ca_file)  # MSAL's client trusts it
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    connector = FakeConnector()
    await connector.start()
    settings = Settings(
        teams_app_id=APP_ID, teams_app_password=Secret("client-secret"),
        teams_app_type="SingleTenant", teams_tenant_id=APP_TENANT,
        teams_authority=microsoft.authority, teams_openid_metadata_url=microsoft.metadata_url,
    )  # fmt: skip
    app = await build_web_app(coach, settings)
    server = TestServer(app)
    await server.start_server()
    http = ClientSession(base_url=server.make_url("/"))
    teams = Teams(connector, http, app[PLATFORMS_KEY]["teams"])  # type: ignore[arg-type]
    yield Secured(microsoft, connector, http, teams, settings)
    await http.close()
    await server.close()
    await connector.close()
    await microsoft.close()


async def test_an_authenticated_activity_is_answered_with_the_bots_own_token(secured, store):
    assert await secured.post(secured.microsoft.sign(secured.claims()), 'setup "Trails"') == 202
    assert secured.connector.texts()[0].startswith('Partnership "Trails" is set up')
    # the reply went out with the token MSAL got for the bot from the (stand-in) authority
    assert secured.connector.authorizations == [f"Bearer {secured.microsoft.outbound_token}"]
    (request,) = secured.microsoft.token_requests
    assert request["client_id"] == APP_ID and request["client_secret"] == "client-secret"
    assert request["scope"].split() == ["https://api.botframework.com/.default"]
    assert request["grant_type"] == "client_credentials"
    # and the worker's check-ins (proactive sends) get the same token
    assert await secured.teams.channel.send(HERE, [Reply("Weekly check-in")], Receipt("t"))
    assert secured.connector.authorizations[-1] == f"Bearer {secured.microsoft.outbound_token}"


async def test_every_kind_of_forged_token_is_refused_with_401(secured, store):
    microsoft, claims = secured.microsoft, secured.claims
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {
        "no token": None,
        "not a JWT": "not-a-jwt",
        "wrong audience": microsoft.sign(claims(aud="another-bot")),
        "wrong issuer": microsoft.sign(claims(iss="https://evil.example.com")),
        "disallowed algorithm (HS256)": microsoft.sign(claims(), algorithm="HS256",
                                                       key="a-shared-secret-of-32-bytes-or-more"),
        "unknown key id": microsoft.sign(claims(), key_id="no-such-key"),
        "no key id": microsoft.sign(claims(), key_id=""),
        "signed by another key": microsoft.sign(claims(), key=stranger),
        "expired": microsoft.sign(claims(exp=int(time.time()) - 3600)),
        "unsigned (alg none)": microsoft.sign(claims(), algorithm="none"),
        "no expiry": microsoft.sign({k: v for k, v in claims().items() if k != "exp"}),
        "issued for another service URL": microsoft.sign(claims(serviceurl="https://x.example/")),
    }  # fmt: skip
    for case, token in forged.items():
        assert await secured.post(token) == 401, case
    assert secured.connector.sent == [] and secured.connector.authorizations == []
    assert microsoft.token_requests == []
    assert (await store.load(HERE)).partnership.name is None
    assert await store.reference(HERE) is None
    assert microsoft.key_fetches == 1  # forged key ids do not make the coach fetch keys again


async def test_a_slow_or_unreachable_key_endpoint_fails_fast_and_healthz_still_answers(
    secured, store, monkeypatch, caplog
):
    monkeypatch.setattr("bot.adapters.teams.KEY_FETCH_TIMEOUT_S", 1.5)
    secured.microsoft.delay_s = 5.0  # slower than the coach waits
    token = secured.microsoft.sign(secured.claims())
    pending = asyncio.ensure_future(secured.post(token))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    async with secured.http.get("/healthz") as health:
        assert health.status == 200
    assert time.monotonic() - started < 1.0
    assert not pending.done()  # the slow key fetch is still under way, the loop is free
    assert await pending == 401  # cut off by the timeout, not left hanging
    assert "could not fetch the token-signing keys" in caplog.text

    started = time.monotonic()  # the next requests do not each wait for the endpoint again
    assert await secured.post(token) == 401
    assert time.monotonic() - started < 1.0
    assert (await store.load(HERE)).partnership.name is None


async def test_an_unreachable_key_endpoint_is_a_401_with_its_reason_logged(coach, caplog):
    settings = Settings(
        teams_app_id=APP_ID, teams_app_password=Secret("s"), teams_app_type="SingleTenant",
        teams_tenant_id=APP_TENANT, teams_openid_metadata_url="http://127.0.0.1:9/metadata",
    )  # fmt: skip
    app = await build_web_app(coach, settings)
    server = TestServer(app)
    await server.start_server()
    try:
        async with ClientSession(base_url=server.make_url("/")) as http:
            activity = {"type": "message", "id": "x1", "serviceUrl": "http://127.0.0.1:9/",
                        "channelId": "msteams", "from": {"id": "29:m"}, "recipient": BOT,
                        "conversation": {"id": CHANNEL, "tenantId": TENANT},
                        "text": 'setup "Forged"'}  # fmt: skip
            token = jwt.encode({"aud": APP_ID}, "k" * 32, algorithm="HS256", headers={"kid": "a"})
            started = time.monotonic()
            for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, _rs256_header(token)):
                async with http.post("/api/messages", json=activity, headers=headers) as r:
                    assert r.status == 401
            assert time.monotonic() - started < 2.0
    finally:
        await server.close()
    assert "could not fetch the token-signing keys from http://127.0.0.1:9/metadata" in caplog.text


async def test_an_unreachable_token_authority_fails_fast_with_its_reason_logged(
    secured, coach, caplog
):
    settings = replace(secured.settings, teams_authority="https://127.0.0.1:9/adfs")
    app = await build_web_app(coach, settings)
    server = TestServer(app)
    await server.start_server()
    try:
        async with ClientSession(base_url=server.make_url("/")) as http:
            activity = secured.teams.activity("city", text='setup "Trails"')
            token = secured.microsoft.sign(secured.claims())
            started = time.monotonic()
            headers = {"Authorization": f"Bearer {token}"}
            async with http.post("/api/messages", json=activity, headers=headers) as r:
                assert r.status == 503  # authenticated, but the bot cannot get its own token
            assert time.monotonic() - started < 5.0
    finally:
        await server.close()
    assert "cannot get the bot's tokens" in caplog.text
    assert secured.connector.sent == []


def _rs256_header(token: str) -> dict[str, str]:
    """A token whose header claims RS256 (its signature is beside the point: no key is
    fetched to check it)."""
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"a","typ":"JWT"}').rstrip(b"=")
    return {"Authorization": f"Bearer {header.decode()}.{token.split('.', 1)[1]}"}


async def test_a_redelivered_activity_is_handled_once(teams, store):
    await set_up_three_partners(teams)
    activity = teams.activity("chamber", text='decide "Meet monthly"')
    assert await teams.post(activity) == 202
    assert await teams.post(activity) == 202
    assert sum("proposes D1" in t for t in teams.connector.texts()) == 1
    assert list((await store.load(HERE)).partnership.decisions) == ["D1"]


async def test_throttled_sends_are_retried_and_failures_logged(teams, caplog, monkeypatch):
    monkeypatch.setattr("bot.adapters.teams.SEND_BACKOFF_S", 0.01)
    monkeypatch.setattr("bot.adapters.teams.RETRY_AFTER_CAP_S", 0.2)
    caplog.set_level(logging.INFO, "bot.adapters.teams")
    teams.connector.failures = [429, 503]
    teams.connector.retry_after = "3600"  # an hour: the turn waits only up to the cap
    started = time.monotonic()
    await teams.say("city", 'setup "Trails"')
    assert time.monotonic() - started < 5.0
    assert "Teams answered 429; retrying in 0.2 s" in caplog.text
    teams.connector.retry_after = None
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
    typed_wrong = (
        b'{"type": "message", "serviceUrl": "http://x/", "conversation": {"id": "c"}, "from": 5}'
    )
    for body in (b"{not json", b"[]", b'{"type": 5}', b'{"type": "message"}', typed_wrong):
        async with teams.http.post(
            "/api/messages", data=body, headers={"Content-Type": "application/json"}
        ) as r:
            assert 400 <= r.status < 500, body
    assert await store.revision(HERE.conversation) == 0
    assert (await teams.http.get("/healthz")).status == 200


async def test_unknown_and_stale_card_actions_get_a_clear_reply_in_private(teams, store):
    await set_up_three_partners(teams)
    await teams.post(teams.activity("ngo", value={"coach": "frobnicate", "step": None}))
    (chat,) = teams.connector.personal("29:ngo")  # the NGO's 1:1 chat with the coach
    assert 'I don\'t know the command "frobnicate"' in teams.connector.texts(chat)[-1]
    await teams.say("chamber", 'decide "Meet monthly"')
    first = teams.connector.sent[-1]
    await teams.say("chamber", 'revise D1 "Meet every six weeks"')
    await teams.click("ngo", first, "Endorse")  # the button of the first version
    assert "That button belongs to an earlier message" in teams.connector.texts(chat)[-1]
    assert len(teams.connector.personal("29:ngo")) == 1  # the same 1:1 chat again
    assert not any(
        "earlier message" in t or "frobnicate" in t for t in teams.connector.texts(CHANNEL)
    )
    assert (await store.load(HERE)).partnership.decisions["D1"].stances == {}


async def test_a_refusal_reaches_only_the_person_in_a_1_on_1_chat(teams, store):
    await set_up_three_partners(teams)
    in_channel = len(teams.connector.texts(CHANNEL))
    assert await teams.say("chamber", 'partner add "Regional Transit" government') == 202
    (chat,) = [c for c in teams.connector.created if c.parameters["members"] == [{"id": "29:chamber"}]]
    assert chat.parameters["members"] == [{"id": "29:chamber"}]
    assert chat.parameters["isGroup"] is False
    assert chat.parameters["tenantId"] == TENANT
    assert chat.parameters["bot"]["id"] == BOT["id"]
    refusal = [s for s in teams.connector.sent if s.conversation == chat.id][-1]
    assert refusal.activity["text"].startswith("Only a facilitator of this partnership")
    assert len(teams.connector.texts(CHANNEL)) == in_channel  # nothing in the channel
    assert "Regional Transit" not in (await store.load(HERE)).partnership.orgs

    # the core can address one person too, from any process: the same 1:1 chat
    elsewhere = TeamsChannel(teams.channel.coach, Settings(teams_emulator=True))
    assert await elsewhere.deliver_private(HERE, "29:chamber", Reply("Just for you"))
    assert teams.connector.sent[-1].conversation == chat.id
    assert teams.connector.texts(chat.id)[-1] == "Just for you"
    assert len(teams.connector.personal("29:chamber")) == 1
    assert not await elsewhere.deliver_private(
        Address("teams", TENANT, "19:never"), "29:x", Reply("x")
    )


async def test_in_a_1_on_1_chat_a_private_reply_is_the_chat_itself(teams, store):
    personal = {"id": "a:personal-city", "conversationType": "personal", "tenantId": TENANT}
    assert await teams.post(teams.activity("city", text="partners", conversation=personal)) == 202
    (reply,) = teams.connector.sent  # no partnership to act in yet: said in the chat itself
    assert reply.conversation == "a:personal-city"

    await set_up_three_partners(teams)  # the city acts in the channel's partnership from now on
    sent = len(teams.connector.sent)
    assert await teams.post(teams.activity("city", text="frobnicate", conversation=personal)) == 202
    (reply,) = teams.connector.sent[sent:]
    assert reply.conversation == "a:personal-city"
    assert 'I don\'t know the command "frobnicate"' in reply.activity["text"]
    assert teams.connector.personal("29:city") == []  # the chat itself, no other 1:1 chat


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
        '- D1 [proposed] "Meet monthly", waiting on City of Sacramento, Metro Chamber and Clean '
        "Air Coalition" in agenda
    )
    assert "Scorecard items still open (27):" in agenda

    for user in ("chamber", "ngo", "city"):
        await teams.say(user, "endorse D1")
    end = start | {"name": "application/vnd.microsoft.meetingEnd"}
    await teams.post(teams.activity("city", **end))
    summary = teams.connector.texts()[-1]
    assert 'Agreed during the meeting:\n- D1 [agreed] "Meet monthly"' in summary
    assert 'Still open:\n- D2 [proposed] "Share one dashboard"' in summary


async def test_a_check_in_can_be_sent_later_from_any_process(teams, coach, store):
    update = {"type": "conversationUpdate", "membersAdded": [BOT]}
    assert await teams.post(teams.activity("city", **update)) == 202
    assert teams.connector.sent == []  # nothing to say yet, but the conversation is known
    assert await store.reference(HERE) is not None

    elsewhere = TeamsChannel(coach, Settings(teams_emulator=True))  # another process, say
    assert await elsewhere.send(HERE, [Reply("Time for this week's check-in.")], Receipt("t"))
    (sent,) = teams.connector.sent
    assert (sent.method, sent.conversation, sent.activity_id, sent.activity["text"]) == (
        "POST",
        CHANNEL,
        None,  # a new post in the channel, not a reply to some earlier message
        "Time for this week's check-in.",
    )
    assert not await elsewhere.send(Address("teams", TENANT, "19:never-seen"), [Reply("x")], Receipt("t"))


async def test_a_partnership_set_up_again_after_its_deletion_still_gets_check_ins(
    teams, coach, store
):
    """Deleting a partnership removes the channel's conversation reference with the rest; the
    next message in the channel keeps it again, though it is the same as before."""
    await set_up_three_partners(teams)
    await teams.say("city", "partnership delete")
    asked = teams.connector.sent[-1]
    assert await teams.click("city", asked, "Delete everything") == 200
    assert (await store.load(HERE)).partnership.name is None
    assert await store.reference(HERE) is None

    await teams.say("city", 'setup "Sacramento Transportation Collaborative"')
    assert await teams.channel.send(HERE, [Reply("Weekly check-in")], Receipt("t"))
    assert teams.connector.sent[-1].activity["text"] == "Weekly check-in"


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
    member = (await store.load(HERE)).partnership.members["29:guest"]
    assert (member.org, member.pending) == (None, "metro-chamber")  # asked, not yet confirmed

    await teams.say("city", 'partner identity "Metro Chamber" domain metrochamber.org')
    await teams.say("guest", "join")  # the email domain Teams reports confirms it
    assert (await store.load(HERE)).partnership.members["29:guest"].org == "metro-chamber"


async def test_check_ins_go_to_the_channel_not_the_last_thread(teams, coach, store):
    await set_up_three_partners(teams)
    in_thread = teams.activity("city", text="partners")
    in_thread["conversation"] = in_thread["conversation"] | {"id": f"{CHANNEL};messageid=1699999"}
    assert await teams.post(in_thread) == 202
    assert await teams.channel.send(HERE, [Reply("Weekly check-in")], Receipt("t"))
    assert teams.connector.sent[-1].conversation == CHANNEL

    teams.connector.failures = [500] * 4
    assert not await teams.channel.send(HERE, [Reply("Another")], Receipt("t"))  # failures are reported


async def test_meeting_events_where_no_partnership_is_set_up_stay_quiet(teams):
    start = {"type": "event", "name": "application/vnd.microsoft.meetingStart", "value": {}}
    assert await teams.post(teams.activity("city", **start)) == 202
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


def test_the_documented_variables_map_onto_the_sdks_connection_settings():
    single = auth_configuration(Settings.from_env({
        "MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "s3cret",
        "MicrosoftAppType": "SingleTenant", "MicrosoftAppTenantId": APP_TENANT,
    }))  # fmt: skip
    assert (single.AUTH_TYPE, single.CLIENT_ID, single.TENANT_ID, single.CLIENT_SECRET) == (
        "ClientSecret",
        APP_ID,
        APP_TENANT,
        "s3cret",
    )
    legacy = auth_configuration(
        Settings.from_env({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "s3cret"})
    )
    assert legacy.TENANT_ID == "botframework.com"  # where multi-tenant bots get tokens
    managed = auth_configuration(Settings.from_env({
        "MicrosoftAppId": APP_ID, "MicrosoftAppType": "UserAssignedMSI",
        "MicrosoftAppTenantId": APP_TENANT,
    }))  # fmt: skip
    assert (managed.AUTH_TYPE, managed.CLIENT_ID, managed.CLIENT_SECRET) == (
        "UserManagedIdentity",
        APP_ID,
        None,
    )
    gov = Settings.from_env({
        "MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "s3cret",
        "MicrosoftAppType": "SingleTenant", "MicrosoftAppTenantId": APP_TENANT,
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__AUTHORITY":
            f"https://login.microsoftonline.us/{APP_TENANT}",
    })  # fmt: skip
    assert f"https://login.microsoftonline.us/{APP_TENANT}" == auth_configuration(gov).AUTHORITY
    emulator = auth_configuration(Settings.from_env({"TEAMS_EMULATOR": "true"}))
    assert emulator.ANONYMOUS_ALLOWED and emulator.CLIENT_ID is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": APP_ID},
         "set 'MicrosoftAppId' instead"),
        ({"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "x"},
         "set 'MicrosoftAppPassword' instead"),
        ({"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__SCOPES": "x"},
         "the coach takes only CONNECTIONS__SERVICE_CONNECTION__SETTINGS__AUTHORITY"),
        ({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "x",
          "MicrosoftAppType": "SingleTenant"}, "'MicrosoftAppTenantId' is not set"),
        ({"MicrosoftAppId": APP_ID, "MicrosoftAppType": "UserAssignedMSI",
          "MicrosoftAppTenantId": APP_TENANT, "MicrosoftAppPassword": "x"},
         "a UserAssignedMSI bot has no password"),
        ({"MicrosoftAppId": APP_ID}, "'MicrosoftAppPassword' is not set"),
    ],
)  # fmt: skip
def test_teams_settings_that_cannot_map_stop_the_start_with_a_clear_message(env, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_env(env)


async def test_a_text_document_too_long_for_a_card_is_offered_by_link(teams, monkeypatch):
    """Teams refuses a message over about 28 KB: a Markdown export longer than a card shows is
    a download link to the whole file; without a public URL the card shows it up to a line."""
    monkeypatch.setattr("bot.adapters.teams.INLINE_LIMIT", 600)
    await set_up_three_partners(teams)
    for n in range(6):
        assert await teams.say("chamber", f'decide "Meet monthly, proposal {n}"') == 202
    base = str(teams.http._base_url).rstrip("/")
    teams.channel.public_url = base
    assert await teams.say("city", "export decisions md") == 202
    card = teams.connector.card(teams.connector.sent[-1])
    (action,) = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    assert action["title"].endswith(".md")
    async with teams.http.get(action["url"].removeprefix(base)) as got:
        whole = await got.text()
    assert len(whole) > 600 and all(f"proposal {n}" in whole for n in range(6))
    assert all(whole not in b["text"] for b in card["body"])  # not inlined as well

    teams.channel.public_url = ""  # no public URL: the card shows what fits, marked as cut
    assert await teams.say("city", "export decisions md") == 202
    card = teams.connector.card(teams.connector.sent[-1])
    shown = card["body"][-1]["text"]
    assert shown.endswith("[…]") and len(shown) <= 603
    assert whole.startswith(shown.removesuffix("[…]"))


PERSONAL_CITY = {"id": "a:personal-city", "conversationType": "personal", "tenantId": TENANT}


def archive_link(teams: Teams, conversation: str) -> tuple[str, str]:
    """The archive's download link in the last card sent to `conversation`: (its file name,
    its path on the coach's web app)."""
    (sent,) = [s for s in teams.connector.sent if s.conversation == conversation][-1:]
    card = teams.connector.card(sent)
    (action,) = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    assert action["url"] in sent.activity["text"]  # the plain-text fallback has it too
    base = str(teams.http._base_url).rstrip("/")
    return action["title"], action["url"].removeprefix(base)


async def download(teams: Teams, path: str) -> tuple[int, bytes]:
    async with teams.http.get(path) as got:
        return got.status, await got.read()


async def test_the_archive_reaches_only_the_facilitator_by_link_and_ends_with_the_partnership(
    teams, coach, store, content
):
    """The archive holds everyone's words: Teams gives the facilitator who asked a download
    link in their 1:1 chat, never in the channel. A link made in the 1:1 chat is filed under
    the partnership, so deleting the partnership ends it; a later archive holds an earlier one
    by its size and SHA-256, not its bytes."""
    import hashlib
    import io
    import json
    import zipfile

    teams.channel.public_url = str(teams.http._base_url).rstrip("/")
    await set_up_three_partners(teams)
    await teams.say("chamber", 'decide "Meet monthly"')
    in_channel = len(teams.connector.texts(CHANNEL))
    assert await teams.say("city", "export archive") == 202
    assert len(teams.connector.texts(CHANNEL)) == in_channel  # nothing in the channel
    (chat,) = teams.connector.personal("29:city")
    name, first = archive_link(teams, chat)
    assert name == "sacramento-transportation-air-quality-collaborative-archive-2026-04-14.zip"
    status, first_zip = await download(teams, first)
    assert status == 200
    assert "Meet monthly" in zipfile.ZipFile(io.BytesIO(first_zip)).read("decisions.csv").decode()

    # asked again in the 1:1 chat itself: the link comes there
    assert await teams.post(teams.activity("city", text="export archive", conversation=PERSONAL_CITY)) == 202
    _, second = archive_link(teams, PERSONAL_CITY["id"])
    status, second_zip = await download(teams, second)
    assert status == 200 and second != first
    dumped = json.loads(zipfile.ZipFile(io.BytesIO(second_zip)).read("redis.json"))
    kept = json.loads(dumped["keys"][f"{store.prefix}:file:{first.rsplit('/', 1)[1]}"]["value"])
    assert "data" not in kept  # archives do not nest
    assert kept["size"] == len(first_zip)
    assert kept["sha256"] == hashlib.sha256(first_zip).hexdigest()
    assert len(second_zip) < 2 * len(first_zip)

    # deleted from the channel: both links end, and nothing naming the partnership is left
    assert await teams.say("city", "partnership delete") == 202
    confirm = [s for s in teams.connector.sent if s.conversation == CHANNEL][-1]
    assert await teams.click("city", confirm, said(content, "records.delete_yes_choice")) == 200
    for link in (first, second):
        status, body = await download(teams, link)
        assert status == 404 and body.decode() == said(content, "report.link_expired")
        assert await store.file(link.rsplit("/", 1)[1]) is None
    assert [k for k in await store.scan(f"{store.prefix}:*") if HERE.conversation in k] == []


async def test_without_a_public_url_teams_refuses_the_archive_and_changes_nothing(teams, store):
    teams.channel.public_url = ""
    await set_up_three_partners(teams)
    rev = await store.revision(HERE.conversation)
    journal = await store.journal(HERE.conversation)
    assert await teams.say("city", "export archive") == 202
    (chat,) = teams.connector.personal("29:city")
    (refusal,) = teams.connector.texts(chat)
    assert refusal == said(
        teams.channel.coach.content,
        "records.archive_needs_link",
        partnership="Sacramento Transportation & Air Quality Collaborative",
        id=HERE.conversation,
    )
    assert await store.revision(HERE.conversation) == rev
    assert await store.journal(HERE.conversation) == journal
    assert await store.scan(f"{store.prefix}:file:*") == []


async def test_a_new_partnership_starts_in_the_time_zone_the_teams_client_gives(teams, store):
    mention = {"type": "mention", "mentioned": BOT, "text": "<at>Coach</at>"}
    setup = teams.activity(
        "city",
        text='<at>Coach</at> setup "Bay Area Shelters"',
        entities=[mention],
        localTimezone="America/Los_Angeles",
    )
    assert await teams.post(setup) == 202
    assert (await store.load(HERE)).partnership.tz == "America/Los_Angeles"
