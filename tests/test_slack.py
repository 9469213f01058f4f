"""Slack end to end: signed requests over HTTP to the coach's aiohttp app, with its slack_sdk
client pointed at a local stand-in for the Slack Web API that records every call."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.adapters.slack import CLOCK_SKEW_S, SlackChannel, render_blocks
from bot.adapters.slack.render import SECTION_TEXT_LIMIT, escape
from bot.config import Secret, Settings
from bot.model import Address, Choice, Reply
from bot.scheduler import send_checkin
from bot.web import PLATFORMS_KEY, build_web_app
from tests.conftest import said
from tests.fake_slack import TEAM, FakeSlack, signed_headers

SECRET = "test-signing-secret"
CHANNEL = "C1"
HERE = Address("slack", TEAM, CHANNEL)


@dataclass
class Slack:
    """Drives the coach's Slack endpoint the way Slack does, and reads what it posted back."""

    fake: FakeSlack
    http: ClientSession
    channel: SlackChannel
    answer: str = ""  # the body of the last response, as Slack would read it

    async def post(self, body: str, content_type: str, **headers: str) -> int:
        async with self.http.post(
            "/slack/events",
            data=body.encode(),
            headers={"Content-Type": content_type, **signed_headers(SECRET, body), **headers},
        ) as response:
            status = response.status
            self.answer = await response.text()
        await self.channel.drain()
        return status

    async def command(self, user: str, text: str, channel: str = CHANNEL, team: str = TEAM) -> int:
        body = urlencode({
            "token": "legacy", "team_id": team, "channel_id": channel, "user_id": user,
            "user_name": user.lower(), "command": "/coach", "text": text,
            "trigger_id": f"trig-{time.monotonic_ns()}", "api_app_id": "A1",
            "response_url": "https://hooks.example/response",
        })  # fmt: skip
        return await self.post(body, "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], event_id: str, **headers: str) -> int:
        body = json.dumps({
            "token": "legacy", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
            "event_id": event_id, "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        })  # fmt: skip
        return await self.post(body, "application/json", **headers)

    async def interact(self, payload: dict[str, Any]) -> int:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def click(self, user: str, message: dict[str, Any], label: str) -> int:
        """Click the button labelled `label` on a message the coach posted (or updated)."""
        button = next(
            e
            for block in message["blocks"]
            if block["type"] == "actions"
            for e in block["elements"]
            if e["text"]["text"] == label
        )
        return await self.interact({
            "type": "block_actions", "user": {"id": user, "team_id": TEAM}, "team": {"id": TEAM},
            "api_app_id": "A1", "trigger_id": "t", "channel": {"id": message["channel"]},
            "container": {"type": "message", "message_ts": message.get("ts", ""),
                          "channel_id": message["channel"], "thread_ts": message.get("thread_ts")},
            "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "b",
                         "value": button["value"], "action_ts": str(time.time())}],
        })  # fmt: skip

    def said(self) -> list[str]:
        """The text of every message, ephemeral message and update, in order."""
        methods = {"chat.postMessage", "chat.postEphemeral", "chat.update"}
        return [c.params["text"] for c in self.fake.calls if c.method in methods]

    def last(self, method: str) -> dict[str, Any]:
        return self.fake.of(method)[-1]


@pytest.fixture
async def slack(coach):
    fake = FakeSlack()
    await fake.start()
    settings = Settings(
        slack_bot_token=Secret("xoxb-test"),
        slack_signing_secret=Secret(SECRET),
        slack_api_url=fake.api_url,
    )
    app = await build_web_app(coach, settings)
    server = TestServer(app)
    await server.start_server()
    http = ClientSession(base_url=server.make_url("/"))
    yield Slack(fake, http, app[PLATFORMS_KEY]["slack"])  # type: ignore[arg-type]
    await http.close()
    await server.close()
    await fake.close()


async def set_up_three_partners(slack: Slack) -> None:
    for user, text in [
        ("ULEAD", 'setup "Sacramento Transportation & Air Quality Collaborative"'),
        ("ULEAD", 'partner add "City of Sacramento" government'),
        ("ULEAD", 'partner add "Metro Chamber" business'),
        ("ULEAD", 'partner add "Clean Air Coalition" nonprofit'),
        ("ULEAD", 'join "City of Sacramento"'),
        ("UCHAMBER", 'join "Metro Chamber"'),
        ("UNGO", 'join "Clean Air Coalition"'),
        ("ULEAD", "member confirm @UCHAMBER"),
        ("ULEAD", "member confirm <@UNGO>"),
    ]:
        assert await slack.command(user, text) == 200


def test_a_reply_renders_as_block_kit():
    reply = Reply(
        text="Metro Chamber & <@U1> endorse D1 <!channel>",
        choices=(Choice("Endorse", "endorse D1", "D1:r1"), Choice("Object D1", "object D1", "D1:r1")),
        preformatted="Family  Item",
    )
    assert render_blocks(reply) == [
        {"type": "section", "text": {"type": "mrkdwn",
         "text": "Metro Chamber &amp; <@U1> endorse D1 &lt;!channel&gt;"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "```Family  Item```"}},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": "coach.choice.0",
             "text": {"type": "plain_text", "text": "Endorse"},
             "value": '{"c": "endorse D1", "s": "D1:r1"}',
             "accessibility_label": "Endorse (endorse D1)"},  # what a screen reader says
            {"type": "button", "action_id": "coach.choice.1",
             "text": {"type": "plain_text", "text": "Object D1"},
             "value": '{"c": "object D1", "s": "D1:r1"}'},  # the label says it all
        ]},
    ]  # fmt: skip


