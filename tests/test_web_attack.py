"""The web process tried from outside as an attacker (or a broken proxy) would: download links,
Teams' and Slack's endpoints with bodies of every wrong kind, over HTTP to the real app, with
the stand-ins for Slack, the Bot Framework connector and Microsoft's token endpoints, and a
real Redis. Whatever comes in: a 4xx or a polite reply, never a 5xx, nothing changed."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from redis.asyncio import Redis

from tests import test_slack, test_teams
from tests.conftest import said
from tests.fake_slack import signed_headers
from tests.test_slack import HERE as SLACK_HERE
from tests.test_slack import SECRET
from tests.test_slack_hardening import our_log_lines
from tests.test_teams import CHANNEL, HERE, TENANT

teams = test_teams.teams
secured = test_teams.secured
slack = test_slack.slack

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


# --- GET /files/<token> ----------------------------------------------------------------------


async def test_a_download_link_answers_only_its_token_and_only_get(teams, store, content):
    token = await store.put_file(
        HERE,
        "report.docx",
        "application/octet-stream",
        b"PK\x03\x04",
        partnership=HERE.conversation,
    )
    real = f"/files/{token}"
    wrong = [
        "/files/x", "/files/" + "a" * 32, "/files/" + "a" * 5000, f"/files/{token.swapcase()}",
        f"/files/{token}%2F", "/files/%C3%A9" * 20, "/files/..%2F..%2Fetc%2Fpasswd",
        "/files/%00" * 20, f"/files/{token}/x", "/files/", "/files", "/nope", "/",
    ]  # fmt: skip
    for path in wrong:
        for method in ("GET", "HEAD"):
            async with teams.http.request(method, path) as r:
                assert r.status == 404, (method, path)
                assert "Content-Disposition" not in r.headers
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        async with teams.http.request(method, real, data=b"x") as r:
            assert r.status == 405, method
    for method in ("GET", "HEAD"):
        async with teams.http.request(method, real) as r:
            assert r.status == 200
            assert r.headers["Content-Length"] == "4"
    assert await store.file(token) is not None  # nothing above touched it


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ('Trails "North"\r\nSet-Cookie: x=1.docx', "Trails__North___Set-Cookie__x_1.docx"),
        ("Caf\u00e9 \u0441\u043e\u044e\u0437 \U0001f30d.docx", "Caf________.docx"),
        ("../../etc/passwd", ".._.._etc_passwd"),
        ("", "download"),
    ],
)
async def test_a_download_carries_safe_headers_whatever_its_name(teams, store, name, shown):
    token = await store.put_file(HERE, name, "text/html", b"<script>1</script>", partnership="x")
    async with teams.http.get(f"/files/{token}") as r:
        assert r.status == 200
        assert r.headers.getall("Content-Disposition") == [f'attachment; filename="{shown}"']
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Cache-Control"] == "private, no-store"
        assert "Set-Cookie" not in r.headers


# --- bodies that are not UTF-8 ---------------------------------------------------------------


async def test_a_body_that_is_not_utf8_is_refused_before_any_signature_or_token(
    slack, secured, store, caplog
):
    """The signature check decoded the body first: an unsigned body with one byte that is not
    UTF-8 was a 500 with a traceback; Teams' JSON reader failed the same way on a charset it
    does not know, before the token was looked at."""
    caplog.set_level(logging.INFO)
    not_utf8 = b"command=/coach&text=\xff&team_id=T1&channel_id=C1&user_id=U1"
    cases = [
        (slack.http, "/slack/events", not_utf8, FORM, {"X-Slack-Signature": "v0=00",
                                                       "X-Slack-Request-Timestamp": "1"}, 400),
        (slack.http, "/slack/events", b'{"type": "event_callback"}', f"{JSON}; charset=nope",
         signed_headers(SECRET, '{"type": "event_callback"}'), 415),
        (slack.http, "/slack/events", b"command=/coach&text=help", f"{FORM}; charset=latin-1",
         signed_headers(SECRET, "command=/coach&text=help"), 415),
        (secured.http, "/api/messages", b'{"type": "message"}', f"{JSON}; charset=nope", {}, 415),
        (secured.http, "/api/messages", b'{"type": "\xff"}', JSON, {}, 400),
    ]  # fmt: skip
    for http, path, body, content_type, headers, expected in cases:
        caplog.clear()
        async with http.post(
            path, data=body, headers={"Content-Type": content_type, **headers}
        ) as r:
            assert r.status == expected, (path, body, content_type)
        assert len(our_log_lines(caplog)) == 1, our_log_lines(caplog)
        assert not [r for r in caplog.records if r.exc_info]
    # the same, in UTF-8 (its charset named or not), is read as before
    assert await slack.command("ULEAD", 'setup "Caf\u00e9 Trails"') == 200
    assert (await store.load(SLACK_HERE)).partnership.name == "Caf\u00e9 Trails"
    activity = secured.teams.activity("city", text='setup "Caf\u00e9"')
    token = secured.microsoft.sign(secured.claims())
    headers = {"Authorization": f"Bearer {token}", "Content-Type": f"{JSON}; charset=UTF-8"}
    async with secured.http.post("/api/messages", json=activity, headers=headers) as r:
        assert r.status == 202
    assert (await store.load(HERE)).partnership.name == "Caf\u00e9"


# --- POST /api/messages ----------------------------------------------------------------------


def misshapen(teams: test_teams.Teams) -> list[tuple[str, Any]]:
    """Activities (or bodies) of the wrong shape, each as Teams would never send it."""
    a = teams.activity("city", text='setup "Forged"')
    without = lambda key: {k: v for k, v in a.items() if k != key}  # noqa: E731
    return [
        ("not JSON", b"{not json"),
        ("a list", []),
        ("no type", without("type")),
        ("no conversation id", a | {"conversation": {"tenantId": TENANT}}),
        ("an empty conversation id", a | {"conversation": {"id": "", "tenantId": TENANT}}),
        ("no sender", without("from")),
        ("a sender without an id", a | {"from": {}}),
        ("a sender that is a string", a | {"from": "29:city"}),
        ("no recipient", without("recipient")),
        ("a recipient without an id", a | {"recipient": {"name": "Coach"}}),
        ("no service URL", without("serviceUrl")),
        ("a service URL that is not a URL", a | {"serviceUrl": "not a url"}),
        ("a service URL that is not http", a | {"serviceUrl": "file:///etc/passwd"}),
        ("a service URL without a host", a | {"serviceUrl": "https://"}),
        ("text that is a number", a | {"text": 5}),
        ("text that is a list", a | {"text": ["setup", "Forged"]}),
    ]


async def test_without_a_valid_token_every_body_is_a_401_and_changes_nothing(secured, store):
    """The token is checked first: a caller without one learns nothing about what is read."""
    for case, body in [*misshapen(secured.teams), ("well formed", secured.teams.activity("city"))]:
        for token in (None, "not-a-jwt", secured.microsoft.sign(secured.claims(aud="another"))):
            headers = {"Content-Type": JSON}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            data = body if isinstance(body, bytes) else as_json(body)
            async with secured.http.post("/api/messages", data=data, headers=headers) as r:
                assert r.status == 401, case
    assert secured.connector.sent == []
    assert await store.scan(f"{store.prefix}:*") == []


def as_json(body: Any) -> bytes:
    return json.dumps(body).encode()


async def test_an_authenticated_activity_of_the_wrong_shape_is_a_400_and_changes_nothing(
    secured, store, caplog
):
    """Signed by the channel, yet not an activity the coach can act on and answer: a sender
    without an id used to act as "unknown" (and set a partnership up with "unknown" as its
    facilitator); a service URL that is not absolute was a 500; no recipient failed the turn
    with nobody told."""
    for case, body in misshapen(secured.teams):
        claims = secured.claims()
        if isinstance(body, dict) and isinstance(body.get("serviceUrl"), str):
            claims["serviceurl"] = body["serviceUrl"]  # the token names the URL it came with
        headers = {
            "Authorization": f"Bearer {secured.microsoft.sign(claims)}",
            "Content-Type": JSON,
        }
        data = body if isinstance(body, bytes) else as_json(body)
        # a body without the service URL its token names is not the one the token is for
        named = isinstance(body, dict) and isinstance(body.get("serviceUrl"), str)
        async with secured.http.post("/api/messages", data=data, headers=headers) as r:
            assert r.status == (400 if named else 401), (case, r.status, await r.text())
    assert secured.connector.sent == []
    assert (await store.load(HERE)).partnership.name is None
    assert await store.reference(HERE) is None
    assert not [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot")
    ]
    assert await secured.post(secured.microsoft.sign(secured.claims()), 'setup "Trails"') == 202
    assert (await store.load(HERE)).partnership.name == "Trails"  # and it goes on serving


@pytest.mark.parametrize(
    "channel_data",
    [{"tenant": ["x"]}, {"tenant": "x"}, {"tenant": {"id": 5}}, "x", [1]],
)
async def test_odd_channel_data_is_read_around_and_the_person_answered(teams, store, channel_data):
    """The tenant is read from the conversation, else from channelData: a channelData of
    another shape failed the turn (AttributeError) and nobody was answered."""
    activity = teams.activity("city", text='setup "Trails"', channelData=channel_data)
    activity["conversation"] = {"id": CHANNEL, "conversationType": "channel"}
    assert await teams.post(activity) == 202
    assert teams.connector.texts()[0].startswith('Partnership "Trails" is set up')


@pytest.mark.parametrize(
    "value",
    [
        "endorse D1", 5, [1, 2], None, {"coach": None}, {"coach": {"a": 1}, "step": ["x"]},
        {"coach": "endorse D1", "step": {"a": 1}}, {"coach": "x" * 50_000}, {"coach": "\ud800"},
        {"coach": "endorse D1", "step": "\ud800"}, {"step": "D1:r1"},
    ],
)  # fmt: skip
async def test_a_card_submit_of_any_shape_changes_nothing(teams, store, value):
    await test_teams.set_up_three_partners(teams)
    await teams.say("chamber", 'decide "Meet monthly"')
    before = (
        await store.revision(HERE.conversation),
        len(await store.decision_log(HERE.conversation)),
    )
    sent = len(teams.connector.sent)
    assert await teams.post(teams.activity("ngo", value=value)) == 202
    after = (
        await store.revision(HERE.conversation),
        len(await store.decision_log(HERE.conversation)),
    )
    assert after == before
    assert (await store.load(HERE)).partnership.decisions["D1"].stances == {}
    # a polite word at most (an empty message is answered with what the coach does); no card
    # is updated
    assert [s.method for s in teams.connector.sent[sent:]] in (["POST"], [])


# --- POST /slack/events ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "hello"),
        ("", "hello"),
        (JSON, "null"),
        (JSON, '"x"'),
        (JSON, "1"),
        (JSON, '{"type": "event_callback", "event": null}'),
        (FORM, "payload=notjson"),
        (FORM, "payload=null"),
        (FORM, "%%%%&&&==="),
        ("multipart/form-data; boundary=xx", '--xx\r\nContent-Disposition: form-data; name="payload"\r\n\r\n{}\r\n--xx--\r\n'),
    ],
)  # fmt: skip
async def test_a_signed_body_of_another_kind_is_a_4xx_with_one_line(
    slack, store, caplog, content_type, body
):
    caplog.set_level(logging.INFO)
    headers = {"Content-Type": content_type} if content_type else {}
    async with slack.http.post(
        "/slack/events", data=body.encode(), headers={**headers, **signed_headers(SECRET, body)}
    ) as r:
        assert 400 <= r.status < 500
    await slack.channel.drain()
    assert not [r for r in caplog.records if r.exc_info]
    assert await store.revision(SLACK_HERE.conversation) == 0
    assert slack.fake.of("chat.postMessage") == []


@pytest.mark.parametrize("field", ["channel", "user", "thread_ts"])
async def test_a_signed_event_whose_ids_are_not_slack_ids_names_nothing(slack, store, caplog, field):
    """A lone surrogate or a newline cannot be part of a Redis key: such an event is
    acknowledged (it is signed) and its odd id names nothing, without an error anywhere."""
    await slack.command("ULEAD", 'setup "Trails"')
    before = await store.revision(SLACK_HERE.conversation)
    for odd in ("C\ud800", "C1\nC2", "x" * 300):
        event = {"type": "app_mention", "channel": SLACK_HERE.channel, "user": "ULEAD",
                 "text": "<@UBOT> partners", "ts": "1.2", "thread_ts": "1.1"}  # fmt: skip
        event[field] = odd
        assert await slack.event(event, f"Ev-{field}-{len(odd)}") == 200
    await slack.channel.drain()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert await store.revision(SLACK_HERE.conversation) == before
    posted = slack.fake.of("chat.postMessage")[1:]  # after the setup's reply
    if field == "thread_ts":  # the mention is answered in the channel, not in a made-up thread
        assert len(posted) == 3 and not [p for p in posted if p.get("thread_ts")]
    else:
        assert posted == []


# --- one partnership's buttons, cards and messages, replayed in another's conversation ------


async def test_a_slack_button_or_tick_from_one_partnership_does_nothing_to_it_elsewhere(
    slack, store
):
    await test_slack.set_up_three_partners(slack)  # partnership A, in C1
    for user, text in [("UOTHER", 'setup "Other"'), ("UOTHER", 'partner add "Beta" business'),
                       ("UOTHER", 'join "Beta"')]:  # fmt: skip
        await slack.command(user, text, channel="C2")  # partnership B, in C2
    await slack.command("UCHAMBER", 'decide "Share one dashboard"')
    card = slack.last("chat.postMessage")
    card_ts = await store.message_id(SLACK_HERE, "decision:D1")
    a_before = await store.revision(SLACK_HERE.conversation)
    b_here = SLACK_HERE.__class__("slack", SLACK_HERE.workspace, "C2")
    b_before = await store.revision(b_here.conversation)

    # A's card's button, clicked (as a forged but signed request would) in B's channel
    assert await slack.click("UNGO", card | {"channel": "C2", "ts": card_ts}, "Endorse") == 200
    # and a tick in B on A's card's message
    reaction = {"type": "reaction_added", "user": "UNGO", "reaction": "white_check_mark",
                "item": {"type": "message", "channel": "C2", "ts": card_ts}}  # fmt: skip
    assert await slack.event(reaction, "Ev-cross") == 200

    assert (await store.load(SLACK_HERE)).partnership.decisions["D1"].stances == {}
    assert await store.revision(SLACK_HERE.conversation) == a_before
    assert (await store.load(b_here)).partnership.decisions == {}
    assert await store.revision(b_here.conversation) == b_before
    assert all(u["channel"] != "C2" for u in slack.fake.of("chat.update"))
    assert "Share one dashboard" not in " ".join(
        c.params.get("text", "") for c in slack.fake.calls if c.params.get("channel") == "C2"
    )


async def test_a_teams_card_of_one_partnership_is_neither_shown_nor_acted_on_elsewhere(
    teams, store
):
    await test_teams.set_up_three_partners(teams)  # partnership A
    await teams.say("chamber", 'decide "Share one dashboard"')
    proposal = teams.connector.sent[-1]
    card = teams.connector.card(proposal)
    elsewhere = {"id": "19:other@thread.tacv2", "conversationType": "channel", "tenantId": TENANT}
    await teams.post(teams.activity("stranger", text='setup "Other"', conversation=elsewhere))
    a_before = await store.revision(HERE.conversation)

    # Teams asks, in B, for the card with A's card's id: A's card is not what it gets
    refresh = {"action": {"type": "Action.Execute", "verb": "refresh"}, "trigger": "automatic"}
    invoke = teams.activity(
        "stranger", type="invoke", name="adaptiveCard/action", replyToId=proposal.id,
        value=refresh, conversation=elsewhere,
    )  # fmt: skip
    async with teams.http.post("/api/messages", json=invoke) as r:
        assert r.status == 200
        answer = await r.json()
    assert "Share one dashboard" not in json.dumps(answer)
    assert answer["type"] == "application/vnd.microsoft.activity.message"  # "an earlier message"

    # A's button pressed in B (Action.Submit and Action.Execute): A is untouched
    action = next(a for a in card["actions"] if a["title"] == "Endorse")
    data = action["fallback"]["data"]
    await teams.post(teams.activity("ngo", value=data, conversation=elsewhere))
    execute = {"action": {"type": "Action.Execute", "verb": "coach", "data": data}}
    await teams.post(
        teams.activity("ngo", type="invoke", name="adaptiveCard/action", replyToId=proposal.id,
                       value=execute, conversation=elsewhere)
    )  # fmt: skip
    assert (await store.load(HERE)).partnership.decisions["D1"].stances == {}
    assert await store.revision(HERE.conversation) == a_before
    assert all(s.activity_id != proposal.id for s in teams.connector.sent if s.method == "PUT")


async def test_a_download_while_redis_is_down_is_a_503_to_try_again(teams, store, content):
    token = await store.put_file(HERE, "report.docx", "x/y", b"PK", partnership=HERE.conversation)
    coach_store = teams.channel.coach.store
    working, coach_store.redis = coach_store.redis, Redis(unix_socket_path="/nonexistent.sock")
    try:
        async with teams.http.get(f"/files/{token}") as r:
            assert r.status == 503 and r.headers["Retry-After"]
            assert await r.text() == said(content, "report.link_unavailable")
    finally:
        await coach_store.redis.aclose()
        coach_store.redis = working
    async with teams.http.get(f"/files/{token}") as r:
        assert r.status == 200  # back with Redis
