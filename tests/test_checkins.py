"""Check-ins: the next-due table, every check-in variant through the console, the worker's
choices, and exactly one check-in per due time with two worker processes."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.model import Address, Reply
from bot.schedule import Schedule, next_due, parse_schedule
from bot.scheduler import send_checkin
from tests.conftest import project_path

HERE = Address("console", "local", "partnership")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def schedule(cadence: str, day: str, time_: str, tz: str, start: str, **holidays: str) -> Schedule:
    return parse_schedule(cadence, day, time_, tz, at(start), **holidays)


@pytest.mark.parametrize(
    ("rule", "after", "expected"),
    [
        # weekly 09:00 Chicago stays 09:00 local when clocks spring forward (March 8, 2026)...
        (("weekly", "tue", "09:00", "America/Chicago", "2026-03-03T15:00+00:00"),
         "2026-03-03T15:00:00+00:00", "2026-03-10T09:00:00-05:00"),
        # ...and when they fall back (November 1, 2026)
        (("weekly", "tue", "09:00", "America/Chicago", "2026-10-27T15:00+00:00"),
         "2026-10-27T14:00:00+00:00", "2026-11-03T09:00:00-06:00"),
        # monthly: the first Tuesday; from the last day of a month into the next
        (("monthly", "tue", "09:00", "America/New_York", "2026-01-31T12:00+00:00"),
         "2026-03-31T12:00:00+00:00", "2026-04-07T09:00:00-04:00"),
        (("monthly", "fri", "16:00", "Europe/London", "2026-01-01T00:00+00:00"),
         "2026-02-27T00:00:00+00:00", "2026-03-06T16:00:00+00:00"),
        # quarterly: the first Tuesday of January, April, July, October
        (("quarterly", "tue", "10:30", "Europe/Amsterdam", "2026-02-01T00:00+00:00"),
         "2026-02-01T00:00:00+00:00", "2026-04-07T10:30:00+02:00"),
        # biweekly: every other week from the first occurrence
        (("biweekly", "wed", "08:00", "America/Denver", "2026-05-04T12:00+00:00"),
         "2026-05-06T14:01:00+00:00", "2026-05-20T08:00:00-06:00"),
        # a public holiday (Memorial Day, May 25, 2026) moves it to the next working day
        (("weekly", "mon", "09:00", "America/New_York", "2026-05-19T00:00+00:00", "US"),
         "2026-05-19T00:00:00+00:00", "2026-05-26T09:00:00-04:00"),
        # Christmas on a Friday; the Monday after is Boxing Day's substitute holiday in the UK,
        # so the weekend and that Monday are passed over
        (("weekly", "fri", "09:00", "Europe/London", "2026-12-20T00:00+00:00", "GB"),
         "2026-12-20T00:00:00+00:00", "2026-12-29T09:00:00+00:00"),
        # a regional holiday: Saint-Jean-Baptiste (24 June) in Quebec, not in Ontario
        (("weekly", "wed", "09:00", "America/Toronto", "2026-06-20T00:00+00:00", "CA", "QC"),
         "2026-06-20T00:00:00+00:00", "2026-06-25T09:00:00-04:00"),
        (("weekly", "wed", "09:00", "America/Toronto", "2026-06-20T00:00+00:00", "CA", "ON"),
         "2026-06-20T00:00:00+00:00", "2026-06-24T09:00:00-04:00"),
        # 02:30 does not exist on March 8, 2026 in Chicago: it happens at 03:30, as clocks do
        (("weekly", "sun", "02:30", "America/Chicago", "2026-03-02T00:00+00:00"),
         "2026-03-02T00:00:00+00:00", "2026-03-08T03:30:00-05:00"),
    ],
)  # fmt: skip
def test_next_due(rule, after, expected):
    cadence, day, time_, tz, start, *holiday = rule
    places = dict(zip(("country", "region"), holiday, strict=False))
    assert next_due(schedule(cadence, day, time_, tz, start, **places), at(after)) == at(expected)


async def setup_with_checkins(convo, clock):
    await convo.script(
        """