def test_a_long_reply_is_split_between_lines_never_cut_off():
    """Block Kit takes 3,000 characters a section: a longer grid goes into several sections,
    split between its lines, each still fixed-width, and every line is shown."""
    lines = [f"item.{n:03}  Partially in place  City & Chamber" for n in range(120)]
    blocks = render_blocks(Reply(text="Status", preformatted="\n".join(lines)))
    grids = [b["text"]["text"] for b in blocks[1:]]
    assert len(grids) > 1 and all(len(g) <= SECTION_TEXT_LIMIT for g in grids)
    assert all(g.startswith("```") and g.endswith("```") for g in grids)
    shown = "\n".join(g.strip("`") for g in grids)
    assert shown.replace("&amp;", "&") == "\n".join(lines)
    (one,) = render_blocks(Reply(text="x" * 7000))[:1]  # one unbroken line: split, all of it
    assert len(one["text"]["text"]) == SECTION_TEXT_LIMIT
    assert sum(len(b["text"]["text"]) for b in render_blocks(Reply(text="x" * 7000))) == 7000


async def test_a_scorecard_session_with_three_organizations_endorsing(slack, store):
    await set_up_three_partners(slack)
    assert "joins the partnership" in slack.said()[1]

    assert await slack.command("ULEAD", "scorecard who why what") == 200
    started, question = slack.fake.of("chat.postMessage")[-2:]
    assert "Let's work through Who?, Why? and What?" in started["text"]
    assert question["thread_ts"] is not None  # the round has a thread of its own
    assert "Who? (1 of 12) who.partners" in question["text"]

    await slack.click("ULEAD", question | {"ts": "q1"}, "Partially in place")
    rated = slack.last("chat.postMessage")
    assert rated["text"].startswith("ulead rated who.partners for City of Sacramento: Partially")
    assert rated["thread_ts"] == question["thread_ts"]

    await slack.click("UCHAMBER", rated, "Next question")
    assert "who.representatives" in slack.last("chat.postMessage")["text"]

    body = '"Each partner names one representative and one alternate by May 1"'
    await slack.command("UCHAMBER", f"decide {body} --item who.representatives")
    card = slack.last("chat.postMessage")
    assert card["text"].startswith("uchamber (Metro Chamber) proposes D1")
    card_ts = await store.message_id(HERE, "decision:D1")
    assert card_ts is not None

    for user in ("UCHAMBER", "UNGO"):
        await slack.click(user, card | {"ts": card_ts}, "Endorse")
        update = slack.last("chat.update")
        assert update["ts"] == card_ts  # the card changes in place
        card = update | {"channel": CHANNEL}
    assert "waiting on: City of Sacramento." in card["text"]
    await slack.click("ULEAD", card | {"ts": card_ts}, "Endorse")
    final = slack.last("chat.update")
    assert final["ts"] == card_ts
    assert final["text"].startswith("D1 is now agreed: every partner organization endorsed it.")
    assert not [b for b in final["blocks"] if b["type"] == "actions"]  # nothing left to click

    snapshot = await store.load(HERE)
    assert snapshot.partnership.decisions["D1"].agreed_at is not None
    assert snapshot.partnership.ratings["who.partners"].history[-1].by == "ULEAD"
    assert all(c.params["_auth"] == "Bearer xoxb-test" for c in slack.fake.calls)


