"""One partnership across several conversations, and the records a public body keeps: link
codes, links and unlink, the archive, retention trimmed by the worker, legal hold and deletion
(in a conversation and from the command line), each against a real Redis."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.model import Address, Attachment, Reply, Turn, User
from bot.partnership import practice_id, readable_time
from bot.scheduler import send_checkin
from tests.conftest import SETUP_SCRIPT, Convo, project_path, said

CITY = Address("console", "local", "hall")  # the partnership's home conversation
FIELD = Address("console", "local", "yard")  # a second conversation linked to it
PID = CITY.conversation



async def link_code(store) -> str:
    (key,) = await store.scan(f"{store.prefix}:link-code:*")
    return key.rsplit(":", 1)[1]


async def posts_with(store, address: Address, token: str) -> int:
    """How many posts the worker made under `token` into a console conversation."""
    key = f"{store.prefix}:{{{address.conversation}}}:transcript"
    return sum(fields.get("token") == token for _, fields in await store.redis.xrange(key))


async def transcript(store, address: Address) -> list[Reply]:
    return [Reply.from_json(r) for _, r in await store.transcript(address, "0-0", block_ms=None)]


@pytest.fixture
async def linked(coach, store) -> tuple[Convo, Convo]:
    """A partnership set up in one console channel, with a second channel linked to it."""
    city, field = Convo(coach, "hall"), Convo(coach, "yard")
    await city.script(SETUP_SCRIPT)
    await city("city_lead: link")
    await field(f"ngo_two: link {await link_code(store)}")
    assert await store.partnership_of(FIELD) == PID
    return city, field


async def test_two_conversations_act_on_one_partnership(linked, coach, store, content, clock):
    city, field = linked
    p = (await store.load_partnership(PID)).partnership
    assert p.records["links"][FIELD.conversation]["by"] == "ngo_two"
    assert "link_code" not in p.records  # used up
    assert await store.scan(f"{store.prefix}:link-code:*") == []

    await field('ngo_two: join "Clean Air Coalition"')
    await field("city_lead: member confirm @ngo_two")  # a facilitator, in either conversation
    out = await field('ngo_two: decide "Share one air-quality dashboard"')
    assert "D1" in out
    (card,) = await transcript(store, CITY)  # the card reached the other conversation too
    assert card.key == "decision:D1" and card.choices

    await city("city_lead: endorse D1")
    await city("chamber_rep: endorse D1")
    out = await field("ngo_rep: endorse D1")  # a member who joined in the other conversation
    assert (
        said(content, "decisions.agreed", decision="D1", text="Share one air-quality dashboard")
        in out
    )
    p = (await store.load_partnership(PID)).partnership
    assert p.decisions["D1"].agreed_at is not None
    assert set(p.members) >= {"city_lead", "chamber_rep", "ngo_rep", "ngo_two"}
    cards = [r for r in await transcript(store, FIELD) if r.key == "decision:D1"]
    assert len(cards) == 2  # the endorsements typed in the city channel, shown in the field one
    assert (await transcript(store, CITY))[-1].text.startswith(
        said(content, "decisions.agreed", decision="D1", text="Share one air-quality dashboard")
    )

    out = await field("links")
    assert CITY.conversation in out and FIELD.conversation in out

    # a check-in reaches both conversations, once each, even when sent twice
    await city("city_lead: checkins weekly tue 09:00 America/Chicago")
    due = (await store.due(clock.now + timedelta(days=8)))[0][1]
    couriers = {"console": city.channel.send}
    assert await send_checkin(coach, couriers, PID, due, due + timedelta(minutes=1)) == "sent"
    assert await send_checkin(coach, couriers, PID, due, due + timedelta(minutes=2)) == "already"
    token = f"checkin:{due.isoformat()}"
    for address in (CITY, FIELD):
        assert await posts_with(store, address, token) == 1
    last = (await store.load_partnership(PID)).partnership.last_checkin
    assert last is not None and last["conversations"] == f"{CITY.conversation},{FIELD.conversation}"


async def test_a_conversation_that_fails_does_not_hold_up_the_others(linked, coach, store, clock):
    city, _ = linked
    await city("city_lead: checkins weekly tue 09:00 America/Chicago")
    due = (await store.due(clock.now + timedelta(days=8)))[0][1]
    failing = {FIELD.conversation}

    async def courier(address, replies, receipt):
        if address.conversation in failing:
            raise ConnectionError("this conversation's platform is down")
        return await city.channel.send(address, replies, receipt)

    couriers = {"console": courier}
    assert await send_checkin(coach, couriers, PID, due, due) == "undelivered"
    token = f"checkin:{due.isoformat()}"
    assert await store.delivered(PID, token) == {CITY.conversation}
    failing.clear()
    assert await send_checkin(coach, couriers, PID, due, due + timedelta(minutes=2)) == "sent"
    for address in (CITY, FIELD):  # the retry sent only where it was missing
        assert await posts_with(store, address, token) == 1


async def test_bad_link_input_gets_a_clear_reply_and_changes_nothing(coach, store, content, clock):
    city, field, other = Convo(coach, "hall"), Convo(coach, "yard"), Convo(coach, "other")
    await city.script(SETUP_SCRIPT)
    rev = await store.revision(PID)

    assert said(content, "records.link_code_unknown") in await field("ngo: link NOPE2345")
    out = await city("chamber_rep: link")  # not a facilitator
    assert said(content, "errors.facilitators_only", command="link", facilitators="city_lead") in out
    assert (
        await store.revision(PID) == rev and await store.scan(f"{store.prefix}:link-code:*") == []
    )

    await city("city_lead: link")
    code = await link_code(store)
    name = "Sacramento Transportation & Air Quality Collaborative"
    assert said(content, "records.link_self", partnership=name) in await city(
        f"city_lead: link {code}"
    )

    clock.now += timedelta(minutes=16)  # expired
    assert said(content, "records.link_code_unknown") in await field(f"ngo: link {code}")
    clock.now -= timedelta(minutes=16)

    # a conversation with a partnership of its own that has decisions: export and delete first
    await other.script(
        """
