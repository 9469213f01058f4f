"""Issue 14, tried from outside as a flaky network and an attacker would: replays count once,
sends survive Slack's trouble, hostile bodies are cheap to refuse, and a web process killed
right after its acks loses nothing. Signed requests over HTTP, the Slack Web API stand-in,
real Redis."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot import redelivery
from bot.config import Secret, Settings
from bot.model import Address, Turn, User
from bot.web import MAX_BODY_BYTES, build_web_app
from tests import test_slack
from tests.conftest import project_path
from tests.fake_slack import TEAM, FakeSlack, signed_headers
from tests.test_slack import CHANNEL, HERE, SECRET, Slack, set_up_three_partners, setup_submission
from tests.test_web_and_cli import free_port

slack = test_slack.slack  # the fixture: the coach's web app, signed requests, the stand-in

FORM = "application/x-www-form-urlencoded"


async def deliver_again(slack: Slack, body: str, content_type: str, headers: dict[str, str]) -> int:
    """The same signed request once more, byte for byte, as a proxy or replayer sends it."""
    async with slack.http.post(
        "/slack/events", data=body.encode(), headers={"Content-Type": content_type, **headers}
    ) as response:
        status = response.status
    await slack.channel.drain()
    return status


def command_body(user: str, text: str) -> str:
    return urlencode({
        "token": "legacy", "team_id": TEAM, "channel_id": CHANNEL, "user_id": user,
        "command": "/coach", "text": text, "trigger_id": f"trig-{time.monotonic_ns()}",
        "api_app_id": "A1", "response_url": "https://hooks.example/response",
    })  # fmt: skip


# --- item 3: replays count once -----------------------------------------------------------------


async def test_five_deliveries_of_one_slash_command_make_one_decision_and_one_card(slack, store):
    await set_up_three_partners(slack)
    body = command_body("UCHAMBER", 'decide "Meet on the first Tuesday"')
    headers = signed_headers(SECRET, body)
    assert [await deliver_again(slack, body, FORM, headers) for _ in range(5)] == [200] * 5
    assert list((await store.load(HERE)).partnership.decisions) == ["D1"]
    assert len([t for t in slack.said() if "proposes D1" in t]) == 1
    assert len([e for e in await store.decision_log(HERE.conversation)]) == 1

    # a new command with the same words is a new request (its own trigger_id): it counts
    await slack.command("UCHAMBER", 'decide "Meet on the first Tuesday"')
    assert sorted((await store.load(HERE)).partnership.decisions) == ["D1", "D2"]


async def test_the_log_as_decision_shortcut_three_times_makes_one_decision(slack, store):
    await set_up_three_partners(slack)
    payload = {
        "type": "message_action", "callback_id": "coach_log_as_decision", "trigger_id": "t-77",
        "action_ts": "1700000000.1", "user": {"id": "UNGO", "team_id": TEAM},
        "team": {"id": TEAM}, "channel": {"id": CHANNEL},
        "message": {"type": "message", "text": "Publish the plan by June", "ts": "5.5"},
        "message_ts": "5.5", "response_url": "https://hooks.example/r",
    }  # fmt: skip
    body = urlencode({"payload": json.dumps(payload)})
    headers = signed_headers(SECRET, body)
    assert [await deliver_again(slack, body, FORM, headers) for _ in range(3)] == [200] * 3
    assert list((await store.load(HERE)).partnership.decisions) == ["D1"]
    assert len([t for t in slack.said() if "proposes D1" in t]) == 1


async def test_a_replayed_button_click_and_form_submission_count_once(slack, store):
    await slack.command("ULEAD", "setup")  # opens the form
    body = urlencode({"payload": json.dumps(setup_submission("Trails", "Acme, business"))})
    headers = signed_headers(SECRET, body)
    assert [await deliver_again(slack, body, FORM, headers) for _ in range(3)] == [200] * 3
    assert await store.revision(HERE.conversation) == 1
    assert len([t for t in slack.said() if "is set up" in t]) == 1

    for text in ('partner add "City" government', 'join "Acme"'):
        await slack.command("ULEAD", text)
    await slack.command("ULEAD", 'decide "Share one dashboard"')
    card = slack.last("chat.postMessage")
    button = next(b for b in card["blocks"] if b["type"] == "actions")["elements"][0]
    click = {
        "type": "block_actions", "user": {"id": "ULEAD", "team_id": TEAM}, "team": {"id": TEAM},
        "api_app_id": "A1", "trigger_id": "t-click-1", "channel": {"id": CHANNEL},
        "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL},
        "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "b",
                     "value": button["value"], "action_ts": "1700000001.5"}],
    }  # fmt: skip
    body = urlencode({"payload": json.dumps(click)})
    headers = signed_headers(SECRET, body)
    stances = len(await store.decision_log(HERE.conversation))
    assert [await deliver_again(slack, body, FORM, headers) for _ in range(4)] == [200] * 4
    assert len(await store.decision_log(HERE.conversation)) == stances + 1
    assert (await store.load(HERE)).partnership.decisions["D1"].endorsed_by() == ["acme"]


# --- item 4: sends that survive Slack's trouble ---------------------------------------------------


async def test_a_reply_slack_answers_500_then_200_is_delivered(slack, store):
    slack.fake.fail_next("chat.postMessage", 500, body={"ok": False, "error": "fatal_error"})
    await slack.command("ULEAD", 'setup "Trails"')
    posts = slack.fake.of("chat.postMessage")
    assert len(posts) == 2
    assert posts[0]["text"] == posts[1]["text"]
    assert 'Partnership "Trails" is set up' in slack.fake.messages(CHANNEL)[0]["text"]
    assert await store.replies_kept() == 0


async def test_a_reply_rate_limited_four_times_is_delivered_by_the_worker(slack, coach, store):
    for _ in range(4):  # the first attempt and the client's three retries
        slack.fake.fail_next("chat.postMessage", 429, headers={"Retry-After": "0"})
    await slack.command("ULEAD", 'setup "Trails"')
    assert len(slack.fake.of("chat.postMessage")) == 4
    assert slack.fake.messages(CHANNEL) == []
    assert await store.replies_kept() == 1

    deliverers = {"slack": slack.channel.deliver}
    now = datetime.now(UTC)
    assert await redelivery.redeliver(store, deliverers, now) == 0  # not due yet
    assert await redelivery.redeliver(store, deliverers, now + timedelta(minutes=2)) == 1
    (posted,) = slack.fake.messages(CHANNEL)
    assert 'Partnership "Trails" is set up' in posted["text"]
    assert await store.replies_kept() == 0


async def test_a_kept_reply_is_retried_with_backoff_and_dropped_when_an_hour_old(
    slack, store, caplog
):
    for _ in range(4):
        slack.fake.fail_next("chat.postMessage", 503, body={"ok": False, "error": "unavailable"})
    await slack.command("ULEAD", 'setup "Trails"')
    assert await store.replies_kept() == 1
    deliverers = {"slack": slack.channel.deliver}
    now = datetime.now(UTC)
    slack.fake.fail_next("chat.postMessage", 503, body={"ok": False, "error": "unavailable"})
    slack.fake.fail_next("chat.postMessage", 503, body={"ok": False, "error": "unavailable"})
    slack.fake.fail_next("chat.postMessage", 503, body={"ok": False, "error": "unavailable"})
    assert await redelivery.redeliver(store, deliverers, now + timedelta(minutes=2)) == 0
    assert await redelivery.redeliver(store, deliverers, now + timedelta(minutes=3)) == 0  # backoff
    assert await redelivery.redeliver(store, deliverers, now + timedelta(hours=2)) == 0
    assert await store.replies_kept() == 0
    assert "too late to post" in caplog.text
    assert slack.fake.messages(CHANNEL) == []


async def test_a_reply_slack_refuses_for_good_is_not_kept(slack, store):
    slack.fake.fail_next("chat.postMessage", 200, body={"ok": False, "error": "channel_not_found"})
    await slack.command("ULEAD", 'setup "Trails"')
    assert await store.replies_kept() == 0


# --- item 5: hostile input is cheap to refuse -----------------------------------------------------


@pytest.fixture
async def both_endpoints(coach):
    """The web app serving Slack and (without authentication, as for the emulator) Teams."""
    fake = FakeSlack()
    await fake.start()
    settings = Settings(
        slack_bot_token=Secret("xoxb-test"),
        slack_signing_secret=Secret(SECRET),
        slack_api_url=fake.api_url,
        teams_emulator=True,
    )
    server = TestServer(await build_web_app(coach, settings))
    await server.start_server()
    http = ClientSession(base_url=server.make_url("/"))
    yield http
    await http.close()
    await server.close()
    await fake.close()


def our_log_lines(caplog) -> list[str]:
    """What the coach itself logged (aiohttp's access log writes one line per request)."""
    return [
        line
        for r in caplog.records
        if r.name != "aiohttp.access"
        for line in ((r.getMessage() + "\n" + (r.exc_text or "")).strip().splitlines())
    ]


async def test_hostile_bodies_are_refused_with_at_most_one_short_log_line_each(
    both_endpoints, store, caplog
):
    caplog.set_level(logging.INFO)
    http = both_endpoints
    deep = "[" * 100_000
    big = "text=" + "x" * 900_000
    command = command_body("U1", 'setup "Forged"')
    cases = [
        # path, body, headers, expected status
        ("/slack/events", deep, {"Content-Type": "application/json"}, 400),
        ("/api/messages", deep, {"Content-Type": "application/json"}, 400),
        ("/slack/events", urlencode({"payload": deep}), {"Content-Type": FORM}, 400),
        ("/slack/events", "x" * (MAX_BODY_BYTES + 1), {"Content-Type": FORM}, 413),
        ("/api/messages", "{" * (MAX_BODY_BYTES + 1), {"Content-Type": "application/json"}, 413),
        ("/slack/events", command, {"Content-Type": FORM, "X-Slack-Request-Timestamp": "soon",
                                    "X-Slack-Signature": "v0=00"}, 401),
        ("/slack/events", command, {"Content-Type": FORM, "X-Slack-Request-Timestamp": "1e9",
                                    "X-Slack-Signature": "v0=00"}, 401),
        ("/slack/events", command, {"Content-Type": FORM, **signed_headers("wrong", command)}, 401),
    ] + [("/slack/events", big, {"Content-Type": FORM}, 401)] * 20  # fmt: skip
    for path, body, headers, expected in cases:
        caplog.clear()
        async with http.post(path, data=io.BytesIO(body.encode()), headers=headers) as response:
            assert response.status == expected, (path, body[:20], await response.text())
        lines = our_log_lines(caplog)
        assert len(lines) <= 1, lines
        assert all(len(line) < 400 for line in lines)
        assert all("xxxxxxxxxx" not in line and "[[[[[" not in line for line in lines)
    assert (await store.load(Address("slack", TEAM, CHANNEL))).partnership.name is None
    assert (await http.get("/healthz")).status == 200


SIGNED_BUT_MISSHAPEN = [
    ("application/json", [1, 2]),
    (FORM, {"payload": [1]}),
    ("application/json", {"type": ["event_callback"], "team_id": "T1", "event": {"type": "app_mention"}}),
    ("application/json", {"type": "event_callback", "team_id": ["T1"], "event_id": "E1",
                          "event": {"type": "app_mention", "user": "U1", "channel": "C1", "text": "hi"}}),
    ("application/json", {"type": "event_callback", "team_id": "T1", "event_id": "E2",
                          "event": {"type": ["app_mention"], "user": "U1"}}),
    ("application/json", {"type": "event_callback", "team_id": "T1", "event_id": "E3",
                          "event": {"type": "app_mention", "user": ["U1"], "channel": "C1", "text": ["x"]}}),
    ("application/json", {"type": "event_callback", "team_id": "T1", "event_id": "E4", "event": "app_mention"}),
    ("application/json", {"type": "event_callback", "team_id": "T1", "event_id": ["E5"], "authorizations": "x",
                          "event": {"type": "message", "channel_type": "im", "user": "U1", "channel": "D1", "text": "x"}}),
    ("application/json", {"type": "event_callback", "team_id": "T1", "event_id": "E6",
                          "event": {"type": "reaction_added", "user": "U1", "reaction": ["white_check_mark"], "item": "x"}}),
    ("application/json", {"type": "event_callback", "team_id": "T1", "event_id": "E7",
                          "event": {"type": "app_home_opened", "user": ["U1"], "tab": "home"}}),
    (FORM, {"payload": {"type": "block_actions", "user": ["U1"], "team": "T1", "channel": ["C1"], "actions": "x"}}),
    (FORM, {"payload": {"type": "block_actions", "user": {"id": "U1"}, "team": {"id": "T1"}, "channel": {"id": "C1"},
                        "actions": [{"action_id": ["coach.choice.0"], "value": "x"}]}}),
    (FORM, {"payload": {"type": "block_actions", "user": {"id": "U1"}, "team": {"id": "T1"}, "channel": {"id": "C1"},
                        "actions": [{"action_id": "coach.choice.0", "value": "[" * 5000}]}}),
    (FORM, {"payload": {"type": "message_action", "callback_id": "coach_log_as_decision", "user": "U1",
                        "team": ["T1"], "channel": {"id": "C1"}, "message": {"text": ["x"]}}}),
    (FORM, {"payload": {"type": "view_submission", "user": "U1", "team": {"id": "T1"},
                        "view": {"callback_id": "coach_setup", "private_metadata": ["C1"], "state": {"values": []}}}}),
    (FORM, {"payload": {"type": "view_submission", "user": {"id": "U1"}, "team": {"id": "T1"},
                        "view": {"type": "modal", "callback_id": "coach_setup", "private_metadata": "C1",
                                 "state": {"values": {"name": {"value": {"value": ["x"]}}}}}}}),
    (FORM, {"payload": {"type": "view_submission", "user": {"id": ["U1"]}, "team": {"id": "T1"},
                        "view": {"type": "modal", "callback_id": "coach_setup", "private_metadata": "C1",
                                 "state": {"values": {"name": ["x"]}}}}}),
    (FORM, {"payload": {"type": "view_closed", "user": {"id": "U1"}, "team": None, "view": []}}),
]  # fmt: skip


@pytest.mark.parametrize(("content_type", "payload"), SIGNED_BUT_MISSHAPEN)
async def test_a_signed_payload_of_the_wrong_shape_is_refused_with_one_line_and_no_traceback(
    slack, store, caplog, content_type, payload
):
    caplog.set_level(logging.INFO)
    if content_type == FORM:
        body = urlencode({"payload": json.dumps(payload["payload"])})
    else:
        body = json.dumps(payload)
    status = await slack.post(body, content_type)
    assert status < 500
    lines = our_log_lines(caplog)
    assert len(lines) <= 1, lines
    assert not [r for r in caplog.records if r.exc_info]
    assert await store.revision(HERE.conversation) == 0
    public = {"chat.postMessage", "chat.update", "views.open", "views.publish"}
    assert [c.method for c in slack.fake.calls if c.method in public] == []  # at most a refusal


# --- item 2: a web process killed right after its acks loses nothing -----------------------------


def start_serve(redis_socket, prefix, fake: FakeSlack, port: int, log):
    env = {
        **os.environ,
        "REDIS_URL": f"unix://{redis_socket}",
        "COACH_KEY_PREFIX": prefix,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "COACH_TURN_CLAIM_AFTER_S": "1",  # a dead process's turns are taken over this soon
        "LOG_LEVEL": "INFO",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=project_path(), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return process


async def wait_healthy(http: ClientSession, port: int, process, log_path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            pytest.fail(f"serve did not come up: {log_path.read_text()}")
        await asyncio.sleep(0.1)


@pytest.mark.skipif(os.environ.get("REDIS_URL") is not None, reason="uses the embedded server")
@pytest.mark.parametrize(
    "stuck_in",
    [
        "users.info",  # before its turns are committed
        "chat.postMessage",  # once they are committed, while their replies are posted
    ],
)
async def test_a_web_process_killed_right_after_acking_50_turns_loses_none(
    coach, store, redis_socket, prefix, tmp_path, stuck_in
):
    here = Address("slack", TEAM, CHANNEL)
    for text in ('setup "Trails"', 'partner add "City" government', 'join "City"'):
        await coach.handle(Turn(here, User("ULEAD", "lead"), text))
    fake = FakeSlack()
    await fake.start()
    fake.delays[stuck_in] = 60  # the doomed process's turns are all still running
    http = ClientSession()
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    try:
        port = free_port()
        with first.open("w") as log:
            doomed = start_serve(redis_socket, prefix, fake, port, log)
        await wait_healthy(http, port, doomed, first)
        for n in range(50):
            body = command_body("ULEAD", f'decide "Proposal {n}"')
            async with http.post(
                f"http://127.0.0.1:{port}/slack/events",
                data=body.encode(),
                headers={"Content-Type": FORM, **signed_headers(SECRET, body)},
            ) as response:
                assert response.status == 200  # acked
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        if stuck_in == "users.info":
            assert (await store.load(here)).partnership.decisions == {}  # none was done
        assert fake.messages(CHANNEL) == []  # nothing was posted
        assert await store.queue_length("slack") == 50

        fake.delays.clear()
        port = free_port()
        with second.open("w") as log:
            survivor = start_serve(redis_socket, prefix, fake, port, log)
        try:
            await wait_healthy(http, port, survivor, second)
            deadline = time.monotonic() + 60
            while await store.queue_length("slack") and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        finally:
            survivor.send_signal(signal.SIGTERM)
            assert survivor.wait(timeout=30) == 0
    finally:
        await http.close()
        await fake.close()
    assert await store.queue_length("slack") == 0, second.read_text()
    decisions = (await store.load(here)).partnership.decisions.values()
    assert sorted(d.text for d in decisions) == sorted(f"Proposal {n}" for n in range(50))
    cards = [m["text"] for m in fake.messages(CHANNEL) if "proposes" in m["text"]]
    assert len(cards) == 50
    assert "taking over entry" in second.read_text()
    if stuck_in == "chat.postMessage":  # replies noted on the entries, posted by the survivor
        assert "(taken over)" in second.read_text()


def test_a_turn_crosses_the_queue_as_json_with_every_field():
    from dataclasses import asdict, fields

    turn = Turn(
        Address("slack", TEAM, CHANNEL, "1.2"), User("U1", "Ann", "Metro Chamber"), "decide",
        step="D1:r1", event_id="Ev1", body="Meet monthly", form=(("name", "Trails"),), private=True,
    )  # fmt: skip
    assert Turn.from_json(turn.to_json()) == turn
    assert json.loads(turn.to_json()) == json.loads(json.dumps(asdict(turn)))
    assert list(json.loads(turn.to_json())) == [f.name for f in fields(Turn)]
    plain = Turn(Address("slack", TEAM, CHANNEL), User("U1", "U1"), "help")
    assert Turn.from_json(plain.to_json()) == plain


async def test_a_flood_of_turns_waits_in_redis_and_a_process_holds_a_bounded_number(slack, store):
    from bot.adapters.slack import MAX_CONCURRENT_TURNS

    await set_up_three_partners(slack)
    slack.fake.delays["chat.postMessage"] = 0.05  # Slack answers slowly: turns pile up
    held = 0

    async def watch() -> None:
        nonlocal held
        while True:
            held = max(held, slack.channel.queue.running)
            await asyncio.sleep(0)

    async def send(n: int) -> int:
        body = command_body(("UCHAMBER", "UNGO")[n % 2], f'decide "Proposal {n}"')
        headers = {"Content-Type": FORM, **signed_headers(SECRET, body)}
        async with slack.http.post("/slack/events", data=body.encode(), headers=headers) as r:
            return r.status

    watcher = asyncio.ensure_future(watch())
    try:
        assert await asyncio.gather(*(send(n) for n in range(120))) == [200] * 120  # all acked
        await slack.channel.drain()
    finally:
        watcher.cancel()
    assert 0 < held <= MAX_CONCURRENT_TURNS
    assert len((await store.load(HERE)).partnership.decisions) == 120
    assert await store.queue_length("slack") == 0


def test_the_worker_runs_the_redelivery_of_kept_replies(coach):
    from arq.connections import RedisSettings

    from bot.scheduler import build_worker

    worker = build_worker(coach, {}, RedisSettings(), job_timeout_s=5, handle_signals=False)
    assert any(job.name.endswith(":redeliver") for job in worker.cron_jobs)


async def test_a_call_made_the_moment_a_batch_returns_is_not_stranded():
    """The turn queue gathers adds, notes and done-marks into batches. A call made just as a
    batch finishes (the next entry done the moment the previous one's mark returns) used to
    find the finishing flush still counted as running, and waited forever: its entry was
    taken over 30 s later and its replies posted twice."""
    from bot.turnqueue import Batched

    async def send(items: list[int]) -> list[int]:
        await asyncio.sleep(0)
        return items

    for in_flight in (1, 4):
        batched: Batched[int, int] = Batched(send, in_flight=in_flight)

        async def one_after_another(batched: Batched[int, int], start: int) -> None:
            for n in range(start, start + 20):
                assert await batched(n) == n  # awaited directly: no task between

        async with asyncio.timeout(2.0):
            await asyncio.gather(*(one_after_another(batched, 100 * k) for k in range(in_flight + 1)))


# --- `/coach` straight from the signed request (with the one bot token, not through Bolt) ------


async def test_a_command_whose_text_is_the_word_payload_is_a_command(slack, store):
    """Interactive requests carry their JSON in a form field named `payload`; a command that
    merely says the word (in its text or its channel's name) is still the command."""
    assert await slack.command("ULEAD", 'setup "payload"') == 200
    assert (await store.load(HERE)).partnership.name == "payload"
    assert await slack.command("ULEAD", "payload") == 200  # an unknown command: a hint back
    assert slack.last("chat.postEphemeral")["user"] == "ULEAD"


async def test_a_command_redis_cannot_queue_is_a_500_and_slacks_retry_is_done_once(
    slack, store, caplog
):
    """Nothing is acknowledged that is not in Redis: Slack gets a 500 (and tells the person,
    or retries), and the retry, once Redis is back, is taken once."""
    queued_by = slack.channel.queue.store  # the coach's store: Redis goes away under it
    working, queued_by.redis = queued_by.redis, Redis(unix_socket_path="/nonexistent/redis.sock")
    body = command_body("ULEAD", 'setup "Trails"')
    headers = signed_headers(SECRET, body)
    try:
        async with slack.http.post(
            "/slack/events", data=body.encode(), headers={"Content-Type": FORM, **headers}
        ) as response:
            assert response.status == 500
    finally:
        await queued_by.redis.aclose()
        queued_by.redis = working
    assert any("Slack request failed" in line for line in our_log_lines(caplog))
    retry = {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert await deliver_again(slack, body, FORM, retry) == 200
    assert await deliver_again(slack, body, FORM, retry | {"X-Slack-Retry-Num": "2"}) == 200
    assert (await store.load(HERE)).partnership.name == "Trails"
    assert len([t for t in slack.said() if "is set up" in t]) == 1


async def test_slacks_ssl_check_is_answered_and_queues_nothing(slack, store):
    body = urlencode({"ssl_check": "1", "token": "legacy"})
    assert await slack.post(body, FORM) == 200
    assert slack.answer == ""
    # even shaped like a command, an ssl_check is only an ssl_check
    body = urlencode({"ssl_check": "1", "token": "legacy", "command": "/coach",
                      "team_id": TEAM, "channel_id": CHANNEL, "user_id": "ULEAD",
                      "text": 'setup "Probe"'})  # fmt: skip
    assert await slack.post(body, FORM) == 200
    assert await store.queue_length("slack") == 0
    assert (await store.load(HERE)).partnership.name is None
    assert [c.method for c in slack.fake.calls if c.method != "auth.test"] == []


def forged(body: str) -> list[dict[str, str]]:
    """Signature headers a command must not pass with (all but the last are Slack-shaped)."""
    now = int(time.time())
    good = signed_headers(SECRET, body)
    return [
        {},
        {"X-Slack-Request-Timestamp": good["X-Slack-Request-Timestamp"]},
        {"X-Slack-Signature": good["X-Slack-Signature"]},
        signed_headers("wrong-secret", body),
        signed_headers(SECRET, body, timestamp=now - 301),  # older than Slack's 5 minutes
        signed_headers(SECRET, body, timestamp=now + 301),
        signed_headers(SECRET, body + "&text=tampered"),  # signed for another body
        {**good, "X-Slack-Signature": good["X-Slack-Signature"].upper()},
        {**good, "X-Slack-Signature": good["X-Slack-Signature"].removeprefix("v0=")},
        {**good, "X-Slack-Signature": "v1=" + good["X-Slack-Signature"][3:]},
        {**good, "X-Slack-Request-Timestamp": good["X-Slack-Request-Timestamp"] + ".0"},
        {**good, "X-Slack-Request-Timestamp": "-" + good["X-Slack-Request-Timestamp"]},
        {**good, "X-Slack-Signature": "v0=" + "é" * 64},
    ]


async def test_a_command_with_a_missing_bad_or_old_signature_is_a_401_never_a_5xx(slack, store):
    body = command_body("ULEAD", 'setup "Forged"')
    for headers in forged(body):
        async with slack.http.post(
            "/slack/events", data=body.encode(), headers={"Content-Type": FORM, **headers}
        ) as response:
            assert response.status == 401, headers
    await slack.channel.drain()
    assert await store.queue_length("slack") == 0
    assert (await store.load(HERE)).partnership.name is None
    assert [c.method for c in slack.fake.calls if c.method != "auth.test"] == []


async def test_a_replayed_command_is_done_once_whether_or_not_bolt_reads_it(slack, store):
    """The event id of a command is the digest of its signed body, on the hot path and in
    Bolt's listener (a workspace installed by OAuth) alike."""
    await set_up_three_partners(slack)
    body = command_body("UCHAMBER", 'decide "Meet on the first Tuesday"')
    headers = signed_headers(SECRET, body)
    assert await deliver_again(slack, body, FORM, headers) == 200
    channel = slack.channel
    channel._commands_direct = False  # as under OAuth: Bolt's dispatch and listener
    try:
        assert await deliver_again(slack, body, FORM, headers | {"X-Slack-Retry-Num": "1"}) == 200
    finally:
        channel._commands_direct = True
    assert list((await store.load(HERE)).partnership.decisions) == ["D1"]
    assert len([t for t in slack.said() if "proposes D1" in t]) == 1