async def test_a_request_with_a_bad_or_stale_signature_is_refused(slack, store):
    body = urlencode({"team_id": TEAM, "channel_id": CHANNEL, "user_id": "U1", "command": "/coach",
                      "text": 'setup "Forged"'})  # fmt: skip
    for headers in (
        signed_headers("wrong-secret", body),
        signed_headers(SECRET, body, timestamp=int(time.time()) - 600),
        {},
    ):
        async with slack.http.post(
            "/slack/events",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        ) as response:
            assert response.status == 401
    await slack.channel.drain()
    assert [c.method for c in slack.fake.calls if c.method != "auth.test"] == []
    assert (await store.load(HERE)).partnership.name is None


async def test_a_retried_event_is_handled_once(slack, store):
    await set_up_three_partners(slack)
    mention = {"type": "app_mention", "user": "UCHAMBER", "channel": CHANNEL, "ts": "1.1",
               "text": '<@UBOT> decide "Meet on the first Tuesday"'}  # fmt: skip
    assert await slack.event(mention, "Ev42") == 200
    assert (
        await slack.event(
            mention, "Ev42", **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        )
        == 200
    )
    proposals = [t for t in slack.said() if "proposes D1" in t]
    assert len(proposals) == 1
    assert list((await store.load(HERE)).partnership.decisions) == ["D1"]


async def test_a_rate_limited_post_is_retried_after_retry_after(slack):
    slack.fake.fail_next("chat.postMessage", 429, headers={"Retry-After": "1"})
    await slack.command("ULEAD", 'setup "Trails"')
    posts = slack.fake.of("chat.postMessage")
    assert len(posts) == 2
    assert posts[0]["text"] == posts[1]["text"]


async def test_a_post_that_keeps_failing_is_logged_with_its_conversation(slack, caplog):
    slack.fake.fail_next("chat.postMessage", 200, body={"ok": False, "error": "channel_not_found"})
    await slack.command("ULEAD", 'setup "Trails"')
    assert "could not post to Slack conversation slack:T1:C1" in caplog.text
    assert "channel_not_found" in caplog.text


async def test_a_reaction_on_a_decision_card_endorses_it(slack, store):
    await set_up_three_partners(slack)
    await slack.command("UCHAMBER", 'decide "Share one air-quality dashboard"')
    card_ts = await store.message_id(HERE, "decision:D1")
    reaction = {"type": "reaction_added", "user": "UNGO", "reaction": "white_check_mark",
                "item": {"type": "message", "channel": CHANNEL, "ts": card_ts}}  # fmt: skip
    await slack.event(reaction, "Ev7")
    assert slack.last("chat.update")["ts"] == card_ts
    assert (await store.load(HERE)).partnership.decisions["D1"].endorsed_by() == [
        "clean-air-coalition"
    ]
    other = reaction | {"item": {"type": "message", "channel": CHANNEL, "ts": "999.1"}}
    await slack.event(other | {"user": "UCHAMBER"}, "Ev8")  # a tick on an ordinary message
    assert (await store.load(HERE)).partnership.decisions["D1"].endorsed_by() == [
        "clean-air-coalition"
    ]


async def test_log_as_decision_turns_a_message_into_a_proposal(slack, store):
    await set_up_three_partners(slack)
    text = 'We\'ll publish the "clean air" plan by June'
    await slack.interact({
        "type": "message_action", "callback_id": "coach_log_as_decision", "trigger_id": "t",
        "user": {"id": "UNGO", "team_id": TEAM}, "team": {"id": TEAM},
        "channel": {"id": CHANNEL}, "message": {"type": "message", "text": text, "ts": "5.5"},
        "message_ts": "5.5", "response_url": "https://hooks.example/r",
    })  # fmt: skip
    assert (await store.load(HERE)).partnership.decisions["D1"].text == text