lead2: setup "Trails"
lead2: partner add "Acme" business
lead2: join "Acme"
lead2: decide "Meet monthly"
"""
    )
    other_rev = await store.revision(Address("console", "local", "other").conversation)
    out = await other(f"lead2: link {code}")
    assert said(content, "records.link_has_records", partnership="Trails") in out
    out = await other(f"someone: link {code}")  # only its facilitators may
    assert (
        said(content, "records.link_facilitators_only", partnership="Trails", facilitators="lead2")
        in out
    )
    assert await store.revision("console:local:other") == other_rev

    await field(f"ngo: link {code}")  # works once
    assert await store.partnership_of(FIELD) == PID
    out = await other(f"lead2: link {code}")  # used
    assert said(content, "records.link_code_unknown") in out
    await city("city_lead: link")
    out = await field(f"ngo: link {await link_code(store)}")  # twice
    assert said(content, "records.link_already", partnership=name) in out

    rev = await store.revision(PID)
    out = await field("ngo: unlink")
    assert said(content, "errors.facilitators_only", command="unlink", facilitators="city_lead") in out
    out = await city("city_lead: unlink")
    assert said(content, "records.unlink_home", partnership=name) in out
    assert await store.revision(PID) == rev
    await field("city_lead: unlink")
    assert await store.partnership_of(FIELD) == FIELD.conversation
    assert said(content, "records.unlink_last", partnership=name) in await city("city_lead: unlink")
    p = (await store.load_partnership(PID)).partnership
    assert p.records["links"][FIELD.conversation]["unlinked_at"]  # the history is kept
    assert [e["type"] for e in await store.journal(PID)][-3:] == ["linked", "link-code", "unlinked"]


async def test_an_empty_partnership_is_replaced_when_its_conversation_links(coach, store, content):
    city, field, third = Convo(coach, "hall"), Convo(coach, "yard"), Convo(coach, "third")
    await city.script(SETUP_SCRIPT)
    await field('lead2: setup "Placeholder"')
    await field("lead2: link")
    await third(f"x: link {await link_code(store)}")  # the placeholder has a channel linked
    await city("city_lead: link")
    code = (await store.scan(f"{store.prefix}:link-code:*"))[0].rsplit(":", 1)[1]
    out = await field(f"lead2: link {code}")
    assert said(content, "records.link_has_links", partnership="Placeholder") in out
    await field("lead2: unlink 2")
    await field(f"lead2: link {code}")
    assert await store.partnership_of(FIELD) == PID
    assert await store.revision(FIELD.conversation) == 0  # nothing of it is left
    assert FIELD.conversation not in await store.partnership_ids()


async def test_records_commands_and_bad_input(three_partners, store, content):
    convo = three_partners
    rev = await store.revision("console:local:partnership")
    for line, command in (("chamber_rep: records", "records"),
                          ("chamber_rep: records keep 7 years", "records"),
                          ("chamber_rep: records hold on", "records"),
                          ("chamber_rep: export archive", "export archive"),
                          ("chamber_rep: partnership delete", "partnership")):  # fmt: skip
        refusal = said(content, "errors.facilitators_only", command=command, facilitators="city_lead")
        assert refusal in await convo(line), line
    out = await convo("city_lead: records keep seven years")
    assert said(content, "records.keep_usage", given="seven years") in out
    assert said(content, "records.keep_usage", given="?") in await convo("city_lead: records keep")
    assert said(content, "records.usage") in await convo("city_lead: records frobnicate")
    assert said(content, "records.hold_usage") in await convo("city_lead: records hold maybe")
    assert await store.revision("console:local:partnership") == rev

    await convo("city_lead: records keep 7 years")
    p = (await store.load(Address("console", "local", "partnership"))).partnership
    assert p.records["retention"]["amount"] == 7 and p.records["retention"]["unit"] == "years"
    assert await store.retained() == ["console:local:partnership"]
    await convo("city_lead: records hold on")
    assert said(content, "records.hold_already_on") in await convo("city_lead: records hold on")
    name = "Sacramento Transportation & Air Quality Collaborative"
    out = await convo("city_lead: partnership delete")
    assert said(content, "records.delete_on_hold", partnership=name) in out
    out = await convo("city_lead: records")
    assert said(content, "records.hold_is_on") in out
    await convo("city_lead: records keep forever")
    assert await store.retained() == []
    kinds = [e["type"] for e in await store.journal("console:local:partnership")]
    assert kinds[-3:] == ["retention", "hold", "retention"]


def read_zip(reply: Reply) -> zipfile.ZipFile:
    assert reply.attachment is not None and reply.attachment.data is not None
    return zipfile.ZipFile(io.BytesIO(reply.attachment.data))


async def keys_about(store, *ids: str) -> set[str]:
    """Every key under the test's prefix whose name names one of `ids` (SCAN)."""
    return {k for k in await store.scan(f"{store.prefix}:*") if any(i in k for i in ids)}


