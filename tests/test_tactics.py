"""Tactics: listed by stage, shown, and discussed one question at a time with answers recorded."""

from __future__ import annotations

import pytest

from bot.content import load_content
from bot.dialogs.walk import Walk
from bot.model import Address, Turn, User
from tests.conftest import CONTENT_DIR

HERE = Address("console", "local", "partnership")


async def test_a_discussion_walks_the_questions_and_records_answers(three_partners, store, content):
    convo = three_partners
    tactic = content.tactics["manage-expectations-of-process-and-results"]
    out = await convo("city_lead: discuss manage-expectations-of-process-and-results")
    assert f"{tactic.name}, question 1 of {len(tactic.questions)}:\n{tactic.questions[0]}" in out

    out = await convo('city_lead: answer "Council approval takes six weeks"')
    assert "Noted city_lead's answer to question 1 (1 so far)." in out
    out = await convo('chamber_rep: answer "We report to our board monthly"')
    assert "(2 so far)" in out
    out = await convo("ngo_rep: 1")  # the latest reply's first choice: Next question
    assert f"question 2 of {len(tactic.questions)}:\n{tactic.questions[1]}" in out
    await convo('ngo_rep: answer "Our funder wants numbers, not stories"')
    out = await convo("city_lead: discuss stop")
    stopped = convo.channel.prompt(
        "tactics.discussion_stopped",
        name=tactic.name,
        tactic=tactic.id,
        position=2,
        total=len(tactic.questions),
        count=3,
    )
    assert stopped in out

    answers = [e for e in await store.journal(HERE.conversation) if e["type"] == "answer"]
    assert [(a["question"], a["by"], a["org"], a["text"]) for a in answers] == [
        ("1", "city_lead", "City of Sacramento", "Council approval takes six weeks"),
        ("1", "chamber_rep", "Metro Chamber", "We report to our board monthly"),
        ("2", "ngo_rep", "Clean Air Coalition", "Our funder wants numbers, not stories"),
    ]
    assert Walk.current((await store.load(HERE)).partnership, "discussion") is None
    assert "No discussion is under way" in await convo('city_lead: answer "late"')


async def test_a_discussion_ends_after_its_last_question(three_partners, content):
    convo = three_partners
    tactic = content.tactics["build-a-common-fact-base"]
    await convo(f"city_lead: discuss {tactic.id}")
    for _ in range(len(tactic.questions) - 1):
        out = await convo("discuss next")
    assert tactic.questions[-1] in out
    out = await convo("discuss next")
    assert "That wraps up our discussion of Build a Common Fact Base: 0 answers recorded." in out


async def test_a_tactic_shows_the_notes_for_the_sectors_at_the_table(three_partners, content):
    convo = three_partners
    tactic = content.tactics["commit-to-information-sharing"]
    out = await convo(f"city_lead: tactic {tactic.id}")
    for sector in ("government", "business", "nonprofit"):
        assert f"- {sector}: {tactic.sector_notes[sector]}" in out
    assert tactic.sector_notes["community"] not in out

    await convo('city_lead: partner add "Oak Park Neighbors" community')
    out = await convo(f"city_lead: tactic {tactic.id}")
    assert f"- community: {tactic.sector_notes['community']}" in out


async def test_tactics_are_listed_by_stage_before_any_setup(convo, content):
    out = await convo("someone: tactics")
    for stage in content.stages:
        assert f"{stage.name}: {stage.question}" in out
    for tactic in content.tactics.values():
        assert f"{tactic.id}  {tactic.name}" in out


SHIPPED = sorted(load_content(CONTENT_DIR).tactics)


@pytest.mark.parametrize("tactic_id", SHIPPED)
async def test_every_shipped_tactic_can_be_read_and_discussed(three_partners, content, tactic_id):
    convo = three_partners
    tactic = content.tactics[tactic_id]
    stage = content.stage(tactic.stage)
    listing = await convo(f"city_lead: /coach tactics {tactic.stage}")
    assert f"{tactic.id}  {tactic.name}" in listing

    shown = await convo(f"city_lead: /coach tactic {tactic.id}")
    assert f"{tactic.name} ({stage.name} stage: {stage.question})" in shown
    assert tactic.definition in shown and tactic.why_it_matters in shown
    assert (tactic.example or "") in shown

    out = await convo("city_lead: 1")  # "Discuss it together"
    for n, question in enumerate(tactic.questions, 1):
        assert f"question {n} of {len(tactic.questions)}:\n{question}" in out
        await convo(f'chamber_rep: /coach answer "Answer {n}"')
        out = await convo("ngo_rep: /coach discuss next")
    assert f"That wraps up our discussion of {tactic.name}: {len(tactic.questions)} answers" in out


# --- a discussion set aside, resumed, and read back -------------------------------------

EXPECT = "manage-expectations-of-process-and-results"
FACTS = "build-a-common-fact-base"


def discussion(p) -> Walk:
    walk = Walk.current(p, "discussion")
    assert walk is not None
    return walk