async def test_export_uploads_a_file(slack):
    await set_up_three_partners(slack)
    await slack.command("UCHAMBER", 'decide "Meet monthly"')
    await slack.command("ULEAD", "export decisions csv")
    complete = slack.last("files.completeUploadExternal")
    title = json.loads(complete["files"])[0]["title"]
    assert re.fullmatch(r"sacramento-transportation-air-quality-collaborative-decision-log-"
                        r"\d{4}-\d\d-\d\d\.csv", title)
    (content,) = slack.fake.uploads.values()
    assert b"D1,proposed,Meet monthly" in content


async def test_the_archive_goes_to_the_facilitators_direct_messages_not_the_channel(
    slack, store, content
):
    """It holds everything people wrote: uploaded into the asker's direct conversation with the
    coach, with the coach's message as its comment; the channel sees nothing of it, the asker
    a note there."""
    await set_up_three_partners(slack)
    await slack.command("UCHAMBER", 'decide "Meet monthly"')
    in_channel = len(slack.fake.messages(CHANNEL))
    calls = len(slack.fake.calls)
    assert await slack.command("ULEAD", "export archive") == 200
    assert slack.last("conversations.open")["users"] == "ULEAD"
    name = "sacramento-transportation-air-quality-collaborative-archive-2026-04-14.zip"
    complete = slack.last("files.completeUploadExternal")
    assert complete["channel_id"] == "DULEAD"  # the stand-in's direct conversation with ULEAD
    assert complete["initial_comment"] == escape(
        said(
            content,
            "records.archive_ready",
            partnership="Sacramento Transportation & Air Quality Collaborative",
            file=name,
        )
    )
    (shared,) = [m for m in slack.fake.messages("DULEAD") if "files" in m]
    assert shared["files"][0]["name"] == name
    archive = zipfile.ZipFile(io.BytesIO(slack.fake.uploads[shared["files"][0]["id"]]))
    assert "Meet monthly" in archive.read("decisions.csv").decode()
    assert len(slack.fake.messages(CHANNEL)) == in_channel  # nothing posted in the channel
    # only a note to the asker, where they asked, that says where the file went
    (note,) = [c for c in slack.fake.calls[calls:] if c.method == "chat.postEphemeral"]
    assert (note.params["channel"], note.params["user"]) == (CHANNEL, "ULEAD")
    assert note.params["text"] == escape(said(content, "slack.file_sent_directly", file=name))


async def test_bad_input_gets_an_ephemeral_reply_and_unknown_buttons_are_stale(slack, store):
    await set_up_three_partners(slack)
    await slack.command("UCHAMBER", "endorse D9")
    ephemeral = slack.last("chat.postEphemeral")
    assert ephemeral["user"] == "UCHAMBER"
    assert "none has been proposed yet" in ephemeral["text"]

    forged = {"channel": CHANNEL, "ts": "1.1", "blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "coach.choice.0", "text": {"type": "plain_text",
         "text": "Go"}, "value": "not json"}]}]}  # fmt: skip
    await slack.click("UCHAMBER", forged, "Go")
    assert "That button belongs to an earlier message" in slack.last("chat.postEphemeral")["text"]
    rev = await store.revision(HERE.conversation)

    for body, content_type in [
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        ('{"type": "event_callback"}', "application/json"),
        ("", "application/json"),
    ]:
        assert 400 <= await slack.post(body, content_type) < 500
    assert await store.revision(HERE.conversation) == rev
    assert (await slack.http.get("/healthz")).status == 200


def setup_submission(name: str, partners: str, checkins: str = "") -> dict[str, Any]:
    return {
        "type": "view_submission", "team": {"id": TEAM}, "user": {"id": "ULEAD", "team_id": TEAM},
        "api_app_id": "A1", "trigger_id": "t",
        "view": {"id": "V1", "type": "modal", "callback_id": "coach_setup",
                 "private_metadata": CHANNEL, "state": {"values": {
                     "name": {"value": {"type": "plain_text_input", "value": name}},
                     "partners": {"value": {"type": "plain_text_input", "value": partners}},
                     "checkins": {"value": {"type": "plain_text_input", "value": checkins}}}}},
    }  # fmt: skip