lead: setup "Trails"
lead: partner add "City of Springfield" government
lead: partner add "Acme" business
lead: join "City of Springfield"
rep: join "Acme"
lead: member confirm @rep
lead: checkins weekly tue 09:00 America/Chicago
"""
    )


async def test_each_check_in_variant_through_the_console(convo, clock):
    await setup_with_checkins(convo, clock)
    out = await convo("lead: checkins now")
    assert 'Check-in for "Trails": what has happened since Tuesday, April 14, 2026.' in out

    out = await convo("lead: checkins now")  # nothing since the last one
    assert "Nothing new since the last check-in." in out
    assert "It has been quiet since" in out

    await convo('rep: decide "Meet monthly"')
    out = await convo("lead: checkins now")
    assert '- Proposed, waiting for endorsements: D1 "Meet monthly"' in out
    assert '- D1 "Meet monthly", waiting on City of Springfield and Acme (over to: lead and rep)' in out
    assert "Some of what is open is waiting on partners who have been asked (lead and rep)" in out
    assert "For City of Springfield: if anything here needs council" in out  # government
    assert "For Acme: say which decision points matter most" in out  # business
    assert "--- trails-progress-report-2026-04-14.md ---" in out
    assert "# Progress report: Trails" in out

    await convo("rep: checkins mute")
    await convo("rep: endorse D1")
    await convo("lead: endorse D1")
    out = await convo("lead: checkins now")
    assert '- Agreed: D1 "Meet monthly"' in out
    assert "D1 is agreed: every partner organization signed up to it" in out  # celebrate

    await convo('rep: measure add "Ozone alert days" --unit days --baseline 18 --target 10')
    await convo('rep: measure report "Ozone alert days" 15')
    await convo('rep: measure report "Ozone alert days" 15')
    await convo('rep: decide "Share one dashboard"')
    out = await convo("lead: checkins now")
    assert "Ozone alert days has not moved since it was last reported" in out  # shifted
    assert "(over to: lead)" in out  # rep muted check-ins for themself


async def test_a_preview_is_one_private_message_and_sends_nothing(convo, clock, store):
    await setup_with_checkins(convo, clock)
    await convo('rep: decide "Meet monthly"')
    before = await store.redis.keys(f"{store.prefix}:*")
    out = await convo("lead: checkins preview")
    assert out.count(convo.channel.prompt("console.private", user="lead")) == 1
    assert out.startswith(convo.channel.prompt("console.private", user="lead"))
    assert convo.channel.prompt("checkins.preview_intro") in out
    assert "Meet monthly" in out
    assert sorted(await store.redis.keys(f"{store.prefix}:*")) == sorted(before)
    out = await convo("lead: checkins now")  # the preview was not the check-in
    assert "Meet monthly" in out
    assert convo.channel.prompt("checkins.preview_intro") not in out


async def test_setting_pausing_and_skipping_check_ins(convo, clock, store):
    await setup_with_checkins(convo, clock)
    assert (await store.due(clock.now + timedelta(days=8)))[0][1] == at("2026-04-21T14:00:00+00:00")
    out = await convo("lead: checkins skip next")
    assert "The check-in of Tuesday, April 21, 2026, 9:00 AM (America/Chicago) will be skipped" in out
    assert (await store.due(clock.now + timedelta(days=30)))[0][1] == at(
        "2026-04-28T14:00:00+00:00"
    )
    await convo("lead: checkins pause")
    assert await store.due(clock.now + timedelta(days=30)) == []
    out = await convo("rep: checkins resume")
    assert "Only a facilitator" in out
    for bad, message in [
        ("checkins daily tue 09:00 America/Chicago", '"daily" is not a cadence'),
        ("checkins weekly tue 25:00 America/Chicago", '"25:00" is not a time of day'),
        ("checkins weekly tue 09:00 Mars/Olympus", '"Mars/Olympus" is not a time zone'),
        ("checkins weekly tue 09:00 UTC --holidays XX", 'I have no public holidays for "XX"'),
    ]:
        assert message in await convo(f"lead: {bad}")


async def test_the_worker_sends_once_skips_and_replaces_a_late_check_in(convo, clock, coach, store):
    await setup_with_checkins(convo, clock)
    sent: list[list[Reply]] = []

    async def courier(address, replies, receipt):
        sent.append(replies)
        return True

    couriers = {"console": courier}
    pid = HERE.conversation
    due = at("2026-04-21T14:00:00+00:00")
    assert await send_checkin(coach, couriers, pid, due, due + timedelta(minutes=1)) == "sent"
    assert await send_checkin(coach, couriers, pid, due, due + timedelta(minutes=2)) == "already"
    assert len(sent) == 1 and 'Check-in for "Trails"' in sent[0][0].text
    assert (await store.due(due + timedelta(days=8)))[0][1] == at("2026-04-28T14:00:00+00:00")

    clock.now = due + timedelta(minutes=5)
    await convo("lead: checkins skip next")
    skipped = at("2026-04-28T14:00:00+00:00")
    assert await send_checkin(coach, couriers, pid, skipped, skipped) == "skipped"
    assert len(sent) == 1

    late = at("2026-05-05T14:00:00+00:00")  # the coach was down for two days
    outcome = await send_checkin(coach, couriers, pid, late, late + timedelta(days=2))
    assert outcome == "missed"
    assert sent[-1][0].text.startswith("The check-in due on Tuesday, May 5, 2026, 9:00 AM (America/Chicago) was missed")
    assert "The next one is on Tuesday, May 12, 2026, 9:00 AM (America/Chicago)" in sent[-1][0].text


def shared_redis_env(redis_socket, prefix, **extra):
    """A coach process's environment on the tests' Redis and key prefix."""
    return {
        **os.environ,
        "REDIS_URL": f"unix://{redis_socket}",
        "COACH_KEY_PREFIX": prefix,
        **extra,
    }


def start_worker(redis_socket, prefix, log, level="WARNING"):
    env = shared_redis_env(redis_socket, prefix, COACH_JOB_TIMEOUT_S="3", LOG_LEVEL=level)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"],
        env=env, cwd=project_path(), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def start_console(redis_socket, prefix, out):
    env = shared_redis_env(redis_socket, prefix)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--channel", "p0"],
        env=env, cwd=project_path(), stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip


async def partnerships_due(coach, store, count):
    from bot.model import Turn, User

    # a weekly slot two minutes ago: each check-in is really due, on its schedule
    slot = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    cadence = f"checkins weekly {slot.strftime('%a').lower()} {slot.strftime('%H:%M')} UTC"
    pids = []
    for n in range(count):
        address = Address("console", "local", f"p{n}")
        for text in (f'setup "P{n}"', cadence):
            await coach.handle(Turn(address, User("lead", "lead"), text))
        await store.set_due(address.conversation, slot)
        pids.append(address.conversation)
    return pids


async def wait_recorded(store, pids, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        loaded = [await store.load_partnership(pid) for pid in pids]
        if all(s.partnership.last_checkin for s in loaded):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("not every check-in was recorded in time")


async def check_ins_per_partnership(store, pids):
    """How many check-ins each console conversation shows (its transcript, as the console
    prints it)."""
    counts = []
    for pid in pids:
        posts = await store.transcript(Address.of_conversation(pid), "0-0", block_ms=None)
        counts.append(sum('"Check-in for' in reply for _, reply in posts))
    return counts


@pytest.mark.skipif(os.environ.get("REDIS_URL") is not None, reason="uses the embedded server")
async def test_two_workers_send_each_due_check_in_exactly_once(
    coach, store, redis_socket, prefix, tmp_path
):
    pids = await partnerships_due(coach, store, 200)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with logs[0].open("w") as a, logs[1].open("w") as b:
        workers = [start_worker(redis_socket, prefix, out, "INFO") for out in (a, b)]
        try:
            await wait_recorded(store, pids, 60)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            assert [worker.wait(timeout=30) for worker in workers] == [0, 0]  # a clean stop
    assert await check_ins_per_partnership(store, pids) == [1] * 200
    assert all("check-in sent for console:local:p" in log.read_text() for log in logs)  # both


@pytest.mark.skipif(os.environ.get("REDIS_URL") is not None, reason="uses the embedded server")
async def test_a_worker_killed_mid_run_leaves_each_with_exactly_one_check_in(
    coach, store, redis_socket, prefix, tmp_path
):
    """Killed at a moment of its own, not just after a send: every check-in still goes out,
    once. A job cut short after its post and before its record is run again by the survivor,
    which finds the post in the transcript and only records it."""
    pids = await partnerships_due(coach, store, 200)
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    with first.open("w") as out:
        doomed = start_worker(redis_socket, prefix, out)
        for _ in range(3000):  # up to 30 s for the first twenty check-ins
            if sum(await check_ins_per_partnership(store, pids[:40])) >= 20:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(random.uniform(0, 0.05))  # not aligned with a send
        doomed.send_signal(signal.SIGKILL)  # mid-run: some sent, some queued, some running
        doomed.wait(timeout=10)
    with second.open("w") as out:
        survivor = start_worker(redis_socket, prefix, out)
        try:
            await wait_recorded(store, pids, 60)
        finally:
            survivor.send_signal(signal.SIGTERM)
            assert survivor.wait(timeout=30) == 0
    assert await check_ins_per_partnership(store, pids) == [1] * 200


async def test_owners_are_asked_for_their_measures_a_day_ahead(convo, clock, coach):
    from bot.scheduler import send_reminders

    await setup_with_checkins(convo, clock)
    await convo('rep: measure add "Ozone alert days" --unit days --baseline 18 --target 10')
    await convo('lead: measure add "Riders per day" --baseline 1000 --target 1500')
    sent = []

    async def courier(address, replies, receipt):
        sent.extend(r.text for r in replies)
        return True

    due = at("2026-04-21T14:00:00+00:00")
    assert await send_reminders(coach, {"console": courier}, HERE.conversation, due, due) == 2
    (reminder,) = sent  # one message, a paragraph per measure
    acme, city = reminder.split("\n\n")
    assert acme == (
        "Acme: the next check-in is on Tuesday, April 21, 2026, 9:00 AM (America/Chicago). Please "
        "report the latest value of Ozone alert days before then"
        ', with /coach measure report "Ozone alert days" <value>.'
    )
    assert city.startswith("City of Springfield: the next check-in")

    clock.now = due + timedelta(minutes=1)
    await convo("lead: checkins now")
    clock.now += timedelta(days=1)
    await convo('rep: measure report "Ozone alert days" 14')
    sent.clear()
    later = at("2026-04-28T14:00:00+00:00")
    assert await send_reminders(coach, {"console": courier}, HERE.conversation, later, later) == 1
    assert sent[0].startswith("City of Springfield")  # Acme has reported since


async def test_an_undelivered_check_in_is_not_recorded_and_is_tried_again(
    convo, clock, coach, store
):
    await setup_with_checkins(convo, clock)
    due = at("2026-04-21T14:00:00+00:00")

    async def down(address, replies, receipt):
        return False

    async def broken(address, replies, receipt):
        raise ConnectionError("platform unreachable")

    for couriers in ({"console": down}, {"console": broken}, {}):
        assert await send_checkin(coach, couriers, HERE.conversation, due, due) == "undelivered"
        assert (await store.load(HERE)).partnership.last_checkin is None
    assert (await store.due(due))[0] == (HERE.conversation, due)  # still due


async def test_a_re_run_finds_what_an_interrupted_run_posted(convo, clock, coach, store):
    """The console's platform took the check-in, then the run failed before recording it (as
    a worker killed there would): the next run finds the post and only records it."""
    await setup_with_checkins(convo, clock)
    due = at("2026-04-21T14:00:00+00:00")

    async def posts_then_dies(address, replies, receipt):
        await convo.channel.send(address, replies, receipt)
        raise ConnectionResetError("the worker's connection dropped after the post")

    posts = convo.channel.send

    assert await send_checkin(coach, {"console": posts_then_dies}, HERE.conversation, due, due) == (
        "undelivered"
    )
    assert await check_ins_per_partnership(store, [HERE.conversation]) == [1]
    assert await send_checkin(coach, {"console": posts}, HERE.conversation, due, due) == "sent"
    assert await check_ins_per_partnership(store, [HERE.conversation]) == [1]
    assert (await store.load(HERE)).partnership.last_checkin["due"] == due.isoformat()


async def test_a_due_time_from_an_old_cadence_is_not_sent(convo, clock, coach, store):
    await setup_with_checkins(convo, clock)
    await convo("lead: checkins monthly fri 16:00 Europe/London")
    old_slot = at("2026-04-21T14:00:00+00:00")
    assert await send_checkin(coach, {}, HERE.conversation, old_slot, old_slot) == "moved"
    assert (await store.due(clock.now + timedelta(days=60)))[0][1] == at(
        "2026-05-01T15:00:00+00:00"
    )


async def test_skips_add_up_and_survive_a_pause(convo, clock, store):
    await setup_with_checkins(convo, clock)
    await convo("lead: checkins skip next")
    await convo("lead: checkins skip next")
    assert "The next one is on Tuesday, May 5, 2026" in await convo("lead: checkins")
    await convo("lead: checkins pause")
    assert "The next one is on Tuesday, May 5, 2026" in await convo("lead: checkins resume")
    assert (await store.due(clock.now + timedelta(days=60)))[0][1] == at(
        "2026-05-05T14:00:00+00:00"
    )


async def test_a_biweekly_check_in_can_start_on_a_holiday(convo, clock):
    await setup_with_checkins(convo, clock)
    clock.now = at("2026-05-19T12:00:00+00:00")  # the next Monday is Memorial Day
    out = await convo("lead: checkins biweekly mon 09:00 America/New_York --holidays US")
    assert "The next one is on Tuesday, May 26, 2026, 9:00 AM" in out


async def test_a_decision_reopened_after_agreement_is_not_celebrated(convo, clock):
    await setup_with_checkins(convo, clock)
    await convo("lead: checkins now")
    await convo('rep: decide "Meet monthly"')
    await convo("rep: endorse D1")
    await convo("lead: endorse D1")
    await convo('lead: revise D1 "Meet every six weeks"')
    out = await convo("lead: checkins now")
    assert "signed up to it" not in out
    assert '- D1 "Meet every six weeks", waiting on' in out


async def test_measures_reject_ambiguous_numbers_and_survive_their_owner_leaving(convo, clock):
    await setup_with_checkins(convo, clock)
    out = await convo('rep: measure add "Ozone days" --unit days --baseline 18')
    assert "Measures of success show whether" in out  # the usage: --target is missing
    await convo('rep: measure add "Ozone days" --baseline 18 --target 10')
    assert '"1,5" is not a number' in await convo('rep: measure report "Ozone days" 1,5')
    assert "Ozone days: 1500" in await convo('rep: measure report "Ozone days" 1,500')
    await convo('lead: partner remove "Acme" --yes')
    assert "Ozone days: 12" in await convo('lead: measure report "Ozone days" 12')


@pytest.mark.skipif(os.environ.get("REDIS_URL") is not None, reason="uses the embedded server")
async def test_the_console_shows_the_check_in_a_worker_posts(
    coach, store, redis_socket, prefix, tmp_path
):
    """`coach console` in one terminal, `coach worker` in another: the check-in appears in the
    console as it is posted."""
    await partnerships_due(coach, store, 1)
    shown, worked = tmp_path / "console.log", tmp_path / "worker.log"
    with shown.open("w") as out, worked.open("w") as log:
        console = start_console(redis_socket, prefix, out)
        worker = None
        try:
            assert console.stdin is not None
            console.stdin.write(b"help\n")  # once its answer shows, the console is following
            console.stdin.flush()
            for _ in range(300):
                if "/coach" in shown.read_text():
                    break
                await asyncio.sleep(0.1)
            worker = start_worker(redis_socket, prefix, log)
            for _ in range(300):
                if 'Check-in for "P0"' in shown.read_text():
                    break
                await asyncio.sleep(0.1)
            console.stdin.close()
            assert console.wait(timeout=30) == 0
        finally:
            console.kill()
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
    text = shown.read_text()
    assert text.count('Check-in for "P0": what has happened since') == 1, text
    assert "-progress-report-" in text and "# Progress report: P0" in text


async def test_a_send_that_hangs_is_retried_not_dropped(convo, clock, coach, store):
    """arq fails a job that outlives its timeout and never runs it again; the check-in job
    stops a hanging send itself and asks to be run again instead."""
    from arq.worker import Retry

    from bot.scheduler import checkin_job

    await setup_with_checkins(convo, clock)
    due = at("2026-04-21T14:00:00+00:00")

    async def hangs(address, replies, receipt):
        await asyncio.sleep(3600)

    ctx = {"coach": coach, "couriers": {"console": hangs}, "send_timeout_s": 0.2}
    with pytest.raises(Retry):
        await checkin_job(ctx, HERE.conversation, due.isoformat())
    assert (await store.load(HERE)).partnership.last_checkin is None
    assert (await store.due(due))[0] == (HERE.conversation, due)  # still due


@pytest.mark.skipif(os.environ.get("REDIS_URL") is not None, reason="uses the embedded server")
async def test_a_worker_stopped_and_started_mid_run_ends_cleanly_and_sends_each_once(
    coach, store, redis_socket, prefix
):
    """The in-process worker stops whenever the console does: the jobs it is running finish
    (or stay queued), the stop raises nothing, and each check-in still goes out once."""
    from bot.config import Settings
    from bot.scheduler import running_worker

    pids = await partnerships_due(coach, store, 30)
    settings = Settings(redis_url=f"unix://{redis_socket}", key_prefix=prefix, job_timeout_s=3)
    for n in range(30):
        async with running_worker(coach, settings):
            await asyncio.sleep(0.01 * (n % 10))
    async with running_worker(coach, settings):
        await wait_recorded(store, pids, 60)
    assert await check_ins_per_partnership(store, pids) == [1] * 30


async def test_the_console_shows_each_post_and_skips_one_it_cannot_read(coach, store):
    import io

    from bot.adapters.console import ConsoleChannel

    out = io.StringIO()
    console = ConsoleChannel(coach, out)
    start = await store.transcript_end(console.address)
    following = asyncio.ensure_future(console.follow(start))
    try:
        await store.post(console.address, '{"text": "from a newer version", "color": 1}', "t", 0)
        await store.post(console.address, Reply("Check-in for the partnership").to_json(), "t", 1)
        for _ in range(200):
            if "Check-in for the partnership" in out.getvalue():
                break
            await asyncio.sleep(0.01)
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
    assert out.getvalue() == "Check-in for the partnership\n\n"
