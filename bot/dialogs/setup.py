"""Setting up a partnership: its name, partner organizations, members and facilitators."""

from __future__ import annotations

from bot.content import SECTORS, Grammar, kebab
from bot.dialogs.base import Args, Context, checked_text, command, user_ref
from bot.dialogs.decisions import settle_after_partner_change
from bot.dialogs.status import catch_up
from bot.partnership import Member, Org

NAME_LIMIT = 120
ORG_NAME_LIMIT = 80


def sector_of(word: str, grammar: Grammar) -> str | None:
    """The sector a word names, or one of its other names in the grammar (`non-profit`)."""
    sector = grammar.value("sector", word.strip())
    return sector if sector in SECTORS else None


@command("setup", topic="setup", text_from=0, needs_partnership=False)
def setup(ctx: Context, args: Args) -> None:
    name = checked_text(ctx, args.rest(0), limit=NAME_LIMIT, usage="usage.setup")
    p = ctx.partnership
    if not p.is_set_up:
        p.name, p.created_by, p.created_at = name, ctx.user_id, ctx.stamp
        p.facilitators[ctx.user_id] = ctx.user_name
        p.members.setdefault(ctx.user_id, Member(name=ctx.user_name))
        ctx.remember("setup", name=name)
        ctx.say("setup.created", partnership=name, user=ctx.user_name)
        return
    ctx.require_facilitator()
    if name == p.name:
        ctx.fail("setup.same_name", partnership=name)
    old, p.name = p.name, name
    ctx.remember("rename", name=name)
    ctx.say("setup.renamed", old_name=old, partnership=name)


@command("partner add", topic="setup", min_words=2, max_words=None)
def partner_add(ctx: Context, args: Args) -> None:
    """`partner add "Organization" sector`; the name may also be typed without quotes."""
    p = ctx.require_facilitator()
    *name_words, sector_word = args.words
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


@command("partner remove", topic="setup", min_words=1, max_words=None, confirm=True)
def partner_remove(ctx: Context, args: Args) -> None:
    p = ctx.require_facilitator()
    key = _org_key(ctx, " ".join(args.words))
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
    facilitators = ", ".join(sorted(p.facilitators.values()))
    ctx.say(
        "setup.partner_list",
        partnership=p.name,
        partners="\n".join(lines),
        facilitators=facilitators,
    )


@command("join", topic="setup", text_from=0)
def join(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    # `join` alone joins the organization the user's own workspace matches, when there is one
    key = _org_key(ctx, args.rest(0) or _suggested_name(ctx))
    member = p.members.setdefault(ctx.user_id, Member(name=ctx.user_name))
    member.name = ctx.user_name
    if member.org == key:
        ctx.fail("setup.already_joined", org=p.orgs[key].name)
    if member.org in p.orgs:
        # switching freely would let one person endorse for every organization in turn
        ctx.fail("setup.join_another_org", org=p.orgs[member.org].name, other=p.orgs[key].name)
    member.org = key
    ctx.remember("joined", org=p.orgs[key].name)
    ctx.say(
        "status.joined",
        joined=ctx.text("setup.joined", user=ctx.user_name, org=p.orgs[key].name),
        catch_up=catch_up(ctx),
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
    key = _org_key(ctx, " ".join(args.words[1:]))
    moved = p.members[user_id]
    if moved.org == key:
        ctx.fail("setup.already_represents", user=moved.name, org=p.orgs[key].name)
    moved.org = key
    ctx.remember("member-moved", user=user_id, org=p.orgs[key].name)
    ctx.say("setup.member_moved", user=moved.name, org=p.orgs[key].name)


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


def _org_key(ctx: Context, name: str | None) -> str:
    p = ctx.partnership
    key = kebab(name or "")
    if not key or key not in p.orgs:
        ctx.fail(
            "setup.unknown_org",
            org=(name or "").strip() or "?",
            orgs=ctx.org_names() or ctx.text("setup.no_partners_yet"),
        )
    return key
