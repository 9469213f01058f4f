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


async def test_answers_reads_back_every_answer_with_who_and_when(three_partners, clock, content):
    convo = three_partners
    expect, facts = content.tactics[EXPECT], content.tactics[FACTS]
    await convo("city_lead: checkins weekly tuesday 9am America/Chicago")  # the time zone
    await convo.script(
        f"""
city_lead: discuss {FACTS}
ngo_rep: answer "Air monitors at the schools"
city_lead: discuss next
city_lead: discuss {EXPECT} --yes
city_lead: answer "Council approval takes six weeks"
"""
    )
    clock.now = clock.now.replace(hour=22, minute=5)  # 17:05 in Chicago
    await convo('chamber_rep: answer "We report to our board monthly"')
    await convo('guest: answer "Ask the transit riders too"')  # someone of no partner organization

    replies = await convo.channel.line("ngo_rep: answers")
    assert replies[0].text == convo.channel.prompt(
        "tactics.answers_heading", count=2, tz="America/Chicago"
    )
    blocks = [r.text for r in replies[1:]]
    assert len(blocks) == 2  # one message a tactic, in the order `tactics` lists them
    order = [
        t.id for stage in content.stages for t in content.tactics.values() if t.stage == stage.id
    ]
    first, second = sorted([facts, expect], key=lambda t: order.index(t.id))
    assert blocks[0].startswith(f"{first.name} ({first.id})")
    assert blocks[1].startswith(f"{second.name} ({second.id})")
    shown = dict(zip((first.id, second.id), blocks, strict=True))

    line = "tactics.answers_line"
    assert convo.channel.prompt(
        line, text="Air monitors at the schools", user="ngo_rep", org="Clean Air Coalition",
        at="Apr 14, 2026, 10:00 AM",
    ) in shown[FACTS]  # fmt: skip
    for n, question in enumerate(facts.questions[1:], 2):
        heading = convo.channel.prompt("tactics.answers_question", position=n, question=question)
        assert heading in shown[FACTS]
    assert (
        shown[FACTS].count(convo.channel.prompt("tactics.answers_no_answers"))
        == len(facts.questions) - 1
    )
    assert convo.channel.prompt(
        line, text="Council approval takes six weeks", user="city_lead", org="City of Sacramento",
        at="Apr 14, 2026, 10:00 AM",
    ) in shown[EXPECT]  # fmt: skip
    assert convo.channel.prompt(
        line, text="We report to our board monthly", user="chamber_rep", org="Metro Chamber",
        at="Apr 14, 2026, 5:05 PM",
    ) in shown[EXPECT]  # fmt: skip
    assert convo.channel.prompt(
        "tactics.answers_line_no_org", text="Ask the transit riders too", user="guest",
        at="Apr 14, 2026, 5:05 PM",
    ) in shown[EXPECT]  # fmt: skip

    one = await convo.channel.line("chamber_rep: answers expectations-of-process")
    assert len(one) == 1
    assert one[0].text.startswith(
        convo.channel.prompt(
            "tactics.answers_detail", name=expect.name, tactic=EXPECT, count=3,
            total=len(expect.questions), tz="America/Chicago",
        )
    )  # fmt: skip
    assert "Council approval takes six weeks" in one[0].text
    assert "We report to our board monthly" in one[0].text
    assert "Air monitors" not in one[0].text
    assert convo.channel.prompt("usage.answers") in await convo("ngo_rep: help tactics")


