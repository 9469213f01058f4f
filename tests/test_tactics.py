"""Tactics: listed by stage, shown, and discussed one question at a time with answers recorded."""

from __future__ import annotations

import pytest

from bot.content import load_content
from bot.dialogs.walk import Walk
from bot.model import Address
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
    assert f"That wraps up our discussion of {tactic.name}: 3 answers recorded." in out

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
