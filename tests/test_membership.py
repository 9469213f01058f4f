"""Who speaks for an organization: a join is a request until a facilitator, a confirmed member
of that organization, or a verified identity tied to it confirms it; only confirmed members'
acts count for it. (Slack and Teams guests: tests/test_slack.py, tests/test_teams.py.)"""

from __future__ import annotations

from bot.model import Turn, User


async def member(store, convo, user):
    return (await store.load(convo.channel.address)).partnership.members[user]


async def test_a_join_waits_for_confirmation_and_counts_only_once_confirmed(three_partners, store):
    convo = three_partners
    await convo('city_lead: decide "Meet monthly"')
    out = await convo('newcomer: join "Metro Chamber"')
    assert convo.channel.prompt("setup.confirm_choice", user="newcomer") in out  # a button
    assert (await member(store, convo, "newcomer")).pending == "metro-chamber"

    out = await convo("newcomer: endorse D1")
    assert convo.channel.prompt(
        "errors.join_pending", org="Metro Chamber", facilitators="city_lead"
    ) in out
    assert "metro-chamber" not in (await store.load(convo.channel.address)).partnership.decisions[
        "D1"
    ].endorsed_by()

    out = await convo("ngo_rep: member confirm @newcomer")  # speaks for another organization
    assert convo.channel.prompt(
        "setup.confirm_not_allowed", org="Metro Chamber", facilitators="city_lead"
    ) in out
    await convo("chamber_rep: member confirm @newcomer")  # a confirmed member of Metro Chamber
    confirmed = await member(store, convo, "newcomer")
    assert (confirmed.org, confirmed.pending) == ("metro-chamber", None)
    await convo("newcomer: endorse D1")
    assert "metro-chamber" in (await store.load(convo.channel.address)).partnership.decisions[
        "D1"
    ].endorsed_by()


async def test_pending_joins_are_listed_with_a_button_for_those_who_can_confirm(
    three_partners, store
):
    convo = three_partners
    await convo('newcomer: join "Clean Air Coalition"')
    out = await convo("partners")
    assert convo.channel.prompt(
        "setup.pending_line", user="newcomer", org="Clean Air Coalition"
    ) in out
    confirm = next(c for c in convo.channel.choices if c.command == "member confirm newcomer")
    await convo(f"ngo_rep: {convo.channel.choices.index(confirm) + 1}")
    assert (await member(store, convo, "newcomer")).org == "clean-air-coalition"


async def test_a_partner_added_with_its_people_has_them_confirmed(convo, store):
    await convo('lead: setup "Trails"')
    await convo('lead: partner add "Acme" business @pat @lee')
    for user in ("pat", "lee"):
        assert (await member(store, convo, user)).org == "acme"
    out = await convo('lead: partner add "Beta" business pat')  # a name without its @
    assert convo.channel.prompt(
        "setup.unknown_sector", sector="pat", sectors="government, business, nonprofit, community"
    ) in out
    assert len((await store.load(convo.channel.address)).partnership.orgs) == 1


async def test_a_verified_identity_tied_to_an_organization_confirms_a_join(
    three_partners, store, coach
):
    convo = three_partners
    await convo('city_lead: partner identity "Metro Chamber" domain MetroChamber.org')
    address = convo.channel.address
    verified = User("pat", "pat", verified=("domain:metrochamber.org",))
    await coach.handle(Turn(address, verified, 'join "Metro Chamber"'))
    assert (await member(store, convo, "pat")).org == "metro-chamber"
    other = User("sam", "sam", verified=("domain:example.org",))
    await coach.handle(Turn(address, other, 'join "Metro Chamber"'))
    assert (await member(store, convo, "sam")).pending == "metro-chamber"

    out = await convo('chamber_rep: partner identity "Metro Chamber" domain x.org')
    assert "Only a facilitator" in out


async def test_status_tells_those_who_may_confirm_a_join_about_it(three_partners):
    convo = three_partners
    await convo('newcomer: join "Metro Chamber"')
    waiting = convo.channel.prompt(
        "status.to_confirm", user="newcomer", org="Metro Chamber", id="newcomer"
    )
    assert waiting in await convo("chamber_rep: status")  # speaks for Metro Chamber
    assert waiting in await convo("city_lead: status")  # a facilitator
    assert waiting not in await convo("ngo_rep: status")  # speaks for another organization