async def test_setup_without_a_name_opens_a_form_that_sets_up_the_partnership(slack, store):
    await slack.command("ULEAD", "setup")
    view = slack.last("views.open")["view"]
    assert view["callback_id"] == "coach_setup"
    assert view["private_metadata"] == CHANNEL
    assert [b["label"]["text"] for b in view["blocks"]] == [
        "Partnership name",
        "Partner organizations",
        "Check-ins (optional)",
    ]

    bad = setup_submission("Trails & Transit", "City of Springfield, government\nAcme, industry")
    assert await slack.interact(bad) == 200
    assert json.loads(slack.answer) == {
        "response_action": "errors",
        "errors": {"partners": 'Line 2 ("Acme, industry") needs a name, a comma and a sector: '
                               "government, business, nonprofit or community."},
    }  # fmt: skip
    assert (await store.load(HERE)).partnership.name is None

    good = setup_submission(
        "Trails & Transit",
        "City of Springfield, government\n\nAcme, business",
        "weekly tue 09:00 America/Chicago",
    )
    assert await slack.interact(good) == 200
    assert slack.answer == ""  # the form closes
    assert await store.revision(HERE.conversation) == 1  # set up whole, in one commit
    p = (await store.load(HERE)).partnership
    assert p.name == "Trails & Transit"
    assert [(o.name, o.sector) for o in p.orgs.values()] == [
        ("City of Springfield", "government"),
        ("Acme", "business"),
    ]
    assert "Acme (business) joins the partnership" in slack.said()[-2]
    assert slack.said()[-1].startswith("Check-ins are set: every Tuesday at 9:00 AM")
    assert p.schedule["tz"] == "America/Chicago"


async def test_app_home_lists_the_users_partnerships_and_open_decisions(slack):
    await set_up_three_partners(slack)
    await slack.command("UCHAMBER", 'decide "Meet monthly"')
    await slack.command("UCHAMBER", 'decide "Share one dashboard"')
    await slack.command("UNGO", "endorse D2")
    await slack.command("ULEAD", 'decide "Close the office on Fridays"')
    await slack.command("UNGO", 'object D3 "Our volunteers come on Fridays"')
    await slack.event({"type": "app_home_opened", "user": "UNGO", "tab": "home"}, "Ev9")
    published = slack.last("views.publish")
    assert published["user_id"] == "UNGO"
    texts = [b["text"]["text"] for b in published["view"]["blocks"] if "text" in b]
    assert texts[0] == "Your partnerships"
    assert texts[1] == (
        "Sacramento Transportation &amp; Air Quality Collaborative: open decisions: 3\n"
        '- D1 "Meet monthly", waiting on City of Sacramento, Metro Chamber and Clean Air Coalition\n'
        '- D2 "Share one dashboard", waiting on City of Sacramento and Metro Chamber\n'
        # an objected decision waits on a revision, not on endorsements
        '- D3 "Close the office on Fridays", waiting on a revision, or Clean Air Coalition'
        " changing its stance"
    )

    await slack.event({"type": "app_home_opened", "user": "USTRANGER", "tab": "home"}, "Ev10")
    texts = [b["text"]["text"] for b in slack.last("views.publish")["view"]["blocks"]]
    assert texts[1].startswith("You have not joined a partnership yet.")


async def test_text_is_stored_as_typed_and_people_by_their_display_names(slack, store):
    await set_up_three_partners(slack)
    # Slack sends & < > as entities; the coach stores what the person typed
    await slack.command("UCHAMBER", 'decide "Fund R&amp;D, not &lt;X&gt;"')
    d1 = (await store.load(HERE)).partnership.decisions["D1"]
    assert d1.text == "Fund R&D, not <X>"
    assert d1.proposed_by_name == "uchamber"
    posted = slack.last("chat.postMessage")
    assert 'proposes D1: "Fund R&amp;D, not &lt;X&gt;"' in posted["blocks"][0]["text"]["text"]
    assert "<@" not in posted["text"]  # nobody is pinged by a list of names
    lookups = slack.fake.of("users.info")
    assert sorted({c["user"] for c in lookups}) == ["UCHAMBER", "ULEAD", "UNGO"]
    assert len(lookups) == 3  # cached after the first turn


