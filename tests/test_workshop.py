"""The workshop in the channel (issue 15): the sector-styles brainwriting and the case
simulation's practice run, through the console and the real store; Slack end to end in
test_workshop_slack.py."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from bot.coach import Coach
from bot.dialogs.walk import Walk
from bot.model import Address, Reply, Turn, User
from bot.partnership import practice_id
from bot.store import Store
from tests.conftest import Clock, Convo

HERE = Address("console", "local", "partnership")
PID = HERE.conversation
PEOPLE = ("alice_city", "bruno_chamber", "carmen_ngo", "dmitri_resident")

FOUR_PARTNERS = """
alice_city: /coach setup "Riverside Partnership"
alice_city: /coach partner add "City of Riverside" government
alice_city: /coach partner add "Metro Chamber" business
alice_city: /coach partner add "Clean Air Coalition" nonprofit
alice_city: /coach partner add "Eastside Neighbors" community
alice_city: /coach join "City of Riverside"
bruno_chamber: /coach join "Metro Chamber"
carmen_ngo: /coach join "Clean Air Coalition"
dmitri_resident: /coach join "Eastside Neighbors"
alice_city: /coach member confirm @bruno_chamber
alice_city: /coach member confirm @carmen_ngo
alice_city: /coach member confirm @dmitri_resident
"""

CONTRIBUTIONS = [
    ("alice_city", 'write government culture "careful and rule-bound, slow approval"'),
    ("bruno_chamber", 'write government culture "slow approval cycles"'),
    ("carmen_ngo", 'write government limitations "slow approvals and election cycles"'),
    ("dmitri_resident", 'write government assets "public trust and authority"'),
    ("alice_city", 'write business culture "fast and profit driven"'),
    ("bruno_chamber", 'write business assets "money and delivery expertise"'),
    ("carmen_ngo", 'write nonprofit assets "community trust"'),
    ("dmitri_resident", 'write community assets "local knowledge and trust"'),
]


async def lines(convo: Convo, script: str) -> list[Reply]:
    replies: list[Reply] = []
    for line in script.strip().splitlines():
        replies += await convo.channel.line(line)
    return replies


async def state_keys(store: Store, pid: str) -> dict[str, object]:
    """Every key of a partnership (its hash tag) with its value, for byte-for-byte comparison."""
    redis = store.redis
    found: dict[str, object] = {}
    async for key in redis.scan_iter(match=f"{store.prefix}:{{{pid}}}:*"):
        kind = await redis.type(key)
        if kind == "hash":
            found[key] = await redis.hgetall(key)
        elif kind == "stream":
            found[key] = await redis.xrange(key)
        elif kind == "string":
            found[key] = await redis.get(key)
        else:
            found[key] = kind
    return found


async def test_brainwriting_with_four_participants_end_to_end(convo, store, content):
    await convo.script(FOUR_PARTNERS)
    started = await convo.channel.line("alice_city: exercise sector-styles --minutes 20")

    # each participant is asked privately, and only they see their prompt
    prompts = [r for r in started if r.to is not None]
    assert sorted(r.to for r in prompts if r.to) == sorted(PEOPLE)
    government = content.exercises["sector-styles"].per_sector[0].for_sector("government")
    assert all(government in r.text for r in prompts)
    public = [r for r in started if r.to is None]
    assert len(public) == 1 and government not in public[0].text

    for who, text in CONTRIBUTIONS:  # written privately (the console's `dm`)
        replies = await convo.channel.line(f"{who}: dm {text}")
        assert [r.to for r in replies] == [who]

    p = (await store.load(HERE)).partnership
    writing = p.dialogs["brainwriting"]
    assert writing["contributors"] == sorted(PEOPLE)
    assert writing["answers"]["government"]["culture"] == [
        "careful and rule-bound, slow approval",
        "slow approval cycles",
    ]
    assert not any(name in json.dumps(writing["answers"]) for name in PEOPLE)

    revealed = await convo.channel.line("alice_city: exercise close")
    reveal = [r for r in revealed if r.to is None]
    shown = "\n".join(f"{r.text}\n{r.preformatted or ''}" for r in reveal)
    for _, text in CONTRIBUTIONS:  # every answer is shown, grouped ...
        assert text.split('"')[1] in shown
    for name in PEOPLE:  # ... and nobody's name
        assert name not in shown
    assert '"slow approval" (3)' in shown  # a theme in three government answers
    assert '"trust" (' in shown and "community" in shown  # shared across sectors
    assert "brainwriting" not in (await store.load(HERE)).partnership.dialogs
    debrief = content.exercises["sector-styles"].debrief
    assert debrief[0] in shown

    out = await convo.script(
        """
