"""Decision rules, concurrency, retried events and stale choices, through the core and store."""

from __future__ import annotations

import asyncio
import os

from redis.asyncio import Redis

from bot.coach import Coach
from bot.model import Address, Turn, User
from bot.store import CommitResult, Store

HERE = Address("console", "local", "partnership")


def turn(user: str, text: str, **kw: str) -> Turn:
    return Turn(HERE, User(user, user), text, **kw)


async def test_revising_resets_endorsements_and_history_keeps_every_step(three_partners, store):
    convo = three_partners
    await convo('chamber_rep: decide "Meet monthly"')
    await convo("chamber_rep: endorse D1")
    out = await convo('ngo_rep: object D1 "Monthly is too often for our volunteers"')
    assert 'Clean Air Coalition objects to D1 "Meet monthly" (ngo_rep): Monthly is too often' in out

    out = await convo('ngo_rep: revise D1 "Meet every six weeks"')
    assert "Only chamber_rep, who proposed D1, or a facilitator can revise it." in out

    out = await convo('chamber_rep: revise D1 "Meet every six weeks"')
    assert 'chamber_rep revised D1 (version 2): "Meet every six weeks"' in out
    out = await convo("decisions")
    assert "Endorsed by 0 of 3: none." in out

    for user in ("chamber_rep", "ngo_rep"):
        await convo(f"{user}: endorse D1")
    out = await convo("city_lead: endorse D1")
    assert "D1 is now agreed" in out

    out = await convo("city_lead: decision D1")
    history = out.split("History:\n", 1)[1]
    # each line: the time in the partnership's zone (UTC: no check-ins set), who, what
    lines = history.strip().splitlines()[:4]
    assert lines[0].startswith("Tuesday, April 14, 2026, 3:00 PM UTC chamber_rep proposed")
    assert [line.split(" UTC ", 1)[1].split(" ", 1)[1] for line in lines] == [
        'proposed: "Meet monthly"',
        "endorsed for Metro Chamber",
        "objected for Clean Air Coalition: Monthly is too often for our volunteers",
        'revised it (version 2): "Meet every six weeks"',
    ]
    log = await store.decision_log(HERE.conversation)
    assert [e["act"] for e in log] == [
        "propose", "endorse", "object", "revise", "endorse", "endorse", "endorse", "agreed",
    ]  # fmt: skip


async def test_one_endorsement_per_organization(three_partners, store):
    convo = three_partners
    await convo('city_lead: partner add "Transit Riders Union" community @rider_a @rider_b')
    await convo('rider_a: decide "Publish meeting notes within a week"')
    await convo("rider_a: endorse D1")
    out = await convo("rider_b: endorse D1")
    assert "Transit Riders Union has already endorsed D1 (rider_a did)" in out
    snapshot = await store.load(HERE)
    assert snapshot.partnership.decisions["D1"].endorsed_by() == ["transit-riders-union"]


async def test_concurrent_endorsements_from_every_organization_all_count(
    convo, content, redis_socket, prefix
):
    """Eight organizations endorse at the same instant, each through its own connection."""
    orgs = [f"Org {n}" for n in range(8)]
    await convo("lead: setup Coalition")
    for n, org in enumerate(orgs):
        await convo(f'lead: partner add "{org}" business @rep{n}')
    await convo('rep0: decide "Share one data dashboard"')

    clients = [
        Redis(unix_socket_path=redis_socket, decode_responses=True)
        if redis_socket
        else Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
        for _ in orgs
    ]
    try:
        coaches = [Coach(Store(client, prefix), content) for client in clients]
        results = await asyncio.gather(
            *(c.handle(turn(f"rep{n}", "endorse D1")) for n, c in enumerate(coaches))
        )
    finally:
        for client in clients:
            await client.aclose()

    texts = [r.text for replies in results for r in replies]
    assert sum("is now agreed" in t for t in texts) == 1
    assert sum("endorses D1" in t for t in texts) == len(orgs) - 1
    out = await convo("decision D1")
    assert "[agreed]" in out
    assert "Endorsed by 8 of 8" in out


