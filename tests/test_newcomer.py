"""A newcomer's coach, through the console and the real store: forgiving words reach the same
state as the canonical commands, typos get the right suggestion, `status` says what waits on
whom, far-reaching acts ask first, and every command gets an answer.

Expected replies are rendered from the content by prompt key, so rewording a prompt does not
break these tests.
"""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import pytest

from bot.dialogs import default_commands
from bot.dialogs.help import TOPICS
from bot.dialogs.walk import Walk
from bot.model import Address
from bot.partnership import readable_time
from tests.conftest import SETUP_SCRIPT, Convo, said

HERE = Address("console", "local", "partnership")
CANONICAL = Address("console", "local", "canonical")


async def stored(store, address=HERE):
    snapshot = await store.load(address, with_history=True)
    log = [{k: v for k, v in e.items() if k != "_id"} for e in snapshot.decision_log]
    return snapshot.sections, log


# (what came before, the line as a newcomer types it, the canonical command)
PHRASINGS = [
    ('ngo_rep: decide "Meet monthly"', "chamber_rep: @coach I agree with D1", "chamber_rep: endorse D1"),
    ('ngo_rep: decide "Meet monthly"', "chamber_rep: coach, approve D1", "chamber_rep: endorse D1"),
    ('ngo_rep: decide "Meet monthly"', "chamber_rep: +1 D1", "chamber_rep: endorse D1"),
    ('ngo_rep: decide "Meet monthly"', "chamber_rep: support d1", "chamber_rep: endorse D1"),
    ('ngo_rep: decide "Meet monthly"', "chamber_rep: I object to D1 because it is too often", 'chamber_rep: object D1 "it is too often"'),
    ('ngo_rep: decide "Meet monthly"', "chamber_rep: disagree D1 it is too often", 'chamber_rep: object D1 "it is too often"'),
    ('ngo_rep: decide "Meet monthly"', "chamber_rep: oppose D1 it is too often", 'chamber_rep: object D1 "it is too often"'),
    ('ngo_rep: decide "Meet monthly"', "ngo_rep: retract D1", "ngo_rep: withdraw D1"),
    ("", 'chamber_rep: propose "Meet weekly"', 'chamber_rep: decide "Meet weekly"'),
    ("", "chamber_rep: I suggest that we meet weekly", 'chamber_rep: decide "we meet weekly"'),
    ("", "city_lead: scorecard Who? Why? What?", "city_lead: scorecard who why what"),
    ("", "city_lead: scorecard what if, When? how", "city_lead: scorecard when how what-if"),
    ("city_lead: scorecard who why what", "city_lead: scorecard skip", "city_lead: scorecard next"),
    ("", 'city_lead: discuss "Build a Common Fact Base"', "city_lead: discuss build-a-common-fact-base"),
    ("", "city_lead: discuss fact-base", "city_lead: discuss build-a-common-fact-base"),
    ("", "city_lead: checkins bi-weekly tuesday 9am America/Chicago", "city_lead: checkins biweekly tue 09:00 America/Chicago"),
    ("", "city_lead: check-ins weekly Tuesday 9:00 am America/Chicago", "city_lead: checkins weekly tue 09:00 America/Chicago"),
    ("city_lead: checkins weekly tue 09:00 America/Chicago", "city_lead: checkins weekly wed 2:30pm", "city_lead: checkins weekly wed 14:30 America/Chicago"),
    ("city_lead: checkins weekly tue 09:00 America/Chicago", "city_lead: check-ins pause", "city_lead: checkins pause"),
    ("city_lead: checkins weekly tue 09:00 America/Chicago", "city_lead: checkin skip", "city_lead: checkins skip next"),
    ('ngo_rep: decide "Meet monthly"', 'city_lead: partner add Acme Corp business', 'city_lead: partner add "Acme Corp" business'),
    ("", "city_lead: add partner Acme Corp business", 'city_lead: partner add "Acme Corp" business'),
    ("", "city_lead: partnership add Acme Corp business", 'city_lead: partner add "Acme Corp" business'),
    ("", "city_lead: add an organization Acme Corp company", 'city_lead: partner add "Acme Corp" business'),
    ("", "city_lead: create a partnership Sacramento Clean Air Compact", 'city_lead: setup "Sacramento Clean Air Compact"'),
    ("", "newcomer: I represent Metro Chamber", 'newcomer: join "Metro Chamber"'),
    ("", "newcomer: I'm with the metro chamber", 'newcomer: join "Metro Chamber"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "phrased", "canonical"), PHRASINGS, ids=[p[1].split(": ", 1)[1] for p in PHRASINGS]
)
async def test_a_phrasing_reaches_the_same_state_as_the_canonical_command(
    coach, store, before, phrased, canonical
):
    said, typed = Convo(coach), Convo(coach, channel="canonical")
    for convo, line in ((said, phrased), (typed, canonical)):
        await convo.script(SETUP_SCRIPT + before)
        out = await convo(line)
        assert "(only" not in out, out  # not refused
    assert await stored(store) == await stored(store, CANONICAL)


MISSPELLED = [
    ("chamber_rep: endrose D1", "endorse"),
    ("chamber_rep: aprove D1", "endorse"),
    ("chamber_rep: objcet D1 too soon", "object"),
    ("city_lead: decisons", "decisions"),
    ("city_lead: checkins pasue", "checkins pause"),
    ("city_lead: scorecard stauts", "scorecard status"),
    ('city_lead: measure ad "Ozone days"', "measure add"),
    ("city_lead: meeting strat", "meeting start"),
]


@pytest.mark.parametrize(("line", "meant"), MISSPELLED)
async def test_a_misspelling_gets_the_right_command_suggested_and_changes_nothing(
    three_partners, store, content, line, meant
):
    await three_partners('ngo_rep: decide "Meet monthly"')
    before = await stored(store)
    out = await three_partners(line)
    usage = content.prompts.render(default_commands().get(meant).usage)
    assert usage in out
    assert await stored(store) == before


async def test_words_a_command_would_ignore_are_pointed_out(three_partners, store, content):
    await three_partners('ngo_rep: decide "Meet monthly"')
    await three_partners('ngo_rep: decide "Meet weekly"')
    before = await stored(store)
    out = await three_partners("chamber_rep: endorse D2 D1")
    expected = content.prompts.render(
        "errors.extra_words",
        command="endorse D2",
        extra='"D1"',
        usage=content.prompts.render("usage.endorse"),
    )
    assert expected in out
    assert await stored(store) == before


async def test_a_cadence_with_something_missing_says_what(three_partners, store, content):
    render = content.prompts.render
    out = await three_partners("city_lead: checkins biweekly tue 09:00")
    assert render("schedule.missing_tz", cadence="biweekly", weekday="tue", time="09:00") in out
    out = await three_partners("city_lead: checkins weekly tuesday")
    assert render("schedule.missing_time", cadence="weekly", weekday="tuesday") in out
    out = await three_partners("city_lead: checkins monthly")
    assert render("schedule.missing_weekday", cadence="monthly") in out
    out = await three_partners("city_lead: checkins weekly tue 9 America/Chicago")
    assert render("schedule.bad_time", time="9") in out
    assert (await store.load(HERE)).partnership.schedule is None


# --- what's waiting on me -------------------------------------------------------------------


async def test_status_says_what_waits_on_the_asker_and_on_the_partnership(
    three_partners, store, content
):
    render = content.prompts.render
    convo = three_partners
    await convo('chamber_rep: decide "Meet monthly"')
    await convo("chamber_rep: endorse D1")
    await convo('ngo_rep: measure add "Ozone days" --baseline 18 --target 10')
    await convo("city_lead: scorecard who why what")

    out = await convo("ngo_rep: what's next?")
    assert render("status.to_endorse", decision="D1", text="Meet monthly", org="Clean Air Coalition") in out
    assert render("status.to_report", measure="Ozone days", org="Clean Air Coalition") in out
    item = content.items["who.partners"]
    assert render(
        "status.current_item", item=item.id, marked=item.marked, question=item.question("drafting")
    ) in out
    assert render("scorecard.composed_marker").strip() not in out  # nothing marked to explain
    assert render("status.waiting_on", decision="D1", text="Meet monthly", waiting_on="City of Sacramento") in out

    out = await convo("chamber_rep: status")  # endorsed already: D1 waits on the others only
    assert render("status.to_endorse", decision="D1", text="Meet monthly", org="Metro Chamber") not in out
    assert render("status.waiting_on", decision="D1", text="Meet monthly", waiting_on="City of Sacramento and Clean Air Coalition") in out
    assert [c.command for c in convo.channel.choices] == ["rate who.partners"]  # nothing to endorse

    # what the asker can do at once is a button: rate the item, endorse what waits on them
    await convo("ngo_rep: status")
    assert [c.command for c in convo.channel.choices] == ["rate who.partners", "endorse D1"]
    await convo("ngo_rep: 2")
    p = (await store.load(HERE)).partnership
    assert p.decisions["D1"].stances["clean-air-coalition"].stance == "endorse"


async def test_status_marks_an_item_that_is_the_coachs_own_and_says_what_the_mark_means(
    three_partners, content
):
    await three_partners("city_lead: scorecard when how what-if")
    out = await three_partners("ngo_rep: status")
    item = content.items["when.timeline"]
    assert item.composed
    assert "The scorecard is on when.timeline †:" in out
    assert "/coach rate when.timeline <rating>" in out  # the command takes the bare id
    assert content.prompts.render("scorecard.composed_marker").strip() in out


async def test_a_member_who_joins_late_hears_what_waits_on_their_organization(convo, content):
    render = content.prompts.render
    not_ngo = [line for line in SETUP_SCRIPT.strip().splitlines() if "ngo_rep" not in line]
    await convo.script("\n".join(not_ngo))  # ngo_rep not yet
    await convo('chamber_rep: decide "Meet monthly"')
    await convo('city_lead: decide "Share the air-quality data monthly"')
    out = await convo('ngo_rep: join "Clean Air Coalition"')
    out = await convo("ngo_rep: status")
    assert render("status.join_pending", org="Clean Air Coalition") in out
    assert render("status.nobody_represents", org="Clean Air Coalition") not in out
    # the others see whose request waits, not "nobody has joined"
    out = await convo("chamber_rep: status")
    assert render("status.join_waits", org="Clean Air Coalition", user="ngo_rep", count=1) in out
    assert render("status.nobody_represents", org="Clean Air Coalition") not in out
    out = await convo("city_lead: member confirm @ngo_rep")  # ngo_rep hears it privately
    assert render("setup.joined", user="ngo_rep", org="Clean Air Coalition") in out
    assert render("console.private", user="ngo_rep") in out
    for decision, text in (("D1", "Meet monthly"), ("D2", "Share the air-quality data monthly")):
        assert render("status.to_endorse", decision=decision, text=text, org="Clean Air Coalition") in out


async def test_someone_who_has_not_joined_is_told_to_join_first(three_partners, content):
    out = await three_partners("guest: status")
    orgs = '"City of Sacramento", "Metro Chamber", "Clean Air Coalition"'
    assert content.prompts.render("status.join_first", orgs=orgs) in out


# --- confirmations and undo -----------------------------------------------------------------


async def test_removing_a_partner_asks_first_and_can_be_declined(three_partners, store, content):
    convo = three_partners
    before = await stored(store)
    out = await convo('city_lead: partner remove "Metro Chamber"')
    assert content.prompts.render("confirm.partner_remove_yes", org="Metro Chamber") in out
    assert await stored(store) == before
    out = await convo("city_lead: 2")  # keep things as they are
    assert content.prompts.render("confirm.canceled") in out
    assert await stored(store) == before
    await convo('city_lead: partner remove "Metro Chamber"')
    await convo("city_lead: 1")
    assert "metro-chamber" not in (await store.load(HERE)).partnership.orgs


async def test_replacing_a_scorecard_round_or_a_discussion_asks_first(three_partners, store):
    convo = three_partners
    await convo("city_lead: scorecard who why what")
    await convo("city_lead: discuss build-a-common-fact-base")
    await convo("city_lead: scorecard when how what-if")
    await convo("city_lead: discuss agree-on-measures-of-success")
    dialogs = (await store.load(HERE)).partnership.dialogs
    assert dialogs["scorecard"]["topic"] == ["who", "why", "what"]
    assert dialogs["discussion"]["topic"] == ["build-a-common-fact-base"]

    await convo("city_lead: scorecard when how what-if")
    await convo("city_lead: 1")
    await convo("city_lead: discuss agree-on-measures-of-success")
    await convo("city_lead: 1")
    dialogs = (await store.load(HERE)).partnership.dialogs
    assert dialogs["scorecard"]["topic"] == ["when", "how", "what-if"]
    assert dialogs["discussion"]["topic"] == ["agree-on-measures-of-success"]


async def test_turning_check_ins_off_asks_first_and_only_a_facilitator_may(
    three_partners, store, content
):
    convo = three_partners
    await convo("city_lead: checkins weekly tue 09:00 America/Chicago")
    out = await convo("chamber_rep: checkins off")
    refusal = content.prompts.render(
        "errors.facilitators_only", command="checkins off", facilitators="city_lead"
    )
    assert refusal in out
    out = await convo("city_lead: checkins off")
    assert content.prompts.render("confirm.checkins_off") in out
    assert (await store.load(HERE)).partnership.schedule is not None
    out = await convo("city_lead: 1")
    assert content.prompts.render("schedule.turned_off") in out
    assert (await store.load(HERE)).partnership.schedule is None


async def test_a_proposer_withdraws_a_decision_which_stays_in_the_record(
    three_partners, store, content
):
    render = content.prompts.render
    convo = three_partners
    await convo('chamber_rep: decide "Meet monthly"')
    await convo("ngo_rep: endorse D1")
    out = await convo("ngo_rep: withdraw D1")
    assert render("decisions.withdraw_not_allowed", decision="D1", user="chamber_rep") in out
    await convo("chamber_rep: withdraw D1")

    p = (await store.load(HERE)).partnership
    assert p.decisions["D1"].withdrawn_at is not None
    assert not p.decisions["D1"].is_open
    assert [e["act"] for e in await store.decision_log(HERE.conversation)] == [
        "propose", "endorse", "withdraw",
    ]  # fmt: skip

    before = await stored(store)
    out = await convo("city_lead: endorse D1")
    assert render("decisions.is_withdrawn", decision="D1") in out
    assert await stored(store) == before
    assert f"[{render('decisions.status_withdrawn')}]" in await convo("city_lead: decisions")
    at = readable_time("2026-04-14T15:00:00+00:00", ZoneInfo("UTC"))
    assert render("decisions.history_withdraw", at=at, user="chamber_rep") in await convo("city_lead: decision D1")
    to_endorse = render("status.to_endorse", decision="D1", text="Meet monthly", org="City of Sacramento")
    assert to_endorse not in await convo("city_lead: status")
    out = await convo("city_lead: export decisions csv")
    rows = list(csv.DictReader(io.StringIO(out.split("---\n", 1)[1])))
    assert (rows[0]["status"], rows[0]["waiting_on"]) == ("withdrawn", "")


async def test_a_measure_can_be_edited_and_removed_by_its_owner(three_partners, store, content):
    convo = three_partners
    await convo('ngo_rep: measure add "Ozone days" --unit days --baseline 18 --target 10')
    await convo('ngo_rep: measure report "Ozone days" 15')
    out = await convo('chamber_rep: measure edit "Ozone days" --target 8')
    assert content.prompts.render("measures.not_allowed", measure="Ozone days", org="Clean Air Coalition") in out
    await convo('ngo_rep: measure edit "ozone days" --target 8 --name "Ozone alert days"')
    measures = (await store.load(HERE)).partnership.measures
    assert list(measures) == ["ozone alert days"]
    edited = measures["ozone alert days"]
    assert (edited.name, edited.target, [r.value for r in edited.reports]) == ("Ozone alert days", 8, [15])

    await convo('city_lead: measure remove "Ozone alert days"')  # a facilitator may too
    assert "ozone alert days" in (await store.load(HERE)).partnership.measures  # asked first
    await convo("city_lead: 1")
    assert dict((await store.load(HERE)).partnership.measures) == {}


# --- every turn gets an answer ----------------------------------------------------------------


@pytest.mark.parametrize("spec", list(default_commands()), ids=lambda c: c.name)
async def test_every_command_gets_an_answer_in_a_channel_without_a_partnership(
    convo, store, content, spec
):
    line = " ".join([spec.name, *["D1"] * spec.min_words])
    out = await convo(f"someone: {line}")
    assert out.strip()
    if spec.needs_partnership:
        assert content.prompts.render("errors.not_set_up") in out
    assert (await store.load(HERE)).rev == "0"


@pytest.mark.parametrize("topic", TOPICS)
async def test_help_on_a_topic_lists_every_command_in_it(convo, content, topic):
    out = await convo(f"someone: help {topic}")
    for spec in default_commands().in_topic(topic):
        assert content.prompts.render(spec.usage) in out


@pytest.mark.parametrize("greeting", ["hi", "Hello!", "hey coach", "start", "how do I start?"])
async def test_a_greeting_is_answered_with_where_to_start(convo, content, greeting):
    out = await convo(f"someone: {greeting}")
    assert said(content, "help.start_setup") in out
    await convo.script(SETUP_SCRIPT)
    out = await convo(f"someone: {greeting}")
    assert said(content, "help.start_status") in out


async def test_help_understands_topic_aliases_and_commands(convo, content):
    render = content.prompts.render
    assert render("usage.checkins_pause") in await convo("someone: help check-ins")
    assert render("usage.endorse") in await convo("someone: help approve")
    assert render("usage.measure_remove") in await convo("someone: help measure remove")


@pytest.mark.parametrize(
    ("asked", "key"),
    [
        ("what is the scorecard?", "help.scorecard"),
        ("What's a check-in", "help.checkins"),
        ("explain tactics", "help.tactics"),
        ("how do I endorse", "usage.endorse"),
        ("how do we join", "usage.join"),
        ("how do I propose a decision", "usage.decide"),
        ("how do I rate an item", "usage.rate"),
        ("how do we get to the next question?", "help.moves"),
        ("how do we move on", "help.moves"),
        ("how do I go back", "help.moves"),
    ],
)
async def test_a_question_about_the_coach_is_answered_by_its_help(convo, content, asked, key):
    assert said(content, key) in await convo(f"someone: {asked}")


async def test_a_question_about_a_tactic_explains_the_tactic(convo, content):
    fact_base = content.tactics["build-a-common-fact-base"]
    out = await convo("someone: what is build a common fact base?")
    assert fact_base.definition in out and fact_base.questions[0] in out
    out = await convo("someone: explain fact base")
    assert fact_base.definition in out


async def test_endorse_alone_offers_the_decisions_waiting_on_the_asker(three_partners, store, content):
    convo = three_partners
    await convo('ngo_rep: decide "Meet monthly"')
    await convo('ngo_rep: decide "Share data quarterly"')
    await convo("chamber_rep: endorse D2")
    before = await stored(store)
    out = await convo("chamber_rep: I agree")
    assert said(content, "decisions.which_to_endorse", org="Metro Chamber", more="") in out
    # only D1 waits on the chamber: D2 has its endorsement already
    assert [c.command for c in convo.channel.choices] == ["endorse D1"]
    assert await stored(store) == before
    await convo("chamber_rep: 1")
    p = (await store.load(HERE)).partnership
    assert p.decisions["D1"].stances["metro-chamber"].stance == "endorse"
    out = await convo("chamber_rep: endorse")
    assert said(content, "decisions.nothing_to_endorse", org="Metro Chamber") in out


async def test_object_alone_offers_the_open_decisions_and_then_asks_for_the_reason(
    three_partners, store, content
):
    convo = three_partners
    await convo('ngo_rep: decide "Meet monthly"')
    await convo('ngo_rep: decide "Share data quarterly"')
    out = await convo("city_lead: disagree")
    assert said(content, "decisions.which_to_object", org="City of Sacramento", more="") in out
    assert [c.command for c in convo.channel.choices] == ["object D2", "object D1"]  # newest first
    out = await convo("city_lead: 2")
    assert said(content, "decisions.object_needs_reason", decision="D1") in out
    p = (await store.load(HERE)).partnership
    assert not p.decisions["D1"].stances


async def test_a_rating_typed_alone_rates_the_item_the_round_is_on(three_partners, store, content):
    convo = three_partners
    out = await convo("chamber_rep: fully in place")  # no round: not a command
    assert said(content, "errors.unknown_command", command="fully") in out
    await convo("city_lead: scorecard who why what")
    before = await stored(store)
    for alone in ("yes", "no"):  # alone they rate nothing
        await convo(f"chamber_rep: {alone}")
        assert await stored(store) == before
    for sentence in ("In place of an MOU we have a handshake deal",
                     "Partial funding came from the state last year"):  # fmt: skip
        await convo(f"chamber_rep: {sentence}")
        assert await stored(store) == before  # sentences, not ratings
    out = await convo("chamber_rep: n/a for us, we're not a signatory")  # runs into a sentence
    assert said(content, "scorecard.rate_hint", command="n/a", item="who.partners",
                rating="not-relevant", note="for us, we're not a signatory") in out  # fmt: skip
    assert await stored(store) == before
    await convo("chamber_rep: Fully in place. We signed MOUs with each partner.")
    await convo("city_lead: Partly\u2014the city still names its alternate")
    await convo("ngo_rep: partly")
    item = (await store.load(HERE)).partnership.org_ratings("who.partners")
    assert item["metro-chamber"].rating == "in-place"
    assert item["metro-chamber"].note == "We signed MOUs with each partner."
    assert item["clean-air-coalition"].rating == "partial"
    assert item["city-of-sacramento"].note == "the city still names its alternate"


async def test_a_facilitator_sets_the_time_zone_dates_are_shown_in(three_partners, store, content):
    convo = three_partners
    out = await convo("ngo_rep: timezone")
    assert said(content, "setup.timezone_unset") in out
    before = await stored(store)
    out = await convo("ngo_rep: timezone Central")
    assert said(content, "errors.facilitators_only", command="timezone", facilitators="city_lead") in out
    out = await convo("city_lead: timezone Mars/Olympus_Mons")
    assert said(content, "schedule.unknown_tz", tz="Mars/Olympus_Mons") in out
    assert await stored(store) == before

    await convo("city_lead: timezone Central")
    p = (await store.load(HERE)).partnership
    assert (p.tz, p.zone) == ("America/Chicago", ZoneInfo("America/Chicago"))
    # dates people read are in the partnership's zone, and a schedule without one follows it
    await convo('ngo_rep: decide "Meet monthly"')
    out = await convo("ngo_rep: decision D1")
    proposed = (await store.load(HERE)).partnership.decisions["D1"].created_at
    assert readable_time(proposed, ZoneInfo("America/Chicago")) in out
    assert readable_time(proposed, ZoneInfo("UTC")) not in out
    await convo("city_lead: checkins weekly tue 9am")
    p = (await store.load(HERE)).partnership
    assert p.schedule is not None and p.schedule["tz"] == "America/Chicago"
    out = await convo("city_lead: timezone central")
    assert said(content, "setup.timezone_same", tz="America/Chicago") in out
    # a zone of several words; the check-ins already scheduled keep theirs, and it says so
    out = await convo("city_lead: timezone New York")
    assert (await store.load(HERE)).partnership.tz == "America/New_York"
    assert said(content, "setup.schedule_keeps_zone", schedule_tz="America/Chicago") in out


async def test_a_discussion_takes_plain_answers_and_moves_said_alone(three_partners, store, content):
    convo = three_partners

    async def walk(kind: str) -> Walk | None:
        return Walk.current((await store.load(HERE)).partnership, kind)

    await convo("city_lead: discuss fact-base")
    await convo("chamber_rep: We have census data and the food bank's visit logs")
    found = await walk("discussion")
    assert found is not None and (found.index, found.answered) == (0, 1)
    await convo("ngo_rep: skip")
    assert (found := await walk("discussion")) is not None and found.index == 1
    await convo("ngo_rep: previous question")
    assert (found := await walk("discussion")) is not None and found.index == 0
    # sentences that start like the ways to ask for help are answers too
    for line in ("What we really need is the county's data", "That's the hard part, the county owns it",
                 "Explained it to the council twice already"):  # fmt: skip
        await convo(f"chamber_rep: {line}")
    assert (found := await walk("discussion")) is not None and found.answered == 4
    # questions help has nothing for are answers, even when they name a command or a move
    for line in ("How do we stop duplicating intake across agencies?",
                 "How do we help families find the services?",
                 "How do we report progress to council each quarter?"):  # fmt: skip
        await convo(f"chamber_rep: {line}")
    assert (found := await walk("discussion")) is not None and found.answered == 7
    # a line that opens with a greeting is not recorded: the reply shows how to answer with it
    out = await convo("ngo_rep: Hi all, we already share intake data with the county")
    assert said(content, "errors.unknown_in_walk", command="Hi", answer="answer",
                text="Hi all, we already share intake data with the county") in out  # fmt: skip
    await convo("ngo_rep: Start with the county's 2023 survey data")
    # how to move on is help, not an answer
    out = await convo("ngo_rep: how do I skip this question?")
    assert said(content, "help.moves") in out
    assert (found := await walk("discussion")) is not None and found.answered == 7
    # a command word starting a longer sentence it cannot take is an answer too
    await convo("ngo_rep: Partners disagree on the numbers")
    assert (found := await walk("discussion")) is not None and found.answered == 8
    out = await convo("ngo_rep: partners disagree")  # too short to tell: refused, not recorded
    assert (found := await walk("discussion")) is not None and found.answered == 8
    # a line too short to be sure of is not recorded; the reply says how to answer with it
    out = await convo("ngo_rep: thanks!")
    assert said(content, "errors.unknown_in_walk", command="thanks!", answer="answer", text="thanks!") in out
    assert (found := await walk("discussion")) is not None and found.answered == 8
    # a typo of a command is still a typo, not an answer
    out = await convo("ngo_rep: endrose D1")
    assert said(content, "usage.endorse") in out
    assert (found := await walk("discussion")) is not None and found.answered == 8
    # with a scorecard round under way too, a move said alone is not guessed at
    await convo("city_lead: scorecard who why what")
    before = await stored(store)
    await convo("ngo_rep: skip")
    assert await stored(store) == before
    await convo("city_lead: discuss stop")
    await convo("ngo_rep: stop")
    assert await walk("scorecard") is None


async def test_what_a_walk_does_not_take_as_an_answer(three_partners, store, content):
    convo = three_partners

    async def answers() -> list[str]:
        return [e["text"] for e in await store.journal(HERE.conversation) if e["type"] == "answer"]

    await convo("city_lead: checkins weekly tue 9am America/Chicago")
    await convo('ngo_rep: decide "Meet monthly"')
    await convo("city_lead: discuss fact-base")
    # a confirmation's button is the command it stands for, not words to record
    await convo("city_lead: checkins off")
    await convo("city_lead: 1")
    assert (await store.load(HERE)).partnership.schedule is None
    # a private message stays private; a command with a word too many is refused
    await convo("ngo_rep: dm the mayor will never sign this, between us")
    out = await convo("chamber_rep: endorse D1 please")
    assert "please" in out and await answers() == []
    # a question as an answer, unless the coach's help has something for it
    await convo("ngo_rep: How do we share data between the agencies?")
    assert await answers() == ["How do we share data between the agencies?"]
    out = await convo("ngo_rep: how do I endorse")
    assert said(content, "usage.endorse") in out and len(await answers()) == 1
    await convo("chamber_rep: Please share the county data by Friday")
    assert (await answers())[-1] == "Please share the county data by Friday"
    # an answer keeps its quotes
    await convo('chamber_rep: We said "no" twice to that')
    assert (await answers())[-1] == 'We said "no" twice to that'
    # with a scorecard round under way too, a sentence starting with a rating's word is an
    # answer, and a move said alone asks which walk it means
    await convo("city_lead: scorecard who why what")
    await convo("ngo_rep: None of the county's data is shared with us")
    p = (await store.load(HERE)).partnership
    assert p.org_ratings("who.partners") == {}
    assert (await answers())[-1] == "None of the county's data is shared with us"
    out = await convo("ngo_rep: skip")
    moves = "/coach scorecard next or /coach discuss next"
    assert said(content, "errors.which_walk", command="skip", moves=moves) in out
    # the round alone: done said alone rates nothing
    await convo("city_lead: discuss stop")
    before = await stored(store)
    await convo("ngo_rep: done")
    assert await stored(store) == before