async def test_answers_refuses_what_it_cannot_show_and_changes_nothing(
    three_partners, store, content
):
    convo = three_partners
    channel = convo.channel
    facts = content.tactics[FACTS]

    async def refused(line: str, key: str, **variables: object) -> None:
        before = await store.revision(HERE.conversation)
        replies = await channel.line(line)
        assert [r.text for r in replies] == [channel.prompt(key, **variables)]
        assert await store.revision(HERE.conversation) == before

    await refused("ngo_rep: answers", "tactics.answers_none")
    await refused(
        f"ngo_rep: answers {FACTS}", "tactics.answers_not_discussed_none",
        name=facts.name, tactic=FACTS, tactics="",
    )  # fmt: skip
    await refused("ngo_rep: answers zzz", "tactics.unknown_tactic", tactic="zzz")

    await convo(f"city_lead: discuss {EXPECT}")
    await refused(
        "ngo_rep: answers fact base", "tactics.answers_not_discussed",
        name=facts.name, tactic=FACTS, tactics=EXPECT,
    )  # fmt: skip
    await refused(  # a typo gets the closest tactic, words after a tactic's name are named
        "ngo_rep: answers fact-bse", "tactics.unknown_tactic_suggest", tactic="fact-bse", tactics=FACTS,
    )  # fmt: skip
    await refused(
        f"ngo_rep: answers {EXPECT} extra", "tactics.extra_words",
        command="answers", tactic=EXPECT, extra='"extra"',
    )  # fmt: skip
    await refused("ngo_rep: answers zzz", "tactics.unknown_tactic", tactic="zzz")


async def test_answers_to_questions_or_tactics_the_content_no_longer_has_are_still_shown(
    three_partners, store, content
):
    convo = three_partners
    facts = content.tactics[FACTS]
    await convo(f"city_lead: discuss {FACTS}")
    snapshot = await store.load(HERE)
    said = {"by": "ngo_rep", "at": "2026-04-14T15:00:00+00:00", "org": "Clean Air Coalition"}
    await store.commit(
        snapshot,
        None,
        journal=[
            {
                "type": "answer",
                "tactic": FACTS,
                "question": "9",
                "text": "An old question's",
                **said,
            },
            {"type": "answer", "tactic": "retired-tactic", "question": "2", "text": "Kept", **said},
        ],
    )

    replies = await convo.channel.line("city_lead: answers")
    blocks = [r.text for r in replies[1:]]
    assert len(blocks) == 2
    assert blocks[0].startswith(f"{facts.name} ({FACTS})")
    unknown = convo.channel.prompt("tactics.answers_question_unknown", position=9)
    assert f"{unknown}\n" in blocks[0] and "An old question's" in blocks[0]
    assert blocks[1].startswith("retired-tactic (retired-tactic)")  # after the listed ones
    assert convo.channel.prompt("tactics.answers_question_unknown", position=2) in blocks[1]

    one = await convo.channel.line("city_lead: answers retired-tactic")
    assert len(one) == 1 and "Kept" in one[0].text


async def test_many_long_answers_stay_within_a_chat_message(three_partners):
    from bot.dialogs.tactics import MESSAGE_LIMIT, MESSAGES_PER_TACTIC, PREVIEW_LIMIT

    convo = three_partners
    await convo(f"city_lead: discuss {FACTS}")
    given = 2 * MESSAGES_PER_TACTIC
    for n in range(given):
        await convo(f'ngo_rep: answer "Answer {n:02d} {"x" * 1800}"')

    replies = await convo.channel.line("city_lead: answers")
    block = replies[1].text
    assert len(block) <= MESSAGE_LIMIT
    assert "Answer 00 " in block and "x" * (PREVIEW_LIMIT + 1) not in block  # shortened
    shown = block.count("Answer ")
    assert 0 < shown < given
    assert block.endswith(
        convo.channel.prompt("tactics.answers_more", count=given - shown, tactic=FACTS)
    )

    replies = await convo.channel.line(f"city_lead: answers {FACTS}")
    *messages, note = [r.text for r in replies]
    assert len(messages) == MESSAGES_PER_TACTIC
    assert all(len(m) <= MESSAGE_LIMIT for m in messages)
    assert all("x" * 1800 in m for m in messages)  # in full
    in_full = sum(m.count("Answer ") for m in messages)
    assert note == convo.channel.prompt(
        "tactics.answers_left_out", count=given - in_full, tactic=FACTS
    )
    assert convo.channel.prompt("tactics.answers_question_continued", position=1) in messages[1]