async def test_a_commit_from_a_stale_snapshot_conflicts(three_partners, store):
    first = await store.load(HERE)
    second = await store.load(HERE)
    first.partnership.name = "First"
    second.partnership.name = "Second"
    assert await store.commit(first, first.partnership) is CommitResult.DONE
    assert await store.commit(second, second.partnership) is CommitResult.CONFLICT
    assert (await store.load(HERE)).partnership.name == "First"


async def test_a_turn_rerun_after_a_conflict_keeps_its_options(three_partners, coach, store, content):
    """Another process commits to the partnership between this turn's load and its commit: the
    turn runs again on fresh state, with the same inputs, so `--item` still links the item."""
    other_process = Coach(Store(store.redis, store.prefix), content, clock=coach.clock)
    loads = 0
    load_partnership = store.load_partnership

    async def load_then_let_another_process_commit(pid, **kw):
        nonlocal loads
        loaded = await load_partnership(pid, **kw)
        loads += 1
        if loads == 1:  # after this turn's first load, before its commit
            await other_process.handle(turn("ngo_rep", 'rate who.partners partial "Seats open"'))
        return loaded

    store.load_partnership = load_then_let_another_process_commit
    replies = await coach.handle(
        turn("chamber_rep", 'decide "Each partner names one alternate" --item who.representatives')
    )
    assert loads >= 2  # the first commit conflicted; the handler ran again
    assert "proposes D1" in replies[0].text
    p = (await load_partnership(HERE.conversation)).partnership
    assert p.decisions["D1"].item == "who.representatives"
    assert p.org_ratings("who.partners")["clean-air-coalition"].note == "Seats open"


async def test_a_retried_event_is_handled_once(three_partners, coach, store):
    propose = turn("chamber_rep", 'decide "Meet monthly"', event_id="Ev123")
    first = await coach.handle(propose)
    again = await coach.handle(propose)
    assert "proposes D1" in first[0].text
    assert again == []
    snapshot = await store.load(HERE)
    assert list(snapshot.partnership.decisions) == ["D1"]

    # a retried refusal is not answered twice either
    assert await coach.handle(turn("nobody", "endorse D9", event_id="Ev124"))
    assert await coach.handle(turn("nobody", "endorse D9", event_id="Ev124")) == []


async def test_retried_events_racing_each_other_are_handled_once(three_partners, coach, store):
    propose = turn("chamber_rep", 'decide "Meet monthly"', event_id="Ev200")
    results = await asyncio.gather(*(coach.handle(propose) for _ in range(5)))
    assert sorted(len(r) for r in results) == [0, 0, 0, 0, 1]
    assert list((await store.load(HERE)).partnership.decisions) == ["D1"]


async def test_a_button_from_before_a_revision_is_stale(three_partners, coach, store):
    await coach.handle(turn("chamber_rep", 'decide "Meet monthly"'))
    old_button = "D1:r1"
    await coach.handle(turn("chamber_rep", 'revise D1 "Meet every six weeks"'))
    replies = await coach.handle(turn("ngo_rep", "endorse D1", step=old_button))
    assert "That button belongs to an earlier message" in replies[0].text
    assert (await store.load(HERE)).partnership.decisions["D1"].stances == {}
    replies = await coach.handle(turn("ngo_rep", "endorse D1", step="D1:r2"))
    assert "Clean Air Coalition endorses D1" in replies[0].text


async def test_a_scorecard_button_from_an_earlier_question_is_stale(three_partners, coach, store):
    replies = await coach.handle(turn("city_lead", "scorecard who why what"))
    first_question = replies[-1]
    partial = next(c for c in first_question.choices if c.label == "Partially in place")
    next_button = next(c for c in first_question.choices if c.label == "Next question")
    await coach.handle(turn("city_lead", next_button.command, step=next_button.step))

    replies = await coach.handle(turn("city_lead", partial.command, step=partial.step))
    assert "That button belongs to an earlier message" in replies[0].text
    replies = await coach.handle(turn("city_lead", next_button.command, step=next_button.step))
    assert "That button belongs to an earlier message" in replies[0].text
    snapshot = await store.load(HERE)
    assert snapshot.partnership.ratings == {}
    assert snapshot.partnership.dialogs["scorecard"]["index"] == 1

    # typed commands are never stale: a rating of an earlier item still counts
    await coach.handle(turn("city_lead", "rate who.partners in-place"))
    assert (await store.load(HERE)).partnership.org_ratings("who.partners")["city-of-sacramento"].rating == "in-place"