async def test_a_slack_connect_member_is_offered_the_organization_of_their_workspace(slack, store):
    await set_up_three_partners(slack)
    await slack.command("UCHAMBER", 'decide "Meet monthly"')
    slack.fake.external_users["UEXT"] = "T2"
    slack.fake.teams["T2"] = "Clean Air Coalition"
    await slack.command("UEXT", "endorse D1")
    hint = slack.last("chat.postEphemeral")
    assert hint["user"] == "UEXT"
    assert (
        'Your account looks like it belongs to Clean Air Coalition; if you represent it, type /coach join "Clean Air Coalition"'
        in hint["text"]
    )
    await slack.command("UEXT", "join")
    member = (await store.load(HERE)).partnership.members["UEXT"]
    assert (member.org, member.pending) == (None, "clean-air-coalition")  # asked, not yet confirmed

    await slack.command("ULEAD", 'partner identity "Clean Air Coalition" slack T2')
    await slack.command("UEXT", "join")  # the workspace Slack vouches for confirms it
    assert (await store.load(HERE)).partnership.members["UEXT"].org == "clean-air-coalition"


async def test_a_guest_who_claims_an_organization_cannot_make_a_decision_agreed(slack, store):
    """A Slack Connect guest from another workspace asks to speak for Metro Chamber, the last
    organization a decision waits on: nothing counts until someone who may vouch confirms."""
    await set_up_three_partners(slack)
    await slack.command("ULEAD", 'partner add "Riverside Transit" government')
    await slack.command("ULEAD", 'decide "Meet monthly"')
    for user in ("ULEAD", "UCHAMBER", "UNGO"):
        await slack.command(user, "endorse D1")
    slack.fake.external_users["UGUEST"] = "T9"
    await slack.command("UGUEST", 'join "Riverside Transit"')
    await slack.command("UGUEST", "endorse D1")
    refused = slack.last("chat.postEphemeral")
    assert refused["user"] == "UGUEST" and "still waiting" in refused["text"]
    p = (await store.load(HERE)).partnership
    assert p.decisions["D1"].agreed_at is None
    assert "riverside-transit" not in p.decisions["D1"].endorsed_by()

    await slack.command("UCHAMBER", "member confirm @UGUEST")  # not that organization's member
    assert (await store.load(HERE)).partnership.members["UGUEST"].org is None
    await slack.command("ULEAD", "member confirm @UGUEST")  # a facilitator vouches
    await slack.command("UGUEST", "endorse D1")
    assert (await store.load(HERE)).partnership.decisions["D1"].agreed_at is not None


async def test_the_coach_can_be_installed_into_another_workspace(coach, store):
    fake = FakeSlack()
    await fake.start()
    settings = Settings(
        slack_signing_secret=Secret(SECRET),
        slack_client_id="111.222",
        slack_client_secret=Secret("client-secret"),
        slack_api_url=fake.api_url,
    )
    app = await build_web_app(coach, settings)
    server = TestServer(app)
    await server.start_server()
    http = ClientSession(base_url=server.make_url("/"))
    try:
        async with http.get("/slack/install", allow_redirects=False) as page:
            assert page.status == 200
            state = re.search(r"state=([0-9a-f]+)", await page.text()).group(1)
            cookie = page.headers["Set-Cookie"].split(";", 1)[0]
            assert "scope=commands,chat:write" in await page.text()
        async with http.get(
            f"/slack/oauth_redirect?code=c0de&state={state}", headers={"Cookie": cookie}
        ) as done:
            assert done.status == 200
        assert fake.of("oauth.v2.access")[0]["code"] == "c0de"
        async with http.get(  # a state is good once
            f"/slack/oauth_redirect?code=c0de&state={state}", headers={"Cookie": cookie}
        ) as again:
            assert again.status >= 400

        slack = Slack(fake, http, app[PLATFORMS_KEY]["slack"])  # type: ignore[arg-type]
        assert await slack.command("UX", 'setup "Third partnership"', team="T3") == 200
        post = slack.last("chat.postMessage")
        assert 'Partnership "Third partnership" is set up' in post["text"]
        assert post["_auth"] == "Bearer xoxb-installed"  # the token from the install
        third = Address("slack", "T3", CHANNEL)
        assert (await store.load(third)).partnership.name == "Third partnership"

        await slack.command("UY", "help", team="T9")  # a workspace that never installed
        assert [c for c in fake.calls if c.params.get("_auth") == "Bearer None"] == []
        assert len(fake.of("chat.postMessage")) == 1
    finally:
        await http.close()
        await server.close()
        await fake.close()


