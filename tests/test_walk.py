"""One typed walk (bot/dialogs/walk.py) under the scorecard round and tactic discussions:
moving on, going back, and refusing a choice picked from an earlier question."""

from __future__ import annotations

from bot.dialogs.walk import Walk
from bot.model import Turn, User
from bot.partnership import Partnership


def walk_of(p: Partnership, kind: str) -> Walk:
    walk = Walk.current(p, kind)
    assert walk is not None
    return walk


async def test_a_round_goes_back_a_question_and_old_buttons_go_stale(three_partners, store, convo):
    here = convo.channel.address
    await three_partners("city_lead: scorecard who why what")
    first = walk_of((await store.load(here)).partnership, "scorecard")
    old_next = next(c for c in convo.channel.choices if c.command == "scorecard next")

    await convo("city_lead: scorecard next")
    assert walk_of((await store.load(here)).partnership, "scorecard").index == 1
    assert any(c.command == "scorecard back" for c in convo.channel.choices)
    await convo("city_lead: scorecard back")
    after = walk_of((await store.load(here)).partnership, "scorecard")
    assert (after.index, after.thread) == (0, first.thread)  # the same round, its first item

    turn = Turn(here, User("city_lead", "city_lead"), old_next.command, step=old_next.step)
    stale = await convo.channel.coach.handle(turn)
    assert [r.text for r in stale] == [convo.channel.prompt("errors.stale")]
    assert walk_of((await store.load(here)).partnership, "scorecard").index == 0


async def test_going_back_from_the_first_question_is_refused_and_changes_nothing(
    three_partners, store, convo
):
    await three_partners("city_lead: discuss build-a-common-fact-base")
    pid = convo.channel.address.conversation
    before = await store.revision(pid)
    out = await convo("city_lead: discuss back")
    assert convo.channel.prompt("tactics.at_first_question") in out
    assert await store.revision(pid) == before


def test_a_walk_saved_in_the_earlier_shape_is_read():
    p = Partnership(id="console:local:x")
    p.dialogs["discussion"] = {"tactic": "tell-the-story", "index": 2, "answers": {"0": 3},
                               "step": 4, "thread": "discussion:4"}  # fmt: skip
    walk = walk_of(p, "discussion")
    assert (walk.topic, walk.index, walk.answered, walk.token) == (
        ("tell-the-story",), 2, 3, "discussion:4"
    )