async def test_the_archive_holds_everything_the_coach_keeps(linked, store, content, clock, tmp_path):
    city, field = linked
    await city('chamber_rep: decide "Meet monthly" --item who.representatives')
    await field("ngo_rep: endorse D1")
    await city('city_lead: rate who.partners partial "Two seats still open"')
    await city('city_lead: measure add "Ozone alert days" --baseline 18 --target 10')
    await city("city_lead: checkins weekly tue 09:00 America/Chicago")
    await city("city_lead: records keep 7 years")
    await city("city_lead: practice transportation-air-quality")  # its space is in it too
    clock.now = clock.now.replace(day=15, hour=3)  # 10 PM on April 14 in Chicago
    city.channel.files = tmp_path
    start = city.out.tell()
    replies = await city.channel.line("city_lead: export archive")
    # only the facilitator who asked gets it: the file written, its path shown to them alone
    assert replies[-1].to == "city_lead"
    name = "sacramento-transportation-air-quality-collaborative-archive-2026-04-14.zip"
    assert replies[-1].attachment.filename == name  # named like the other documents
    printed = city.out.getvalue()[start:]
    assert said(content, "console.private", user="city_lead") in printed
    saved = tmp_path / name
    assert said(content, "console.attachment_saved", filename=name, path=str(saved)) in printed
    assert zipfile.ZipFile(saved).read("state.json")
    archive = read_zip(replies[-1])
    assert sorted(archive.namelist()) == sorted([
        "README.txt", "state.json", "decision-log.json", "decision-log.csv", "journal.json",
        "journal.csv", "decisions.csv", "decisions.md", "report.md", "redis.json",
    ])  # fmt: skip

    dumped = json.loads(archive.read("redis.json"))
    # complete: every key about the partnership and its conversations is in the archive
    assert set(dumped["keys"]) == await keys_about(store, PID, FIELD.conversation)
    assert dumped["indexes"]["checkins-due"] and dumped["indexes"]["user"]
    for stream in ("decision-log", "journal"):
        entries = json.loads(archive.read(f"{stream}.json"))
        in_redis = await store.redis.xrange(f"{store.prefix}:{{{PID}}}:{stream}")
        assert [e["id"] for e in entries] == [i for i, _ in in_redis]
        assert all(e["at"] and (e.get("by") or e.get("user")) for e in entries)
    journal = json.loads(archive.read("journal.json"))
    assert journal[-1]["type"] == "archive" and journal[-1]["by"] == "city_lead"  # its own export
    assert {"link-code", "linked", "retention"} <= {e["type"] for e in journal}
    state = json.loads(archive.read("state.json"))
    assert state["conversations"] == [PID, FIELD.conversation]
    assert state["sections"]["decisions"]["D1"]["text"] == "Meet monthly"
    assert state["sections"]["ratings"]["who.partners"]["history"][-1]["note"] == "Two seats still open"
    assert "Meet monthly" in archive.read("decisions.csv").decode()
    assert "Meet monthly" in archive.read("decisions.md").decode()
    assert "Ozone alert days" in archive.read("report.md").decode()
    # a second export that day is saved beside the first, not over it
    await city("city_lead: export archive")
    assert {p.name for p in tmp_path.glob("*.zip")} == {name, name.replace(".zip", "-2.zip")}
    # its README gives the export time in the partnership's zone: 10 PM CDT, on April 14
    readme = archive.read("README.txt").decode()
    assert readable_time(clock.now, ZoneInfo("America/Chicago")) in readme  # 10:00 PM CDT