async def test_a_setup_form_with_any_mistake_sets_nothing_up(slack, store, content):
    render = content.prompts.render
    cases = [
        (setup_submission("x" * 200, "Acme, business"), "name", "this field takes at most 120"),
        (setup_submission("Trails", "Acme, business\nACME, business"), "partners", "Acme is already a partner"),
        (setup_submission("Trails", "Acme, business", "weekly tue 25:00 America/Chicago"), "checkins", render("schedule.bad_time", time="25:00")),
        (setup_submission("Trails", "Acme, business", "weekly tue 9am"), "checkins", render("schedule.missing_tz", cadence="weekly", weekday="tue", time="09:00")),
        (setup_submission("Trails", "Acme, business", "weekly tue"), "checkins", render("schedule.missing_time", cadence="weekly", weekday="tue")),
    ]  # fmt: skip
    await slack.command("ULEAD", "setup")  # opens the form
    for submission, field, message in cases:
        assert await slack.interact(submission) == 200
        errors = json.loads(slack.answer)["errors"]
        assert list(errors) == [field] and message in errors[field]
    assert (await store.load(HERE)).partnership.name is None
    assert slack.said() == []


async def test_a_setup_form_counts_only_from_who_opened_it_in_that_channel(slack, store):
    """Issue 14, item 6: the form names its channel in `private_metadata`; a submission from
    anyone who did not open it there with /coach setup changes nothing."""
    await slack.command("ULEAD", "setup", channel="C2")  # opened elsewhere
    await slack.command("UOTHER", "setup")  # opened here, by someone else
    assert await slack.interact(setup_submission("Taken over", "Acme, business")) == 200
    errors = json.loads(slack.answer)["errors"]
    assert "opened it with /coach setup" in errors["name"]
    assert await store.revision(HERE.conversation) == 0
    assert slack.said() == []


async def test_only_a_facilitator_can_submit_the_setup_form_for_a_set_up_channel(slack, store):
    await set_up_three_partners(slack)
    revision = await store.revision(HERE.conversation)
    await slack.command("UCHAMBER", "setup")  # a member opens the form in the channel
    form = setup_submission("Taken over", "Acme, business")
    form["user"] = {"id": "UCHAMBER", "team_id": "T1"}
    assert await slack.interact(form) == 200
    errors = json.loads(slack.answer)["errors"]
    assert "name" in errors and all("Only a facilitator" in e for e in errors.values())
    assert await store.revision(HERE.conversation) == revision


async def slack_partnership_due(slack, clock):
    """A partnership in the Slack channel with a weekly check-in; returns its first due time."""
    await set_up_three_partners(slack)
    await slack.command("ULEAD", "checkins weekly tue 09:00 America/Chicago")
    return datetime(2026, 4, 21, 14, 0, tzinfo=UTC)  # Tuesday 09:00 in Chicago


async def test_a_check_in_is_posted_with_its_report_in_the_thread(slack, coach, clock):
    due = await slack_partnership_due(slack, clock)
    couriers = {"slack": slack.channel.send}
    assert await send_checkin(coach, couriers, HERE.conversation, due, due) == "sent"
    (checkin,) = [m for m in slack.fake.messages(CHANNEL) if "metadata" in m]
    assert checkin["text"].startswith('Check-in for "Sacramento Transportation')
    (report,) = [m for m in slack.fake.messages(CHANNEL, checkin["ts"]) if "files" in m]
    assert report["files"][0]["name"] == (
        "sacramento-transportation-air-quality-collaborative-progress-report-2026-04-21.md"
    )
    assert b"# Progress report: Sacramento" in slack.fake.uploads[report["files"][0]["id"]]


