"""Setting up a partnership: its name, partner organizations, members and facilitators."""

from __future__ import annotations

import functools
from collections.abc import Callable

from bot.content import SECTORS, Grammar, kebab
from bot.dialogs.base import Args, Context, checked_text, command, tokenize, user_ref
from bot.dialogs.checkins import checkins
from bot.dialogs.decisions import settle_after_partner_change
from bot.dialogs.status import catch_up
from bot.errors import FormError, UserFacingError
from bot.model import Choice
from bot.partnership import Member, Org, readable_time
from bot.schedule import time_zone, unknown_zone

NAME_LIMIT = 120
ORG_NAME_LIMIT = 80
IDENTITY_KINDS = ("domain", "slack", "teams")  # as in bot.model.User.verified
FORM_STAND_IN_NAME = "-"  # lets a form whose name is wrong have its other fields checked too


def sector_of(word: str, grammar: Grammar) -> str | None:
    """The sector a word names, or one of its other names in the grammar (`non-profit`)."""
    sector = grammar.value("sector", word.strip())
    return sector if sector in SECTORS else None


@command("setup", topic="setup", text_from=0, needs_partnership=False)
def setup(ctx: Context, args: Args) -> None:
    if ctx.turn.form is not None:
        setup_form(ctx)
    else:
        set_name(ctx, args.rest(0))


