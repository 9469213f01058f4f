"""The workshop through Slack end to end: signed requests to the coach's endpoint, direct
messages as `message.im` events, and the stand-in Web API recording what each person sees."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.partnership import practice_id
from tests.test_slack import CHANNEL, HERE, Slack
from tests.test_slack import slack as slack  # the fixture
from tests.test_workshop import state_keys

PEOPLE = ("ULEAD", "UCHAMBER", "UNGO", "URESIDENT")


async def set_up(slack: Slack) -> None:
    for user, text in [
        ("ULEAD", 'setup "Riverside Partnership"'),
        ("ULEAD", 'partner add "City of Riverside" government'),
        ("ULEAD", 'partner add "Metro Chamber" business'),
        ("ULEAD", 'partner add "Clean Air Coalition" nonprofit'),
        ("ULEAD", 'partner add "Eastside Neighbors" community'),
        ("ULEAD", 'join "City of Riverside"'),
        ("UCHAMBER", 'join "Metro Chamber"'),
        ("UNGO", 'join "Clean Air Coalition"'),
        ("URESIDENT", 'join "Eastside Neighbors"'),
        ("ULEAD", "member confirm @UCHAMBER"),
        ("ULEAD", "member confirm @UNGO"),
        ("ULEAD", "member confirm @URESIDENT"),
    ]:
        assert await slack.command(user, text) == 200


async def direct_message(slack: Slack, user: str, text: str) -> None:
    event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user,
             "text": text, "ts": f"{time.time():.6f}"}  # fmt: skip
    assert await slack.event(event, f"Ev{time.monotonic_ns()}") == 200


def seen_by(slack: Slack, user: str) -> list[dict[str, Any]]:
    """What only `user` sees: ephemeral messages to them and messages in their DM."""
    return [c for c in slack.fake.of("chat.postEphemeral") if c["user"] == user] + [
        c for c in slack.fake.of("chat.postMessage") if c["channel"] == f"D{user}"
    ]


def channel_posts(slack: Slack, since: int = 0) -> list[dict[str, Any]]:
    posts = [c for c in slack.fake.of("chat.postMessage") if c["channel"] == CHANNEL]
    return posts[since:]


async def test_brainwriting_through_slack(slack, store, content):
    await set_up(slack)
    assert await slack.command("ULEAD", "exercise sector-styles government business") == 200
    question = content.exercises["sector-styles"].per_sector[0].for_sector("government")
    for user in PEOPLE:  # each person is asked privately
        assert any(question in c["text"] for c in seen_by(slack, user)), user
    assert not any(question in c["text"] for c in channel_posts(slack))

    writes = [
        ("UCHAMBER", 'write government culture "slow approval and careful rules"'),
        ("UNGO", 'write government limitations "slow approval cycles"'),
        ("URESIDENT", 'write business culture "fast and profit driven"'),
        ("ULEAD", 'write business assets "money and delivery"'),
    ]
    for n, (user, text) in enumerate(writes, 1):
        await direct_message(slack, user, text)
        sector, question = text.split()[1:3]
        written = content.prompts.render(
            "exercises.written", sector=sector, question=question, count=n
        )
        assert seen_by(slack, user)[-1]["text"] == written
    writing = (await store.load(HERE)).partnership.dialogs["brainwriting"]
    assert writing["contributors"] == sorted(PEOPLE)

    before = len(channel_posts(slack))
    assert await slack.command("ULEAD", "exercise close") == 200
    reveal = channel_posts(slack, before)
    shown = json.dumps(reveal)
    for _, text in writes:
        assert text.split('"')[1] in shown
    for user in PEOPLE:  # neither ids nor display names
        assert user not in shown and user.lower() not in shown
    assert all(post.get("thread_ts") for post in reveal)  # the exercise has its own thread
    assert content.exercises["sector-styles"].debrief[0] in shown

    assert await slack.command("UNGO", 'exercise answer "Approval came up again and again"') == 200
    assert await slack.command("ULEAD", "exercise stop") == 200
    assert await slack.command("UCHAMBER", "exercise record") == 200
    (kept,) = slack.fake.uploads.values()  # the record, as a file
    assert b"Approval came up again and again" in kept
    assert b"slow approval cycles" in kept


async def test_a_practice_run_through_slack(slack, store, content):
    await set_up(slack)
    assert await slack.command("UCHAMBER", 'decide "Meet monthly"') == 200
    before = {k: v for k, v in (await state_keys(store, HERE.conversation)).items()
              if not k.endswith(":messages")}  # fmt: skip

    assert await slack.command("ULEAD", "practice transportation-air-quality") == 200
    space = (await store.load_partnership(practice_id(HERE.conversation))).partnership
    roles = space.dialogs["practice"]["roles"]
    case = content.cases["transportation-air-quality"]
    briefs = {g.id: g.brief for g in case.interest_groups}
    for user in PEOPLE:  # each brief reaches only its reader
        mine = briefs[roles[user]]
        assert any(mine in c["text"] for c in seen_by(slack, user))
        others = [b for g, b in briefs.items() if g != roles[user]]
        assert not any(b in c["text"] for c in seen_by(slack, user) for b in others)
    assert not any(b in json.dumps(channel_posts(slack)) for b in briefs.values())

    for user, text in [
        ("ULEAD", "practice scorecard who why how"),
        ("ULEAD", "practice rate who.partners in-place"),
        ("UCHAMBER", "practice rate who.partners not-in-place"),
        ("UNGO", "practice rate why.vision partial"),
        ("URESIDENT", "practice rate why.vision partial"),
    ]:
        assert await slack.command(user, text) == 200
    # a button in the run acts in the run: it carries `practice`
    await direct_message(slack, "UNGO", 'practice decide "Two seats for each group"')
    card = slack.fake.of("chat.postMessage")[-1]
    assert card["channel"] == CHANNEL
    await slack.click("UCHAMBER", card | {"ts": card.get("ts", "c1")}, "Endorse")
    space = (await store.load_partnership(practice_id(HERE.conversation))).partnership
    assert space.decisions["D1"].endorsed_by() == [roles["UCHAMBER"]]

    for user, text in [
        ("ULEAD", "practice debrief"),
        ("UNGO", 'practice answer "Who was hardest: seats are power"'),
        ("ULEAD", "practice stop"),
    ]:
        assert await slack.command(user, text) == 200
    said = json.dumps(channel_posts(slack))
    most = content.prompts.render(
        "practice.differed_most", family="Who?", total="2", item="who.partners"
    )
    assert most in said
    (summary,) = slack.fake.uploads.values()  # the summary to keep, as a file
    assert b"Who was hardest: seats are power" in summary

    after = {k: v for k, v in (await state_keys(store, HERE.conversation)).items()
             if not k.endswith(":messages")}  # fmt: skip
    assert after == before  # the real partnership is byte-for-byte unchanged