async def test_a_check_in_slack_took_before_failing_is_not_posted_again(slack, coach, clock):
    """Slack posted the message but answered 500 (as a worker killed after the post would also
    leave it): the job's next run finds the message in the channel's history, posts only the
    report that is still missing, and records the check-in."""
    due = await slack_partnership_due(slack, clock)
    couriers = {"slack": slack.channel.send}
    slack.fake.fail_next(
        "chat.postMessage", 500, body={"ok": False, "error": "fatal_error"}, after_doing_it=True
    )
    began = time.time()
    assert await send_checkin(coach, couriers, HERE.conversation, due, due) == "undelivered"
    later = due + timedelta(minutes=2)
    assert await send_checkin(coach, couriers, HERE.conversation, due, later) == "sent"
    checkins = [m for m in slack.fake.messages(CHANNEL) if "metadata" in m]
    assert len(checkins) == 1
    reports = [m for m in slack.fake.messages(CHANNEL, checkins[0]["ts"]) if "files" in m]
    assert len(reports) == 1
    # history is read from (a margin before) when the first attempt began, by Redis's clock
    oldest = float(slack.fake.of("conversations.history")[-1]["oldest"])
    assert began - CLOCK_SKEW_S - 5 < oldest <= began - CLOCK_SKEW_S + 5
    # a third run (say the record was lost too) finds both and posts nothing
    await store_forget_last_checkin(coach)
    posts = len(slack.fake.of("chat.postMessage")) + len(
        slack.fake.of("files.completeUploadExternal")
    )
    assert await send_checkin(coach, couriers, HERE.conversation, due, later) == "sent"
    assert posts == len(slack.fake.of("chat.postMessage")) + len(
        slack.fake.of("files.completeUploadExternal")
    )


async def store_forget_last_checkin(coach):
    snapshot = await coach.store.load(HERE)
    p = snapshot.partnership
    p.last_checkin = None
    await coach.store.commit(snapshot, p)


async def test_without_the_history_scopes_a_re_run_posts_again_and_says_why(
    slack, coach, clock, caplog
):
    due = await slack_partnership_due(slack, clock)
    couriers = {"slack": slack.channel.send}
    slack.fake.fail_next(
        "chat.postMessage", 500, body={"ok": False, "error": "fatal_error"}, after_doing_it=True
    )
    assert await send_checkin(coach, couriers, HERE.conversation, due, due) == "undelivered"
    slack.fake.fail_next("conversations.history", 200, body={"ok": False, "error": "missing_scope"})
    assert await send_checkin(coach, couriers, HERE.conversation, due, due) == "sent"
    assert len([m for m in slack.fake.messages(CHANNEL) if "metadata" in m]) == 2
    assert "add the scopes channels:history and groups:history" in caplog.text


def test_the_manifest_asks_for_the_scopes_the_coach_installs_with():
    import yaml

    from bot.config import SLACK_SCOPES
    from tests.conftest import project_path

    manifest = yaml.safe_load(project_path("slack", "manifest.yml").read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(SLACK_SCOPES)


async def test_a_new_partnership_starts_in_its_facilitators_time_zone(slack, store, content):
    slack.fake.time_zones["ULEAD"] = "America/Denver"  # from the person's Slack profile
    assert await slack.command("ULEAD", 'setup "Front Range Transit"') == 200
    p = (await store.load(HERE)).partnership
    assert p.tz == "America/Denver"
    created = slack.fake.of("chat.postMessage")[-1]["text"]
    assert escape(said(content, "setup.zone_step_set", tz="America/Denver")) in created


async def test_the_setup_form_takes_check_ins_in_the_facilitators_time_zone(slack, store):
    slack.fake.time_zones["ULEAD"] = "America/Denver"
    await slack.command("ULEAD", "setup")  # opens the form
    assert await slack.interact(setup_submission("Trails", "Acme, business", "weekly tue 9am")) == 200
    assert slack.answer == ""  # the form closes: no zone needed, the person's is known
    p = (await store.load(HERE)).partnership
    assert p.tz == "America/Denver" and p.schedule is not None
    assert p.schedule["tz"] == "America/Denver"