async def test_a_discussion_set_aside_for_another_resumes_where_it_stopped(
    three_partners, store, content
):
    convo = three_partners
    expect, facts = content.tactics[EXPECT], content.tactics[FACTS]
    await convo.script(
        f"""
city_lead: discuss {EXPECT}
city_lead: answer "Council approval takes six weeks"
chamber_rep: answer "We report to our board monthly"
city_lead: discuss next
ngo_rep: answer "Our funder wants numbers, not stories"
city_lead: discuss next
"""
    )
    first = discussion((await store.load(HERE)).partnership)
    assert (first.index, first.counts) == (2, {"0": 2, "1": 1})

    asked = await convo.channel.line(f"chamber_rep: discuss {FACTS}")  # asks first
    assert [(r.text, r.to) for r in asked] == [
        (
            convo.channel.prompt("confirm.discuss", current=expect.name, name=facts.name),
            "chamber_rep",
        )
    ]
    assert discussion((await store.load(HERE)).partnership).topic == (EXPECT,)

    out = await convo("chamber_rep: 1")  # switch
    assert (
        convo.channel.prompt(
            "tactics.discussion_set_aside",
            name=expect.name,
            tactic=EXPECT,
            position=3,
            total=len(expect.questions),
            count=3,
        )
        in out
    )
    assert f"{facts.name}, question 1 of {len(facts.questions)}:" in out
    await convo('ngo_rep: answer "We share the monitors\' raw data"')
    p = (await store.load(HERE)).partnership
    second = discussion(p)
    assert second.topic == (FACTS,) and second.step > first.step
    kept = Walk.kept(p, "discussion", (EXPECT,))
    assert kept is not None and (kept.index, kept.counts) == (2, first.counts)

    await convo(f"city_lead: discuss {EXPECT}")
    out = await convo("city_lead: 1")
    resumed = convo.channel.prompt(
        "tactics.discussion_resumed",
        name=expect.name,
        tactic=EXPECT,
        position=3,
        total=len(expect.questions),
        count=3,
    )
    assert resumed in out
    assert f"question 3 of {len(expect.questions)}:\n{expect.questions[2]}" in out
    p = (await store.load(HERE)).partnership
    again = discussion(p)
    assert (again.topic, again.index, again.counts) == ((EXPECT,), 2, first.counts)
    assert again.thread == first.thread  # the tactic's thread, as before
    assert again.step > second.step
    facts_kept = Walk.kept(p, "discussion", (FACTS,))
    assert facts_kept is not None and (facts_kept.index, facts_kept.counts) == (0, {"0": 1})

    out = await convo('chamber_rep: answer "Quarterly is what our members expect"')
    assert (
        convo.channel.prompt("tactics.answer_recorded", user="chamber_rep", position=3, count=1)
        in out
    )
    await convo("city_lead: discuss back")
    out = await convo('city_lead: answer "And the council wants a briefing first"')
    assert "(2 so far)" in out  # question 2 had one answer before the switch

    answers = [e for e in await store.journal(HERE.conversation) if e["type"] == "answer"]
    assert [(a["tactic"], a["question"], a["by"]) for a in answers] == [
        (EXPECT, "1", "city_lead"),
        (EXPECT, "1", "chamber_rep"),
        (EXPECT, "2", "ngo_rep"),
        (FACTS, "1", "ngo_rep"),
        (EXPECT, "3", "chamber_rep"),
        (EXPECT, "2", "city_lead"),
    ]


async def test_discussing_the_tactic_under_way_asks_its_question_again(three_partners, store):
    convo = three_partners
    await convo(f"city_lead: discuss {FACTS}")
    await convo("city_lead: discuss next")
    before = discussion((await store.load(HERE)).partnership)
    replies = await convo.channel.line(f"ngo_rep: discuss {FACTS}")
    assert len(replies) == 1 and replies[0].to is None  # no confirmation, no restart
    assert "question 2 of" in replies[0].text
    assert discussion((await store.load(HERE)).partnership) == before


async def test_a_discussion_gone_through_starts_again_and_keeps_its_count(
    three_partners, store, content
):
    convo = three_partners
    facts = content.tactics[FACTS]
    await convo(f"city_lead: discuss {FACTS}")
    await convo('ngo_rep: answer "Air monitors"')
    for _ in facts.questions:
        out = await convo("city_lead: discuss next")
    assert (
        convo.channel.prompt("tactics.discussion_finished", name=facts.name, tactic=FACTS, count=1)
        in out
    )
    assert Walk.current((await store.load(HERE)).partnership, "discussion") is None

    out = await convo(f"city_lead: discuss {FACTS}")
    assert (
        convo.channel.prompt(
            "tactics.discussion_again",
            name=facts.name,
            tactic=FACTS,
            total=len(facts.questions),
            count=1,
        )
        in out
    )
    assert f"question 1 of {len(facts.questions)}:\n{facts.questions[0]}" in out
    out = await convo('chamber_rep: answer "Traffic counts"')
    assert (
        convo.channel.prompt("tactics.answer_recorded", user="chamber_rep", position=1, count=2)
        in out
    )


async def test_a_button_from_an_ended_discussion_is_stale_in_the_next_one(three_partners, store):
    convo = three_partners
    channel = convo.channel
    await convo(f"city_lead: discuss {EXPECT}")
    old = {c.command: c for c in channel.choices}["discuss next"]
    await convo("city_lead: discuss stop")

    await convo(f"city_lead: discuss {EXPECT}")  # the same tactic again, at the same question
    before = discussion((await store.load(HERE)).partnership)
    assert before.index == 0 and before.token != old.step
    turn = Turn(HERE, User("ngo_rep", "ngo_rep"), old.command, step=old.step)
    assert [r.text for r in await channel.coach.handle(turn)] == [channel.prompt("errors.stale")]
    assert discussion((await store.load(HERE)).partnership) == before

    await convo("city_lead: discuss stop")
    await convo(f"city_lead: discuss {FACTS}")  # a new tactic: a thread of its own
    fresh = discussion((await store.load(HERE)).partnership)
    assert fresh.thread != before.thread and fresh.step > before.step
    turn = Turn(HERE, User("ngo_rep", "ngo_rep"), old.command, step=old.step)
    assert [r.text for r in await channel.coach.handle(turn)] == [channel.prompt("errors.stale")]