async def test_the_worker_trims_history_to_the_retention_period_unless_on_hold(
    coach, store, redis_socket, prefix, clock
):
    from bot.config import Settings
    from bot.scheduler import running_worker, trim_job

    convo = Convo(coach, "hall")
    for stream in ("decision-log", "journal"):  # history from long ago
        for n in range(3):
            await store.redis.xadd(
                f"{prefix}:{{{PID}}}:{stream}",
                {"type": "old", "act": "old", "at": "2010-01-01", "by": "x"},
                id=f"12623040000{n}0-0",
            )
    await convo.script(SETUP_SCRIPT)
    await convo('city_lead: decide "Meet monthly"')
    await convo("city_lead: checkins weekly tue 09:00 America/Chicago")
    await convo("city_lead: checkins now")  # the last check-in saw the old entries too
    kept = len(await store.journal(PID)) - 3, len(await store.decision_log(PID)) - 3

    await convo("city_lead: records hold on")
    await convo("city_lead: records keep 7 years")
    assert await trim_job({"coach": coach}) == 0  # on hold: nothing trimmed
    assert len(await store.decision_log(PID)) == kept[1] + 3

    await convo("city_lead: records hold off")
    url = os.environ.get("REDIS_URL") or f"unix://{redis_socket}"
    settings = Settings(redis_url=url, key_prefix=prefix, job_timeout_s=3)
    async with running_worker(coach, settings):  # trims at start-up, then hourly
        for _ in range(200):
            if len(await store.decision_log(PID)) == kept[1]:
                break
            await asyncio.sleep(0.05)
    journal = await store.journal(PID)
    assert not [e for e in journal if e["type"] == "old"]
    assert len(journal) == kept[0] + 3  # the three records acts since
    assert [e["act"] for e in await store.decision_log(PID)] == ["propose"]

    # check-ins keep working on what remains
    out = await convo("city_lead: checkins now")
    assert "D1" in out