carmen_ngo: exercise answer "Slow approval came up for government again and again"
alice_city: exercise next
bruno_chamber: Trust showed up for three sectors
alice_city: skip
alice_city: exercise next
alice_city: exercise next
dmitri_resident: exercise answer "Working with the county on a park, approvals took a year"
alice_city: exercise next
"""
    )
    assert debrief[1] in out and debrief[-1] in out
    assert Walk.current((await store.load(HERE)).partnership, "exercise-debrief") is None

    record = await convo("bruno_chamber: exercise record")
    assert "careful and rule-bound, slow approval" in record
    assert "Working with the county on a park, approvals took a year" in record
    journal = await store.journal(PID)
    kinds = [e["type"] for e in journal if e["type"].startswith("exercise")]
    assert kinds[0] == "exercise-started" and kinds[1] == "exercise-revealed"
    assert kinds.count("exercise-answer") == 3 and kinds[-1] == "exercise-finished"
    revealed_entry = next(e for e in journal if e["type"] == "exercise-revealed")
    assert revealed_entry["contributors"] == "4"
    assert not any(name in revealed_entry["answers"] for name in PEOPLE)


async def test_the_sector_styles_debrief_asks_about_the_partners_own_experience(content):
    debrief = " ".join(content.exercises["sector-styles"].debrief).lower()
    assert "experience" in debrief and "across sectors" in debrief


async def test_a_time_box_refuses_late_writing_and_the_next_turn_reveals(
    convo, store, clock: Clock
):
    await convo.script(FOUR_PARTNERS)
    await convo("alice_city: exercise sector-styles government business --minutes 15")
    await convo('bruno_chamber: dm write business culture "fast"')
    clock.now += timedelta(minutes=16)
    rev = await store.revision(PID)
    late = await convo.channel.line('carmen_ngo: dm write business culture "late"')
    assert [r.to for r in late] == ["carmen_ngo"]
    assert await store.revision(PID) == rev  # refused: nothing changed

    shown = await convo("dmitri_resident: exercise")  # anyone's look after the box reveals
    assert "fast" in shown and "late" not in shown
    assert Walk.current((await store.load(HERE)).partnership, "exercise-debrief") is not None


async def test_bad_input_to_the_workshop_changes_nothing(convo, store, content):
    told = await convo.channel.line("alice_city: exercise sector-styles")
    assert [(r.text, r.to) for r in told] == [
        (content.prompts.render("errors.not_set_up"), "alice_city")
    ]
    told = await convo.channel.line("alice_city: practice transportation-air-quality")
    assert [(r.text, r.to) for r in told] == [
        (content.prompts.render("errors.not_set_up"), "alice_city")
    ]
    assert await store.revision(PID) == 0
    assert await store.revision(practice_id(PID)) == 0

    await convo.script(FOUR_PARTNERS.split("alice_city: /coach join")[0])
    await convo('alice_city: /coach join "City of Riverside"')
    rev = await store.revision(PID)
    for line in [
        "alice_city: exercise sector-styles",  # one participant only
        "alice_city: exercise brainstorm",  # no such exercise
        "alice_city: exercise sector-styles government utilities",  # no such sector
        "alice_city: exercise close",  # nothing to close
        'alice_city: dm write government culture "careful"',  # nothing to write into
    ]:
        replies = await convo.channel.line(line)
        assert replies and all(r.to == "alice_city" for r in replies), line
    assert await store.revision(PID) == rev

    await convo.script(FOUR_PARTNERS.split('join "City of Riverside"')[1])
    await convo("alice_city: exercise sector-styles --minutes 10")
    rev = await store.revision(PID)
    for who, line in [
        ("bruno_chamber", "exercise close"),  # not a facilitator
        ("bruno_chamber", 'write government culture "careful"'),  # in the channel, not private
        ("bruno_chamber", 'dm write government weather "sunny"'),  # no such question
        ("bruno_chamber", "dm write government culture"),  # no text
        ("bruno_chamber", "exercise sector-styles"),  # not a facilitator
        ("alice_city", "exercise sector-styles --minutes 0"),  # not a time box
    ]:
        replies = await convo.channel.line(f"{who}: {line}")
        assert replies and all(r.to == who for r in replies), line
    assert await store.revision(PID) == rev


async def test_a_second_exercise_while_one_runs_asks_first(convo, store):
    await convo.script(FOUR_PARTNERS)
    await convo("alice_city: exercise sector-styles government")
    await convo('bruno_chamber: dm write government culture "careful"')
    rev = await store.revision(PID)

    asked = await convo.channel.line("alice_city: exercise sector-styles business")
    assert [r.to for r in asked] == ["alice_city"] and len(asked[0].choices) == 2
    assert await store.revision(PID) == rev
    assert (await store.load(HERE)).partnership.dialogs["brainwriting"]["sectors"] == ["government"]

    await convo("1")  # end it and start the new one
    assert (await store.load(HERE)).partnership.dialogs["brainwriting"]["sectors"] == ["business"]


async def test_participants_writing_at_once_lose_nothing(coach: Coach, convo, store):
    await convo.script(FOUR_PARTNERS)
    await convo("alice_city: exercise sector-styles")
    direct = Address("console", "local", "direct")
    turns = [
        Turn(direct, User(who, who), f'write community culture "idea {n} from someone"',
             private=True, event_id=f"e{n}")
        for n, who in enumerate(PEOPLE * 3)
    ]  # fmt: skip
    await asyncio.gather(*(coach.handle(t) for t in turns))
    writing = (await store.load(HERE)).partnership.dialogs["brainwriting"]
    assert len(writing["answers"]["community"]["culture"]) == 12
    assert writing["contributors"] == sorted(PEOPLE)


# --- the case simulation --------------------------------------------------------------------

PRACTICE = """
alice_city: practice transportation-air-quality
alice_city: practice scorecard who why how
alice_city: practice rate who.partners in-place
bruno_chamber: practice rate who.partners not-in-place
carmen_ngo: practice rate who.partners partial
dmitri_resident: practice rate who.representatives not-relevant
alice_city: practice rate who.representatives in-place
bruno_chamber: practice rate why.vision in-place
dmitri_resident: practice rate why.vision partial
bruno_chamber: practice decide "Each group names one representative and an alternate" --item who.representatives
carmen_ngo: practice endorse D1
dmitri_resident: practice object D1 "Residents need two seats"
alice_city: practice scorecard stop
alice_city: practice present
alice_city: practice debrief
bruno_chamber: practice answer "We presented Who? because representation came first"
alice_city: practice next
carmen_ngo: practice answer "We chose who, why and how to settle seats and purpose first"
alice_city: practice next
alice_city: practice next
alice_city: practice next
dmitri_resident: practice answer "A county park project stalled on approvals; we met monthly"
alice_city: practice next
"""


async def test_a_practice_run_leaves_the_real_partnership_byte_for_byte_unchanged(
    convo, store, content
):
    await convo.script(FOUR_PARTNERS)
    await convo('bruno_chamber: /coach decide "Meet monthly"')
    await convo("carmen_ngo: /coach rate who.partners partial")
    before = await state_keys(store, PID)
    assert before

    replies = await lines(convo, PRACTICE)

    # each brief reaches only its reader
    case = content.cases["transportation-air-quality"]
    space = (await store.load_partnership(practice_id(PID), with_history=True)).partnership
    roles = space.dialogs["practice"]["roles"]
    assert sorted(roles) == sorted(PEOPLE)
    assert len(set(roles.values())) == 4  # round-robin: four people, four roles
    for group in case.interest_groups:
        holders = [r.to for r in replies if group.brief in r.text]
        assert holders == [uid for uid, g in roles.items() if g == group.id]

    # the run played out in its own space
    assert space.members["bruno_chamber"].org == roles["bruno_chamber"]
    assert space.dialogs["practice"]["families"] == ["who", "why", "how"]
    assert {g: r.rating for g, r in space.org_ratings("who.partners").items()} == {
        roles["alice_city"]: "in-place",
        roles["bruno_chamber"]: "not-in-place",
        roles["carmen_ngo"]: "partial",
    }
    d1 = space.decisions["D1"]
    assert d1.endorsed_by() == [roles["carmen_ngo"]]
    assert d1.objected_by() == [roles["dmitri_resident"]]
    presenters = space.dialogs["practice"]["presenters"]
    assert set(presenters) == {"who", "why", "how"}

    # the debrief names the family where the roles' ratings differed most
    journal = await store.journal(practice_id(PID))
    analysis = next(e for e in journal if e["type"] == "practice-analysis")
    assert analysis["most"] == "who" and analysis["objections"] == "D1"
    said = "\n".join(r.text for r in replies if r.to is None)
    most = content.prompts.render(
        "practice.differed_most", family="Who?", total=analysis["most_total"],
        item=analysis["item"],
    )  # fmt: skip
    assert most in said
    for question in case.debrief:
        assert question in said

    # a summary to keep, with the debrief answers
    kept = [r.attachment for r in replies if r.attachment is not None]
    assert len(kept) == 1 and kept[0].filename.endswith(".md")
    assert "A county park project stalled on approvals" in kept[0].content

    # nothing of it in the real partnership
    assert await state_keys(store, PID) == before
    real = (await store.load(HERE)).partnership
    assert list(real.decisions) == ["D1"] and real.decisions["D1"].text == "Meet monthly"

    await convo("alice_city: practice clear")
    assert await state_keys(store, PID) == before
    left = await state_keys(store, practice_id(PID))
    assert [k.rsplit(":", 1)[1] for k in left] == ["rev"]  # only the revision counter stays


async def test_the_case_credits_its_source_and_its_debrief_is_complete(content):
    case = content.cases["transportation-air-quality"]
    assert "National Policy Consensus Center" in case.source and "2003" in case.source
    debrief = " ".join(case.debrief).lower()
    assert "present one" in debrief
    assert "choose" in debrief and "why" in debrief
    assert "own experience" in debrief
    organize = next(s for s in case.steps if s.id == "organize")
    assert "inference" in organize.summary


async def test_a_facilitator_can_choose_a_role_and_practice_commands_need_a_run(convo, store):
    await convo.script(FOUR_PARTNERS)
    rev = await store.revision(practice_id(PID))
    for who, line in [
        ("bruno_chamber", "practice rate who.partners partial"),  # no run
        ("bruno_chamber", "practice debrief"),
        ("alice_city", "practice transit-case"),  # no such case
        ("bruno_chamber", "practice transportation-air-quality"),  # not a facilitator
    ]:
        replies = await convo.channel.line(f"{who}: {line}")
        assert replies and all(r.to == who for r in replies), line
    assert await store.revision(practice_id(PID)) == rev

    await convo("alice_city: practice transportation-air-quality")
    replies = await convo.channel.line("alice_city: practice role @carmen_ngo government")
    assert [r.to for r in replies if "government" in r.text.lower()].count("carmen_ngo") == 1
    space = (await store.load_partnership(practice_id(PID))).partnership
    assert space.members["carmen_ngo"].org == "government"

    asked = await convo.channel.line("alice_city: exercise sector-styles")
    assert [r.to for r in asked] == ["alice_city"] and asked[0].choices  # asks first


async def test_a_participant_without_orgs_cannot_start_a_practice(convo, store):
    await convo('alice_city: /coach setup "Solo"')
    replies = await convo.channel.line("alice_city: practice transportation-air-quality")
    assert [r.to for r in replies] == ["alice_city"]
    assert not (await store.load_partnership(practice_id(PID))).partnership.is_set_up


async def test_the_spectrum_is_asked_at_setup_and_reflected_in_the_scorecard(convo, store, content):
    out = await convo('alice_city: /coach setup "Riverside Partnership"')
    zone_step = content.prompts.render("setup.zone_step")  # the console says no time zone
    created = content.prompts.render(
        "setup.created", partnership="Riverside Partnership", user="alice_city", zone_step=zone_step
    )
    assert created in out and "/coach spectrum" in created
    rev = await store.revision(PID)
    refused = await convo.channel.line("alice_city: spectrum collaborative")
    assert [r.to for r in refused] == ["alice_city"] and await store.revision(PID) == rev

    await convo("alice_city: spectrum collaborative formal")
    assert (await store.load(HERE)).partnership.dialogs["spectrum"] == {
        "integration": "collaborative",
        "formality": "formal",
    }
    started = await convo("alice_city: scorecard who why what")
    assert content.prompts.render("spectrum.formality_formal") in started
    assert content.prompts.render("spectrum.integration_collaborative") in started


async def test_roles_rating_at_once_lose_nothing(coach: Coach, convo, store):
    await convo.script(FOUR_PARTNERS)
    await convo("alice_city: practice transportation-air-quality")
    await convo("alice_city: practice scorecard who why how")
    ratings = ("not-relevant", "not-in-place", "partial", "in-place")
    turns = [
        Turn(HERE, User(who, who), f"practice rate who.partners {rating}", event_id=f"r{n}")
        for n, (who, rating) in enumerate(zip(PEOPLE, ratings, strict=True))
    ]
    await asyncio.gather(*(coach.handle(t) for t in turns))
    space = (await store.load_partnership(practice_id(PID))).partnership
    roles = space.dialogs["practice"]["roles"]
    assert {g: r.rating for g, r in space.org_ratings("who.partners").items()} == {
        roles[who]: rating for who, rating in zip(PEOPLE, ratings, strict=True)
    }