async def test_one_person_cannot_endorse_for_every_organization(three_partners, store):
    convo = three_partners
    await convo('chamber_rep: decide "Meet monthly"')
    await convo("chamber_rep: endorse D1")
    out = await convo('chamber_rep: join "Clean Air Coalition"')
    assert "You already represent Metro Chamber here, so nothing was changed." in out
    assert (await store.load(HERE)).partnership.members["chamber_rep"].org == "metro-chamber"

    out = await convo('city_lead: member move @chamber_rep "Clean Air Coalition"')
    assert "chamber_rep now represents Clean Air Coalition" in out
    out = await convo('chamber_rep: member move @ngo_rep "Metro Chamber"')
    assert "Only a facilitator" in out


async def test_a_decision_waiting_only_on_a_removed_organization_is_agreed(three_partners, store):
    convo = three_partners
    await convo('chamber_rep: decide "Meet monthly"')
    await convo("chamber_rep: endorse D1")
    await convo("ngo_rep: endorse D1")
    out = await convo('city_lead: partner remove "City of Sacramento"')
    assert "D1 is now agreed" not in out  # the facilitator is asked first
    out = await convo("city_lead: 1")  # [1] Remove City of Sacramento
    assert "D1 is now agreed" in out
    d1 = (await store.load(HERE)).partnership.decisions["D1"]
    assert d1.agreed_at is not None

    await convo('city_lead: partner add "City of Sacramento" government')
    out = await convo("decisions")
    assert "[agreed]" in out  # an agreement stands when a partner joins later
    await convo('city_lead: member move @city_lead "City of Sacramento"')
    await convo("city_lead: endorse D1")
    log = await store.decision_log(HERE.conversation)
    assert [e["act"] for e in log].count("agreed") == 1


async def test_a_removed_organizations_stance_stops_counting_and_does_not_come_back(
    three_partners, store
):
    convo = three_partners
    await convo('chamber_rep: decide "Meet monthly"')
    await convo("ngo_rep: endorse D1")
    await convo('city_lead: partner remove "Clean Air Coalition" --yes')
    out = await convo("decision D1")
    assert "Endorsed by 0 of 2: none." in out
    assert "ngo_rep endorsed for Clean Air Coalition" in out  # the history keeps it

    await convo('city_lead: partner add "Clean Air Coalition" nonprofit')
    out = await convo("decisions")
    assert "Endorsed by 0 of 3" in out


async def test_an_objection_can_come_from_a_form(three_partners, coach, store):
    from bot.model import Turn, User

    await three_partners('chamber_rep: decide "Meet monthly"')
    turn = Turn(HERE, User("ngo_rep", "ngo_rep"), "object D1", body="Volunteers can't")
    assert "Volunteers can't" in (await coach.handle(turn))[0].text


async def test_exports_defuse_spreadsheet_formulas_in_every_cell(convo):
    await convo('lead: setup "P"')
    await convo('lead: partner add "=HYPERLINK(1)" business')
    await convo('lead: join "=HYPERLINK(1)"')
    await convo('lead: decide "@SUM(1+1)"')
    out = await convo("lead: export decisions csv")
    row = out.strip().splitlines()[-1]
    assert row.startswith("D1,proposed,'@SUM(1+1),lead,'=HYPERLINK(1),")


async def test_organizations_may_have_names_in_any_script(convo, store):
    await convo('lead: setup "Tokyo"')
    await convo('lead: partner add "東京都" government')
    out = await convo('lead: join "東京都"')
    assert "lead represents 東京都" in out


async def test_a_decision_shows_the_scorecard_item_it_is_linked_to(three_partners, content):
    convo = three_partners
    await convo('chamber_rep: decide "Review the agreement every June" --item when.review')
    await convo('chamber_rep: decide "Meet monthly"')
    linked = content.prompts.render("decisions.detail_item", item="when.review").strip()
    assert linked in await convo("city_lead: decision D1")
    assert "Scorecard item:" not in await convo("city_lead: decision D2")
