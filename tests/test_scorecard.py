"""The scorecard kept per organization: each one's rating, how an item stands across them, its
history and notes; drafting and reviewing wording; the coach's own items marked as such."""

from __future__ import annotations

import re

from bot.model import Address

HERE = Address("console", "local", "partnership")
CITY, CHAMBER, NGO = "city-of-sacramento", "metro-chamber", "clean-air-coalition"


async def load(store):
    return (await store.load(HERE)).partnership


def grid_row(out: str, item_id: str) -> str:
    """The status grid's row for an item."""
    rows = [line for line in out.splitlines() if item_id in line.split()]
    assert len(rows) == 1, f"no single row for {item_id} in:\n{out}"
    return rows[0]


async def test_three_organizations_rating_differently_then_converging(three_partners, store, content):
    convo = three_partners
    scale = content.scale
    await convo('city_lead: rate who.partners in-place "We listed everyone"')
    await convo('chamber_rep: rate who.partners not-in-place "Our mission is missing"')
    await convo("ngo_rep: rate who.partners partial")

    p = await load(store)
    standing = p.standing("who.partners", scale)
    assert standing.state == "differs"
    assert (standing.low, standing.high) == ("not-in-place", "in-place")
    assert list(standing.ratings) == [CITY, CHAMBER, NGO]  # in the partnership's order

    out = await convo("city_lead: scorecard status")
    row = grid_row(out, "who.partners")
    assert content.prompts.render("scorecard.grid_differs") in row
    assert "Not in place to Fully in place" in row  # both ends, in words
    assert "1 where organizations differ" in out

    out = await convo("ngo_rep: scorecard item who.partners")
    for org, rating, note in (
        ("City of Sacramento", "Fully in place", "We listed everyone"),
        ("Metro Chamber", "Not in place", "Our mission is missing"),
        ("Clean Air Coalition", "Partially in place", None),
    ):
        line = next(x for x in out.splitlines() if x.startswith(f"{org}:"))
        assert rating in line and "by " in line
        if note:
            assert note in line

    # they converge: the chamber changes its mind; the earlier rating stays in the history
    await convo('chamber_rep: rate who.partners in-place "Mission added in section 2"')
    await convo("ngo_rep: rate who.partners in-place")
    p = await load(store)
    standing = p.standing("who.partners", scale)
    assert (standing.state, standing.rating) == ("agreed", "in-place")
    assert [r.org for r in p.ratings["who.partners"].history] == [CITY, CHAMBER, NGO, CHAMBER, NGO]

    out = await convo("city_lead: scorecard status")
    row = grid_row(out, "who.partners")
    assert content.prompts.render("scorecard.grid_agreed") in row and "Fully in place" in row
    assert "All 27 items: 1 rated by every organization (4%); 1 agreed, 0 where" in out

    out = await convo("city_lead: scorecard item who.partners")
    history = out.split("Earlier ratings")[1]
    assert "Our mission is missing" in history and "Not in place" in history
    assert "Mission added in section 2" in out.split("Earlier ratings")[0]


async def test_a_partly_rated_item_and_coverage_of_the_round(three_partners, store, content):
    convo = three_partners
    await convo("city_lead: scorecard who why what")
    await convo("city_lead: rate who.partners partial")
    await convo("chamber_rep: rate who.partners partial")
    p = await load(store)
    assert p.standing("who.partners", content.scale).state == "partly"
    assert p.standing("who.representatives", content.scale).state == "not_rated"

    out = await convo("ngo_rep: scorecard status")
    row = grid_row(out, "who.partners")
    assert content.prompts.render("scorecard.grid_partly") in row
    assert "(2 of 3 organizations)" in row
    assert "This round (Who?, Why? and What?): 0 of 12 rated by every organization" in out
    assert "All 27 items: 0 rated by every organization" in out


async def test_only_a_confirmed_member_rates_and_for_their_own_organization(convo, store):
    await convo.script(
        """
city_lead: /coach setup "Riverside Housing Compact"
city_lead: /coach partner add "City of Riverside" government
city_lead: /coach partner add "Habitat Partners" nonprofit
newcomer: /coach join "Habitat Partners"
"""
    )
    before = await store.redis.hgetall(f"{store.prefix}:{{{HERE.conversation}}}:ratings")
    out = await convo("newcomer: rate who.partners partial")  # asked to join, not confirmed yet
    assert "(only newcomer sees this)" in out
    out = await convo("city_lead: rate who.partners partial")  # a facilitator of no organization
    assert "(only city_lead sees this)" in out
    assert await store.redis.hgetall(f"{store.prefix}:{{{HERE.conversation}}}:ratings") == before


async def test_the_mode_words_the_questions_and_only_a_facilitator_sets_it(three_partners, store, content):
    convo = three_partners
    item = content.items["who.partners"]
    out = await convo("city_lead: scorecard who why what")
    assert item.question("drafting") in out  # drafting until a facilitator says otherwise

    out = await convo("chamber_rep: scorecard mode reviewing")
    assert "(only chamber_rep sees this)" in out
    assert (await load(store)).mode == "drafting"

    out = await convo("city_lead: scorecard mode reviewing")
    assert (await load(store)).mode == "reviewing"
    assert item.question("reviewing") in out  # the item under way, asked again

    out = await convo("city_lead: scorecard mode sideways")
    assert content.prompts.render("scorecard.unknown_mode", mode="sideways", modes="drafting or reviewing") in out

    # the mode can be set as a round starts
    out = await convo("city_lead: scorecard when how what-if --mode drafting --yes")
    assert (await load(store)).mode == "drafting"
    when = content.items["when.timeline"]
    assert when.question("drafting") in out