async def test_delete_leaves_nothing_in_redis(
    linked, coach, store, content, redis_socket, prefix, tmp_path
):
    from arq import create_pool

    from bot.config import Settings
    from bot.redis_server import arq_redis_settings

    city, _ = linked
    city.channel.files = tmp_path
    await city('chamber_rep: decide "Meet monthly"')
    await city("city_lead: checkins weekly tue 09:00 America/Chicago")
    await city("city_lead: checkins now")
    await city("dm decisions")  # a direct conversation: the person's acting index
    await coach.conversations.remember_reference(FIELD, '{"conversation": {"id": "field"}}')
    await coach.conversations.remember_message(FIELD, "decision:D1", "m-1")
    await coach.conversations.put_record("teams-card", f"{FIELD.conversation}:m-1", "{}")
    await city("city_lead: link")  # a code still pending
    await city("city_lead: practice transportation-air-quality")  # a practice run's own space
    assert await store.revision(practice_id(PID))
    # a document offered by download link in the linked channel (a Teams Word report), and an
    # archive offered in a person's 1:1 chat, which belongs to no partnership
    document = await coach.conversations.put_file(FIELD, "trails.docx", "x/y", b"PK bytes")
    out = await city("city_lead: export archive")
    assert said(content, "console.private", user="city_lead") in out
    (saved,) = city.channel.files.glob("*-archive-*.zip")
    personal = Address("teams", "tenant-1", "a:1on1-city")
    archive_link = await coach.conversations.put_file(
        personal, saved.name, "application/zip", saved.read_bytes(), partnership=PID
    )
    # replies a platform would not take, kept to be tried again: the partnership's go with it,
    # in its channels or (an archive asked for in a direct message) filed under it
    direct = Address("slack", "T9", "D-city-lead")
    for where, owner in ((CITY, None), (direct, PID), (Address("slack", "T9", "C-other"), None)):
        turn = Turn(where, User("city_lead", "city_lead"), "export archive")
        attachment = replace(Attachment.of_bytes("a.zip", b"PK", "x/zip"), partnership=owner)
        await coach.conversations.keep_undelivered("slack", turn, Reply("the archive", attachment=attachment))
    due = (await store.due(coach.clock() + timedelta(days=8)))[0][1]
    url = os.environ.get("REDIS_URL") or f"unix://{redis_socket}"
    pool = await create_pool(arq_redis_settings(Settings(redis_url=url), store.redis))
    for job in ("checkin_job", "reminder_job"):
        await pool.enqueue_job(
            job, PID, due.isoformat(), _job_id=f"{prefix}:{job}:{PID}:{due.isoformat()}",
            _queue_name=f"{prefix}:arq:queue", _defer_by=3600,
        )  # fmt: skip
    await store.redis.set(f"arq:result:{prefix}:checkin_job:{PID}:2026-01-01T00:00:00", "x")
    await store.redis.set(f"arq:retry:{prefix}:checkin_job:{PID}:2026-01-01T00:00:00", "1")
    assert await keys_about(store, PID)

    rev = await store.revision(PID)
    await city("city_lead: partnership delete confirm")  # typed, not the button: refused
    out = await city("city_lead: partnership delete")
    assert said(content, "records.delete_archive_choice") in out
    out = await city("city_lead: 3")  # keep it
    assert await store.revision(PID) == rev + 2
    await city("city_lead: partnership delete")
    stale = city.channel.choices
    await city("city_lead: partnership delete")
    city.channel.choices = stale
    out = await city("city_lead: 2")  # the older message's button
    assert said(content, "records.delete_stale") in out
    out = await city("city_lead: partnership delete")
    out = await city("city_lead: 2")
    assert (
        said(
            content,
            "records.deleted",
            partnership="Sacramento Transportation & Air Quality Collaborative",
        )
        in out
    )

    ids = (PID, FIELD.conversation)
    left = []
    async for key in store.redis.scan_iter(match=f"*{prefix}*", count=1000):
        dumped = json.dumps(await store.dump([key]))
        if any(i in key or i in dumped for i in ids):
            left.append(key)
    assert left == []
    assert await store.replies_kept() == 1  # the other channel's reply is still kept
    assert await store.file(document) is None  # its download link no longer works
    assert await store.file(archive_link) is None
    assert await store.partnership_of(FIELD) == FIELD.conversation
    assert (await store.load(CITY)).partnership.name is None
    await pool.aclose()


def cli(
    redis_socket, prefix, *args: str, stdin: str = "", cwd=None
) -> subprocess.CompletedProcess[str]:
    url = os.environ.get("REDIS_URL") or f"unix://{redis_socket}"
    env = {**os.environ, "REDIS_URL": url, "COACH_KEY_PREFIX": prefix,
           "PYTHONPATH": str(project_path())}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "bot", "partnership", *args],
        env=env, cwd=cwd or project_path(), input=stdin, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


