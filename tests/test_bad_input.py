"""Bad input gets a clear reply saying what to do instead, and changes nothing."""

from __future__ import annotations

import pytest

from bot.model import Address
from tests.conftest import said

HERE = Address("console", "local", "partnership")


async def stored(store):
    snapshot = await store.load(HERE, with_history=True)
    return snapshot.rev, snapshot.sections, snapshot.decision_log


class Prompt(str):
    """An expected reply given by its prompt key: the test renders it from the content."""


CASES = [
    ("city_lead: /coach frobnicate", 'I don\'t know the command "frobnicate"'),
    ("city_lead: rate who.nonsense partial", '"who.nonsense" is not a scorecard item'),
    ("city_lead: rate who.representatives mostly", '"mostly" is not a rating'),
    ("city_lead: rate", Prompt("usage.rate")),
    ("city_lead: endorse D7", 'There is no decision "D7" here. Decisions are numbered D1 to D1'),
    ("city_lead: endorse", 'D1: "Meet monthly"'),  # a button for each decision to endorse
    ("city_lead: endorse D1 D2", '"D2"'),
    ("guest: endorse D1", "First tell me which partner organization you represent"),
    ('guest: decide "Let us all agree"', "First tell me which partner organization"),
    ('chamber_rep: partner add "Acme" business', "Only a facilitator of this partnership"),
    ('chamber_rep: setup "New name"', "Only a facilitator of this partnership"),
    ('city_lead: partner add "Acme" industry', '"industry" is not a sector I know'),
    ('city_lead: partner add "Metro Chamber" business', "Metro Chamber is already a partner"),
    ('guest: join "Acme Corp"', '"Acme Corp" is not one of this partnership\'s organizations'),
    ('city_lead: decide ""', Prompt("usage.decide")),
    ("city_lead: decide", Prompt("usage.decide")),
    ('city_lead: decide "unclosed', "A quotation mark is not closed"),
    ("city_lead: object D1", "Partners need to know why"),
    ("city_lead: scorecard who why", "Choose 3 to 5 of the scorecard's question families"),
    ("city_lead: scorecard who why what when how what-if", "Choose 3 to 5"),
    ("city_lead: scorecard who why whom", '"whom" is not a scorecard family'),
    ("city_lead: scorecard next", Prompt("scorecard.no_walk")),
    ("city_lead: tactic make-friends", 'I don\'t have a tactic "make-friends"'),
    ("city_lead: tactics planning", '"planning" is not a stage'),
    ("city_lead: answer something", "No discussion is under way"),
    ("city_lead: export decisions pdf", Prompt("usage.export_decisions")),
    ("city_lead: help me", 'There is no help topic "me"'),
    ("city_lead: facilitator add @stranger", 'I don\'t know "stranger"'),
    ('city_lead: join "Metro Chamber" \x07', "invisible control characters"),
    ('city_lead: decide "' + "x" * 40_000 + '"', "That message is 40009 characters long"),
    ('city_lead: decide "' + "y" * 1500 + '"', "this field takes at most 1000"),
]


@pytest.mark.parametrize(("line", "expected"), CASES, ids=[c[0][:40] for c in CASES])
async def test_bad_input_is_explained_and_changes_nothing(
    three_partners, store, content, line, expected
):
    convo = three_partners
    await convo('chamber_rep: decide "Meet monthly"')
    before = await stored(store)
    out = await convo(line)
    if isinstance(expected, Prompt):
        expected = content.prompts.render(expected)
    assert expected in out
    assert "(only " in out  # refusals go only to the person who typed them
    assert await stored(store) == before


async def test_nothing_but_help_works_before_setup(convo, store):
    out = await convo("someone: rate who.representatives partial")
    assert "This channel has no partnership yet" in out
    out = await convo("someone: tactics")
    assert "Diagnosis:" in out
    snapshot = await store.load(HERE)
    assert snapshot.rev == "0"


async def test_an_empty_command_shows_help(convo, content):
    start = said(content, "help.start_setup")
    assert content.prompts.render("help.main", start=start) in await convo("someone: /coach")


async def test_smart_quotes_and_apostrophes_are_understood(three_partners, store):
    convo = three_partners
    out = await convo("chamber_rep: decide “We don't meet in August”")
    assert 'proposes D1: "We don\'t meet in August"' in out


async def test_a_bug_is_answered_with_an_apology_not_a_traceback(three_partners, store, caplog):
    convo = three_partners
    await store.redis.hset(f"{store.prefix}:{{{HERE.conversation}}}:decisions", "D1", "{not json")
    out = await convo("city_lead: decisions")
    assert "Sorry, something went wrong on my side and nothing was changed" in out
    assert "Traceback" not in out and "JSONDecodeError" not in out
    assert "turn failed: conversation=console:local:partnership user=city_lead" in caplog.text


async def test_double_dashes_in_free_text_stay_text(three_partners, store):
    convo = three_partners
    await convo("chamber_rep: decide Meet weekly --starting in May, at City Hall")
    await convo("ngo_rep: object D1 Too often --we have two staff")
    await convo("city_lead: rate who.partners partial City named --chamber pending")
    p = (await store.load(HERE)).partnership
    assert p.decisions["D1"].text == "Meet weekly --starting in May, at City Hall"
    assert (
        p.decisions["D1"].stances["clean-air-coalition"].reason == "Too often --we have two staff"
    )
    assert p.ratings["who.partners"].history[-1].note == "City named --chamber pending"


async def test_any_unicode_space_separates_words(three_partners, store):
    convo = three_partners
    await convo('chamber_rep: decide "x"\u00a0--item\u00a0who.partners')
    out = await convo("ngo_rep: endorse\u00a0D1\u00a0")
    assert "Clean Air Coalition endorses D1" in out
    assert (await store.load(HERE)).partnership.decisions["D1"].item == "who.partners"


async def test_undecodable_bytes_are_refused_not_crashed_on(three_partners, store):
    before = await stored(store)
    out = await three_partners('chamber_rep: decide "caf\udce9 meeting"')
    assert "invisible control characters" in out
    assert await stored(store) == before


async def test_a_retried_refusal_of_unparseable_input_is_answered_once(three_partners, coach):
    from bot.model import Turn, User

    turn = Turn(HERE, User("x", "x"), 'decide "unclosed', event_id="E2")
    assert len(await coach.handle(turn)) == 1
    assert await coach.handle(turn) == []


async def test_a_round_that_no_longer_fits_the_content_is_dropped_not_crashed_on(
    three_partners, store, coach, content
):
    await three_partners("city_lead: scorecard who why what")
    snapshot = await store.load(HERE)
    snapshot.partnership.dialogs["scorecard"] |= {"topic": ["retired"], "index": 11}
    snapshot.partnership.dialogs["discussion"] = {
        "tactic": "retired-tactic", "index": 0, "answers": {}, "step": 1, "thread": "d",
    }  # fmt: skip
    await store.commit(snapshot, snapshot.partnership)

    out = await three_partners("city_lead: rate who.partners partial")
    assert "rated who.partners" in out
    assert content.prompts.render("scorecard.no_walk") in await three_partners("city_lead: scorecard next")
    assert "No discussion is under way" in await three_partners("city_lead: discuss stop")