async def test_the_coachs_own_items_say_so_wherever_they_appear(three_partners, content):
    convo = three_partners
    note = content.prompts.render("scorecard.composed_note").strip()
    assert all(i.composed for i in content.items.values() if i.family in {"when", "how", "what-if"})
    assert not any(i.composed for i in content.items.values() if i.family in {"who", "why", "what"})

    out = await convo("city_lead: scorecard when how what-if")
    assert note in out
    out = await convo("city_lead: scorecard item when.review")
    assert note in out
    out = await convo("city_lead: scorecard item who.partners")
    assert note not in out
    out = await convo("city_lead: scorecard status")
    assert "when.timeline †" in out and "who.partners †" not in out
    assert content.prompts.render("scorecard.composed_marker").strip() in out


async def test_the_rating_key_is_offered_where_ratings_are_asked(three_partners, content):
    convo = three_partners
    out = await convo("city_lead: scorecard who why what")
    label = content.prompts.render("scorecard.key_choice")
    number = re.search(rf"\[(\d+)\] {re.escape(label)}", out)
    assert number, out
    out = await convo(f"chamber_rep: {number.group(1)}")
    for rating in content.ratings:
        assert rating.label in out and rating.meaning in out


async def test_bad_scorecard_item_requests_change_nothing(three_partners, store, content):
    convo = three_partners
    rev = (await store.load(HERE)).rev
    out = await convo("city_lead: scorecard item who.partner")
    assert "who.partners" in out and "(only city_lead sees this)" in out  # the closest id
    out = await convo("city_lead: scorecard item nothing.like.it")
    assert content.prompts.render("scorecard.unknown_item", item="nothing.like.it") in out
    out = await convo("city_lead: scorecard mode --yes")
    assert (await store.load(HERE)).rev == rev


async def test_a_mode_given_with_a_new_round_waits_for_the_round_to_be_confirmed(
    three_partners, store, content
):
    convo = three_partners
    await convo("city_lead: scorecard who why what")
    rev = (await store.load(HERE)).rev
    out = await convo("city_lead: scorecard when how what-if --mode reviewing")
    changes = content.prompts.render(
        "confirm.scorecard_mode", mode=content.prompts.render("scorecard.mode_reviewing")
    )
    assert changes.strip() in out  # the question says what else starting it changes
    assert (await store.load(HERE)).rev == rev  # asking changed nothing, the mode included
    await convo("city_lead: 2")  # keep things as they are
    p = await load(store)
    assert p.mode == "drafting" and (await store.load(HERE)).rev == rev
    await convo("city_lead: scorecard when how what-if --mode reviewing")
    await convo("city_lead: 1")  # start the new round
    p = await load(store)
    assert p.mode == "reviewing"
    assert content.items["when.timeline"].question("reviewing") in await convo("city_lead: scorecard")


async def test_rate_with_only_an_item_offers_the_ratings_and_changes_nothing(
    three_partners, store, content
):
    convo = three_partners
    rev = (await store.load(HERE)).rev
    out = await convo("chamber_rep: rate who.partners")
    assert content.prompts.render("scorecard.rate_which", item="who.partners").strip() in out
    for rating in content.ratings:  # each rating is a choice, and so is the key
        assert re.search(rf"\[\d+\] {re.escape(rating.label)}\b", out), rating.label
    assert content.prompts.render("scorecard.key_choice") in out
    assert (await store.load(HERE)).rev == rev
    number = re.search(r"\[(\d+)\] Partially in place", out)
    assert number
    await convo(f"chamber_rep: {number.group(1)}")
    assert (await load(store)).org_ratings("who.partners")[CHAMBER].rating == "partial"


async def test_a_family_named_where_an_item_is_wanted_lists_its_items(three_partners, store, content):
    convo = three_partners
    rev = (await store.load(HERE)).rev
    when = content.families[[f.id for f in content.families].index("when")]
    for typed in ("when", "When?"):
        out = await convo(f"city_lead: scorecard item {typed}")
        assert all(item.id in out for item in when.items), out
    out = await convo("city_lead: rate what-if partial")
    assert "what-if.exit" in out
    assert (await store.load(HERE)).rev == rev


async def test_the_status_grid_says_what_its_dash_means(three_partners, content):
    convo = three_partners
    out = await convo("city_lead: scorecard status")
    assert content.prompts.render("scorecard.no_rating_marker").strip() in out
    assert content.prompts.render("scorecard.grid_not_rated") in grid_row(out, "who.partners")


async def test_a_rating_is_read_as_people_type_it(three_partners, store, content):
    """The button's words ("Fully in place"), its id, or a plain word ("n/a", "partly"); a note
    may follow the rating's words unquoted."""
    convo = three_partners
    await convo("city_lead: rate who.partners Fully in place we listed everyone")
    await convo("chamber_rep: rate who.partners partly")
    await convo('ngo_rep: rate who.partners not in place "our mission is missing"')
    await convo("ngo_rep: rate why.values n/a")
    ratings = (await load(store)).org_ratings("who.partners")
    assert {org: (r.rating, r.note) for org, r in ratings.items()} == {
        CITY: ("in-place", "we listed everyone"),
        CHAMBER: ("partial", ""),
        NGO: ("not-in-place", "our mission is missing"),
    }
    assert (await load(store)).org_ratings("why.values")[NGO].rating == "not-relevant"

    before = await store.revision(HERE.conversation)
    out = await convo("city_lead: rate who.partners splendid")
    assert content.prompts.render(
        "scorecard.unknown_rating", rating="splendid", ratings="not-relevant, not-in-place, partial or in-place"
    ) in out
    assert await store.revision(HERE.conversation) == before