async def test_the_command_line_lists_exports_and_deletes(
    linked, store, content, redis_socket, prefix, tmp_path
):
    city, _ = linked
    listed = await asyncio.to_thread(cli, redis_socket, prefix, "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == [
        said(content, "records.cli_list_line", id=PID,
             name="Sacramento Transportation & Air Quality Collaborative", count=2)
    ]  # fmt: skip

    out = tmp_path / "archive.zip"
    exported = await asyncio.to_thread(cli, redis_socket, prefix, "export", PID, "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    journal = json.loads(zipfile.ZipFile(out).read("journal.json"))
    assert journal[-1]["type"] == "archive" and journal[-1]["by"].startswith("operator:")

    # without --out: named like the chat's archive, the partnership and the day, not its id
    here = tmp_path / "default"
    here.mkdir()
    exported = await asyncio.to_thread(cli, redis_socket, prefix, "export", PID, cwd=here)
    assert exported.returncode == 0, exported.stderr
    (written,) = here.iterdir()
    assert re.fullmatch(
        r"sacramento-transportation-air-quality-collaborative-archive-\d{4}-\d\d-\d\d\.zip",
        written.name,
    )
    assert zipfile.ZipFile(written).read("redis.json")
    exported = await asyncio.to_thread(cli, redis_socket, prefix, "export", PID, cwd=here)
    assert {p.name for p in here.iterdir()} == {written.name, f"{written.stem}-2.zip"}  # kept

    unknown = await asyncio.to_thread(cli, redis_socket, prefix, "export", "console:local:nope")
    assert unknown.returncode == 1

    await city("city_lead: records hold on")
    held = await asyncio.to_thread(cli, redis_socket, prefix, "delete", PID, "--yes")
    assert held.returncode == 1 and await store.revision(PID) > 0
    await city("city_lead: records hold off")
    kept = await asyncio.to_thread(cli, redis_socket, prefix, "delete", PID, stdin="no\n")
    assert kept.returncode == 1 and await store.revision(PID) > 0
    deleted = await asyncio.to_thread(cli, redis_socket, prefix, "delete", PID, stdin="yes\n")
    assert deleted.returncode == 0, deleted.stderr
    assert await keys_about(store, PID, FIELD.conversation) == set()
    listed = await asyncio.to_thread(cli, redis_socket, prefix, "list")
    assert listed.stdout.strip() == said(content, "records.cli_none")


async def test_turns_from_two_conversations_at_once_lose_nothing(linked, coach, store, content):
    """Endorsements typed in both conversations at the same instant: in one process they take
    turns on the partnership's lock; across processes (a second coach), the commit's revision
    check makes the later one reload and apply on top."""
    from bot.coach import Coach
    from bot.model import Turn, User

    city, _ = linked
    await city('chamber_rep: decide "Meet monthly"')
    await city('chamber_rep: decide "Share one dashboard"')
    other_process = Coach(store, content, clock=coach.clock)
    turns = [
        (coach, CITY, "city_lead", "endorse D1"),
        (other_process, FIELD, "ngo_rep", "endorse D1"),
        (coach, FIELD, "chamber_rep", "endorse D1"),
        (other_process, CITY, "city_lead", "endorse D2"),
        (coach, FIELD, "ngo_rep", "endorse D2"),
    ]
    await asyncio.gather(*(c.handle(Turn(a, User(u, u), t)) for c, a, u, t in turns))
    p = (await store.load_partnership(PID)).partnership
    assert p.decisions["D1"].agreed_at is not None
    assert sorted(p.decisions["D2"].endorsed_by()) == ["city-of-sacramento", "clean-air-coalition"]


async def test_measure_reminders_reach_every_linked_conversation(linked, coach, store, clock):
    from bot.scheduler import send_reminders

    city, _ = linked
    await city("city_lead: checkins weekly tue 09:00 America/Chicago")
    await city('chamber_rep: measure add "Ozone alert days" --baseline 18 --target 10')
    due = (await store.due(clock.now + timedelta(days=8)))[0][1]
    couriers = {"console": city.channel.send}
    assert await send_reminders(coach, couriers, PID, due, due - timedelta(hours=20)) == 1
    assert await send_reminders(coach, couriers, PID, due, due - timedelta(hours=19)) == 1
    token = f"reminder:{due.isoformat()}"
    for address in (CITY, FIELD):  # once each, though asked twice
        assert await posts_with(store, address, token) == 1
    assert await store.delivered(PID, token) == {CITY.conversation, FIELD.conversation}
