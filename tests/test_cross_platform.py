"""One partnership in a Slack channel and a Teams channel at once, each platform reached through
its stand-in (tests/fake_slack.py, tests/fake_teams.py): linked with a one-time code, a decision
proposed in Slack and endorsed in Teams, its card updated in place on both, and a check-in that
reaches both, once each, with two worker processes running."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime, timedelta

import pytest

from bot.model import Address
from tests.conftest import project_path
from tests.fake_teams import FakeConnector
from tests.test_checkins import shared_redis_env
from tests.test_records import said
from tests.test_slack import SECRET, Slack, set_up_three_partners
from tests.test_slack import slack as slack  # the fixture
from tests.test_teams import BOT, TENANT, Teams
from tests.test_teams import CHANNEL as TEAMS_CHANNEL
from tests.test_teams import teams as teams  # the fixture

SLACK_HERE = Address("slack", "T1", "C1")
TEAMS_HERE = Address("teams", TENANT, TEAMS_CHANNEL)
PID = SLACK_HERE.conversation


async def link_code(store) -> str:
    (key,) = await store.scan(f"{store.prefix}:link-code:*")
    return key.rsplit(":", 1)[1]


def teams_posts(connector: FakeConnector) -> list[str]:
    return [s.activity.get("text", "") for s in connector.sent if s.method == "POST"]


def start_worker(redis_socket, prefix, log, slack_api_url):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    env = shared_redis_env(
        redis_socket,
        prefix,
        COACH_JOB_TIMEOUT_S="5",
        LOG_LEVEL="INFO",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack_api_url,
        TEAMS_EMULATOR="true",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"],
        env=env, cwd=project_path(), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.mark.skipif(os.environ.get("REDIS_URL") is not None, reason="uses the embedded server")
async def test_a_slack_channel_and_a_teams_channel_share_one_partnership(
    slack: Slack, teams: Teams, coach, store, content, redis_socket, prefix, tmp_path
):
    await set_up_three_partners(slack)
    await slack.command("ULEAD", "link")
    code = await link_code(store)
    assert await teams.say("city", f"link {code}") == 202  # nobody there had a partnership
    assert await store.partnership_of(TEAMS_HERE) == PID
    assert await teams.say("city", 'join "City of Sacramento"') == 202
    await slack.command("ULEAD", "member confirm @29:city")  # the city's lead vouches for them

    # the archive: a zip file in the facilitator's Slack direct messages; Teams, with no public
    # URL for a download link, tells its facilitator how an operator writes it instead
    await slack.command("ULEAD", "export archive")
    (upload,) = slack.fake.uploads.values()
    assert upload[:2] == b"PK" and b"redis.json" in upload
    assert slack.fake.of("files.completeUploadExternal")[-1]["channel_id"] == "DULEAD"
    await slack.command("ULEAD", "facilitator add 29:city")  # a facilitator on the other side
    await teams.say("city", "export archive")
    assert teams.connector.texts(teams.connector.personal("29:city")[0])[-1] == said(
        content,
        "records.archive_needs_link",
        partnership="Sacramento Transportation & Air Quality Collaborative",
        id=PID,
    )

    # proposed in Slack: the card is posted in both channels
    await slack.command("UCHAMBER", 'decide "Share one air-quality dashboard"')
    slack_card = await store.message_id(SLACK_HERE, "decision:D1")
    teams_card = await store.message_id(TEAMS_HERE, "decision:D1")
    assert slack_card is not None and teams_card is not None
    assert teams.connector.sent[-1].method == "POST"
    assert teams.connector.card(teams.connector.sent[-1])["actions"]  # a card with buttons

    # endorsed in Slack: the card changes in place on both platforms
    message = slack.last("chat.postMessage") | {"ts": slack_card}
    await slack.click("UCHAMBER", message, "Endorse")
    await slack.click("UNGO", message, "Endorse")
    assert slack.last("chat.update")["ts"] == slack_card
    update = teams.connector.sent[-1]
    assert (update.method, update.activity_id) == ("PUT", teams_card)

    # endorsed in Teams, on the card posted there: agreed, and shown so on both platforms
    assert await teams.click("city", update, "Endorse") == 200
    p = (await store.load_partnership(PID)).partnership
    assert p.decisions["D1"].agreed_at is not None
    agreed = said(
        content, "decisions.agreed", decision="D1", text="Share one air-quality dashboard"
    )
    final = slack.last("chat.update")
    assert final["ts"] == slack_card and final["text"].startswith(agreed.split(":")[0])
    update = teams.connector.sent[-1]
    assert (update.method, update.activity_id) == ("PUT", teams_card)
    assert update.activity["text"] == agreed
    assert [s.activity_id for s in teams.connector.sent if s.method == "PUT"] == [teams_card] * 3

    # a check-in due now reaches both channels, once each, with two workers running
    slot = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    cadence = f"checkins weekly {slot.strftime('%a').lower()} {slot.strftime('%H:%M')} UTC"
    await slack.command("ULEAD", cadence)
    await store.set_due(PID, slot)
    teams_before = len(teams_posts(teams.connector))
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with logs[0].open("w") as a, logs[1].open("w") as b:
        workers = [start_worker(redis_socket, prefix, out, slack.fake.api_url) for out in (a, b)]
        try:
            for _ in range(600):
                last = (await store.load_partnership(PID)).partnership.last_checkin
                if last and last.get("due") == slot.isoformat():
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("no check-in: " + logs[0].read_text() + logs[1].read_text())
            await asyncio.sleep(1)  # a second copy, were there one, would have landed by now
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            assert [worker.wait(timeout=30) for worker in workers] == [0, 0]
    slack_checkins = [m for m in slack.fake.messages("C1") if "metadata" in m]
    assert len(slack_checkins) == 1
    opening = said(content, "checkins.opening", partnership="x", since="y").split('"')[0]
    new_teams = teams_posts(teams.connector)[teams_before:]
    assert len(new_teams) == 1 and new_teams[0].startswith(opening)
    assert slack_checkins[0]["text"].startswith(opening)
    assert last["conversations"] == f"{SLACK_HERE.conversation},{TEAMS_HERE.conversation}"


async def test_two_teams_channels_share_one_partnership(teams: Teams, store, content):
    other = "19:field-team@thread.tacv2"

    def in_other(user: str, text: str) -> dict:
        mention = {"type": "mention", "mentioned": BOT, "text": "<at>Coach</at>"}
        activity = teams.activity(user, text=f"<at>Coach</at> {text}", entities=[mention])
        activity["conversation"] = activity["conversation"] | {"id": other}
        return activity

    await teams.say("city", 'setup "Trails"')
    await teams.say("city", 'partner add "City" government')
    await teams.say("city", 'partner add "Acme" business')
    await teams.say("city", 'join "City"')
    await teams.say("city", "link")
    assert await teams.post(in_other("acme", f"link {await link_code(store)}")) == 202
    assert await teams.post(in_other("acme", 'join "Acme"')) == 202
    await teams.say("city", "member confirm @29:acme")
    assert await teams.post(in_other("acme", 'decide "Meet monthly"')) == 202
    posted = [s for s in teams.connector.sent if s.method == "POST"][-2:]
    assert sorted(s.conversation for s in posted) == sorted([other, TEAMS_CHANNEL])
    home_card = await store.message_id(TEAMS_HERE, "decision:D1")
    await teams.say("city", "endorse D1")
    assert await teams.post(in_other("acme", "endorse D1")) == 202
    updates = [(s.conversation, s.activity_id) for s in teams.connector.sent if s.method == "PUT"]
    assert (TEAMS_CHANNEL, home_card) in updates and len(updates) == 4  # each card, twice
    assert (
        (await store.load_partnership(TEAMS_HERE.conversation))
        .partnership.decisions["D1"]
        .agreed_at
    )