@command("timezone", topic="setup", max_words=None)
def timezone(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    if not args.words:
        key = "setup.timezone_current" if p.tz_name else "setup.timezone_unset"
        ctx.say(key, tz=p.tz_name, at=readable_time(ctx.now, p.zone), private=True)
        return
    ctx.require_facilitator()
    written = " ".join(args.words)
    tz = time_zone(written, ctx.content.grammar)
    if tz is None:
        raise unknown_zone(written, ctx.content.grammar)
    if tz == p.tz:
        ctx.fail("setup.timezone_same", tz=tz)
    p.tz = tz
    ctx.remember("timezone", tz=tz)
    schedule_tz = (p.schedule or {}).get("tz")
    note = ""
    if schedule_tz and schedule_tz != tz:
        note = " " + ctx.text("setup.schedule_keeps_zone", schedule_tz=schedule_tz)
    ctx.say(
        "setup.timezone_set",
        tz=tz,
        user=ctx.user_name,
        at=readable_time(ctx.now, p.zone),
        schedule_note=note,
    )


def set_name(ctx: Context, text: str) -> None:
    """Set the partnership up under a name, or rename it (facilitators)."""
    name = checked_text(ctx, text, limit=NAME_LIMIT, usage="usage.setup")
    p = ctx.partnership
    if not p.is_set_up:
        p.name, p.created_by, p.created_at = name, ctx.user_id, ctx.stamp
        p.facilitators[ctx.user_id] = ctx.user_name
        p.members.setdefault(ctx.user_id, Member(name=ctx.user_name))
        # dates in the facilitator's own time zone, when their platform says it
        p.tz = time_zone(ctx.turn.user.tz or "", ctx.content.grammar)
        ctx.remember("setup", name=name)
        zone_step = ctx.text("setup.zone_step_set" if p.tz else "setup.zone_step", tz=p.tz)
        ctx.say("setup.created", partnership=name, user=ctx.user_name, zone_step=zone_step)
        return
    ctx.require_facilitator()
    if name == p.name:
        ctx.fail("setup.same_name", partnership=name)
    old, p.name = p.name, name
    ctx.remember("rename", name=name)
    ctx.say("setup.renamed", old_name=old, partnership=name)


def setup_form(ctx: Context) -> None:
    """The setup form (Slack's modal) as one turn: the partnership's name, one partner per line
    as "Organization, sector", and an optional check-in cadence. Each field is checked by the
    same rules as its command; any problem refuses the whole form (`FormError`, one problem per
    field), so a partnership is set up whole or not at all."""
    turn = ctx.turn
    errors: dict[str, UserFacingError] = {}

    def check(field: str, work: Callable[[], None]) -> None:
        if field not in errors:
            try:
                work()
            except UserFacingError as error:
                errors[field] = error

    check("name", lambda: set_name(ctx, turn.field("name")))
    if "name" in errors and not ctx.partnership.is_set_up:
        set_name(ctx, FORM_STAND_IN_NAME)  # never committed: the errors refuse the form
    for position, line in enumerate(turn.field("partners").splitlines(), 1):
        if line.strip():
            check("partners", functools.partial(_form_partner, ctx, position, line.strip()))
    cadence = turn.field("checkins").strip()
    if cadence:
        check(
            "checkins",
            lambda: checkins(ctx, Args.of(tokenize(cadence), frozenset({"holidays"}))),
        )
    if errors:
        raise FormError(errors)


def _form_partner(ctx: Context, position: int, line: str) -> None:
    org, _, sector = line.rpartition(",")
    if not org.strip() or sector_of(sector, ctx.content.grammar) is None:
        ctx.fail("setup.form_bad_line", position=position, text=line[:60])
    if '"' in org:
        ctx.fail("setup.form_no_quotes", position=position)
    partner_add(ctx, Args((org.strip(), sector.strip()), {}))


@command("partner add", topic="setup", min_words=2, max_words=None)
def partner_add(ctx: Context, args: Args) -> None:
    """`partner add "Organization" sector [@name …]`; the name may also be typed without
    quotes. The people named (`@name`, a mention) are its confirmed members at once."""
    p = ctx.require_facilitator()
    words = list(args.words)
    people: list[str] = []
    while len(words) > 2 and words[-1].startswith(("@", "<@")):
        people.insert(0, user_ref(words.pop()))
    *name_words, sector_word = words
    name = checked_text(ctx, " ".join(name_words), limit=ORG_NAME_LIMIT, usage="usage.partner_add")
    sector = sector_of(sector_word, ctx.content.grammar)
    if sector is None:
        ctx.fail(
            "setup.unknown_sector", sector=sector_word.lower() or "?", sectors=", ".join(SECTORS)
        )
    key = kebab(name)
    if not key:
        ctx.fail("usage.partner_add")
    if key in p.orgs:
        ctx.fail("setup.partner_exists", org=p.orgs[key].name)
    position = max((o.position for o in p.orgs.values()), default=0) + 1
    p.orgs[key] = Org(name, sector, added_by=ctx.user_id, added_at=ctx.stamp, position=position)
    ctx.remember("partner-added", org=name, sector=sector)
    ctx.say("setup.partner_added", org=name, sector=sector, count=len(p.orgs))
    for user_id in people:
        member = p.members.setdefault(user_id, Member(name=user_id))
        if member.org in p.orgs:
            ctx.fail("setup.already_represents", user=member.name, org=p.orgs[member.org].name)
        _confirm(ctx, user_id, key)


@command("partner identity", topic="setup", min_words=3, max_words=None)
def partner_identity(ctx: Context, args: Args) -> None:
    """`partner identity "Organization" domain example.org` (or `slack T0123`, `teams
    <tenant id>`): people whose platform vouches for that identity are confirmed when they join."""
    p = ctx.require_facilitator()
    *name_words, kind, value = args.words
    key = ctx.org_key(" ".join(name_words))
    kind = kind.lower()
    if kind not in IDENTITY_KINDS or not value.strip():
        ctx.fail("usage.partner_identity")
    value = value.strip().lower() if kind == "domain" else value.strip()  # ids keep their case
    identity = f"{kind}:{value}"
    org = p.orgs[key]
    if identity in org.identities:
        ctx.fail("setup.identity_exists", org=org.name, identity=identity)
    org.identities = [*org.identities, identity]
    ctx.remember("identity-added", org=org.name, identity=identity)
    ctx.say("setup.identity_added", org=org.name, identity=identity)


@command("partner remove", topic="setup", min_words=1, max_words=None, confirm=True)
def partner_remove(ctx: Context, args: Args) -> None:
    p = ctx.require_facilitator()
    key = ctx.org_key(" ".join(args.words))
    waiting = [d.id for d in p.decisions_in_order() if d.is_open and key not in d.endorsed_by()]
    if not ctx.confirm(
        "confirm.partner_remove",
        "confirm.partner_remove_yes",
        args,
        org=p.orgs[key].name,
        decisions=", ".join(waiting) or ctx.text("decisions.nobody"),
    ):
        return
    org = p.orgs.pop(key)
    for member in p.members.values():
        if member.org == key:
            member.org = None
    ctx.remember("partner-removed", org=org.name)
    ctx.say("setup.partner_removed", org=org.name)
    settle_after_partner_change(ctx, key)


@command("partners", topic="setup")
def partners(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    if not p.orgs:
        ctx.say("setup.no_partners", partnership=p.name)
        return
    lines = []
    for key, org in p.orgs.items():
        names = sorted(m.name for m in p.members.values() if m.org == key)
        members = ", ".join(names) if names else ctx.text("setup.nobody_yet")
        lines.append(
            ctx.text("setup.partner_line", org=org.name, sector=org.sector, members=members)
        )
    pending = p.pending_joins()
    lines += [
        ctx.text("setup.pending_line", user=m.name, org=p.orgs[m.pending or ""].name)
        for _, m in pending
    ]
    facilitators = ", ".join(sorted(p.facilitators.values()))
    ctx.say(
        "setup.partner_list",
        partnership=p.name,
        partners="\n".join(lines),
        facilitators=facilitators,
        choices=[_confirm_choice(ctx, uid, m.name) for uid, m in pending],
    )


@command("join", topic="setup", text_from=0)
def join(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    # `join` alone joins the organization the user's own workspace matches, when there is one
    key = ctx.org_key(args.rest(0) or _suggested_name(ctx))
    member = p.members.setdefault(ctx.user_id, Member(name=ctx.user_name))
    member.name = ctx.user_name
    if member.org == key:
        ctx.fail("setup.already_joined", org=p.orgs[key].name)
    if member.org in p.orgs:
        # switching freely would let one person endorse for every organization in turn
        ctx.fail("setup.join_another_org", org=p.orgs[member.org].name, other=p.orgs[key].name)
    org = p.orgs[key]
    vouched = sorted(set(ctx.turn.user.verified) & set(org.identities))
    if ctx.user_id in p.facilitators or vouched:
        member.org, member.pending = key, None
        ctx.remember("joined", org=org.name, confirmed_by=vouched[0] if vouched else "facilitator")
        ctx.say(
            "status.joined",
            joined=ctx.text("setup.joined", user=ctx.user_name, org=org.name),
            catch_up=catch_up(ctx),
        )
        return
    if member.pending == key:
        ctx.fail("setup.join_already_pending", org=org.name)
    member.pending = key
    # only confirmed members speak for an organization: a join is a request until vouched for
    ctx.remember("join-requested", org=org.name)
    ctx.say(
        "setup.join_requested",
        user=ctx.user_name,
        org=org.name,
        facilitators=", ".join(sorted(p.facilitators.values())),
        choices=[_confirm_choice(ctx, ctx.user_id, ctx.user_name)],
    )


@command("facilitator add", topic="setup", min_words=1, max_words=1)
def facilitator(ctx: Context, args: Args) -> None:
    p = ctx.require_facilitator()
    user_id = _member(ctx, args.words[0])
    if user_id in p.facilitators:
        ctx.fail("setup.already_facilitator", user=p.members[user_id].name)
    p.facilitators[user_id] = p.members[user_id].name
    ctx.remember("facilitator-added", user=user_id)
    ctx.say("setup.facilitator_added", user=p.members[user_id].name)


@command("member move", topic="setup", min_words=2, max_words=None)
def member(ctx: Context, args: Args) -> None:
    """`member move @name "Organization"`: a facilitator changes whom a member represents."""
    p = ctx.require_facilitator()
    user_id = _member(ctx, args.words[0])
    key = ctx.org_key(" ".join(args.words[1:]))
    moved = p.members[user_id]
    if moved.org == key:
        ctx.fail("setup.already_represents", user=moved.name, org=p.orgs[key].name)
    moved.org, moved.pending = key, None
    ctx.remember("member-moved", user=user_id, org=p.orgs[key].name)
    ctx.say("setup.member_moved", user=moved.name, org=p.orgs[key].name)


@command("member confirm", topic="setup", min_words=1, max_words=1)
def member_confirm(ctx: Context, args: Args) -> None:
    """`member confirm @name`: a facilitator or a confirmed member of the organization the
    person asked to join vouches for them."""
    p = ctx.require_setup()
    user_id = _member(ctx, args.words[0])
    asked = p.members[user_id].pending
    if asked not in p.orgs:
        ctx.fail("setup.nothing_to_confirm", user=p.members[user_id].name)
    if not p.can_confirm(ctx.user_id, asked):
        facilitators = ", ".join(sorted(p.facilitators.values()))
        ctx.fail("setup.confirm_not_allowed", org=p.orgs[asked].name, facilitators=facilitators)
    _confirm(ctx, user_id, asked)


def _confirm(ctx: Context, user_id: str, key: str) -> None:
    member = ctx.partnership.members[user_id]
    member.org, member.pending = key, None
    org = ctx.partnership.orgs[key].name
    ctx.remember("member-confirmed", user=user_id, org=org)
    ctx.say("setup.member_confirmed", user=member.name, org=org, by=ctx.user_name)
    if user_id != ctx.user_id:  # the person confirmed hears what waits on their organization
        joined = ctx.text("setup.joined", user=member.name, org=org)
        ctx.say("status.joined", to=user_id, joined=joined, catch_up=catch_up(ctx, user_id))


def _confirm_choice(ctx: Context, user_id: str, name: str) -> Choice:
    return ctx.choice("setup.confirm_choice", f"member confirm {user_id}", user=name)


def _suggested_name(ctx: Context) -> str | None:
    suggested = ctx.suggested_org()
    return ctx.partnership.orgs[suggested].name if suggested else None


def _member(ctx: Context, word: str) -> str:
    """The id of the member a command names (by id, @name or mention)."""
    ref = user_ref(word)
    found = next((uid for uid, m in ctx.partnership.members.items() if ref in (uid, m.name)), None)
    if found is None:
        ctx.fail("setup.unknown_user", user=ref)
    return found

