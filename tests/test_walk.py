"""One typed walk (bot/dialogs/walk.py) under the scorecard round, tactic discussions and the
workshop debriefs (bot/dialogs/questions.py): moving on, going back, and refusing a choice
picked from an earlier question."""

from __future__ import annotations

import pytest

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


# command -> how its walk of questions starts, how an answer is given, its buttons' prompt keys
QUESTION_WALKS = {
    "discuss": (
        "city_lead: discuss build-a-common-fact-base",
        'ngo_rep: answer "We share the air quality data"',
        ("tactics.back_choice", "tactics.next_choice", "tactics.stop_choice"),
        "tactics.at_first_question",
    ),
    "exercise": (
        "city_lead: exercise sector-styles\ncity_lead: exercise close",
        'ngo_rep: exercise answer "Approvals were slow"',
        ("exercises.back_choice", "exercises.next_choice", "exercises.stop_choice"),
        "exercises.at_first_question",
    ),
    "practice": (
        "city_lead: practice transportation-air-quality\ncity_lead: practice debrief",
        'ngo_rep: practice answer "Seats came first"',
        ("exercises.back_choice", "exercises.next_choice", "practice.stop_choice"),
        "exercises.at_first_question",
    ),
}


@pytest.mark.parametrize("command", list(QUESTION_WALKS))
async def test_each_walk_of_questions_offers_its_own_moves_and_refuses_a_stale_one(
    three_partners, convo, command
):
    start, answer, (back, next_, stop), at_first = QUESTION_WALKS[command]
    channel = convo.channel
    await convo.script(start)
    first = channel.choices
    assert [(c.label, c.command) for c in first] == [
        (channel.prompt(next_), f"{command} next"),
        (channel.prompt(stop), f"{command} stop"),
    ]
    assert channel.prompt(at_first) in await convo(f"city_lead: {command} back")

    await convo(answer)
    assert channel.choices == first  # an answer offers the same moves again

    await convo(f"city_lead: {command} next")
    second = channel.choices
    assert [(c.label, c.command) for c in second] == [
        (channel.prompt(back), f"{command} back"),
        (channel.prompt(next_), f"{command} next"),
        (channel.prompt(stop), f"{command} stop"),
    ]
    assert {c.step for c in second} != {c.step for c in first}

    turn = Turn(channel.address, User("city_lead", "city_lead"), first[0].command, step=first[0].step)
    stale = await channel.coach.handle(turn)
    assert [r.text for r in stale] == [channel.prompt("errors.stale")]


async def test_the_round_offers_stop_beside_its_moves_and_stopping_ends_it(
    three_partners, store, convo
):
    channel = convo.channel
    await three_partners("city_lead: scorecard who why what")
    moves = [(c.label, c.command) for c in channel.choices if c.command.startswith("scorecard ")]
    assert moves[-2:] == [
        (channel.prompt("scorecard.next_choice"), "scorecard next"),
        (channel.prompt("scorecard.stop_choice"), "scorecard stop"),
    ]
    await convo("city_lead: scorecard next")
    stop = next(c for c in channel.choices if c.command == "scorecard stop")
    turn = Turn(channel.address, User("ngo_rep", "ngo_rep"), stop.command, step=stop.step)
    await channel.coach.handle(turn)
    assert Walk.current((await store.load(channel.address)).partnership, "scorecard") is None
    assert channel.prompt("scorecard.no_walk") in await convo("city_lead: scorecard back")
