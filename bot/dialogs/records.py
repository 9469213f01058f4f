"""Linked conversations and records: link, links, unlink; records keep / hold; export archive;
partnership delete.

Handlers stay pure: what must happen outside the partnership's own keys (a link code's key, a
conversation's link, the archive's zip, the deletion) is asked of the core through
`ctx.effects`, done after the commit (`Coach._apply_effects`, `bot.records`). Every act is
recorded in the journal (who, when), so it is in the archive.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from bot import records
from bot.dialogs.base import Args, Context, command
from bot.model import Address
from bot.partnership import Partnership, readable_time
from bot.records import DELETE_CONFIRM_S, LINK_CODE_TTL_S, Retention

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 8


@command("link", topic="records", max_words=1, needs_partnership=False)
def link(ctx: Context, args: Args) -> None:
    code = args.word(0)
    if code is None:
        _offer_code(ctx)
    else:
        _join(ctx, records.normalized_code(code))


def _offer_code(ctx: Context) -> None:
    p = ctx.require_facilitator()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = ctx.now + timedelta(seconds=LINK_CODE_TTL_S)
    p.records["link_code"] = {
        "hash": records.code_hash(code),
        "expires": expires.isoformat(timespec="seconds"),
        "by": ctx.user_id,
    }
    ctx.remember("link-code", expires=expires.isoformat(timespec="seconds"))
    ctx.effects.append({"type": "link-code", "code": code})
    ctx.say(
        "records.link_code",
        code=code,
        partnership=p.name,
        minutes=LINK_CODE_TTL_S // 60,
        private=True,
    )


def _join(ctx: Context, code: str) -> None:
    """`link CODE` in the joining conversation; `ctx.partnership` is the one the code names."""
    joining = ctx.joining
    p = ctx.partnership
    pending = p.records.get("link_code") or {}
    if (
        joining is None
        or not p.is_set_up
        or pending.get("hash") != records.code_hash(code)
        or datetime.fromisoformat(str(pending["expires"])) <= ctx.now
    ):
        ctx.fail("records.link_code_unknown")
    here = ctx.turn.address.conversation
    if here == p.id:
        ctx.fail("records.link_self", partnership=p.name)
    if here in records.conversations(p) or joining.id == p.id:
        ctx.fail("records.link_already", partnership=p.name)
    if joining.id != here:  # linked into another partnership already
        ctx.fail("records.link_unlink_first", partnership=joining.name or joining.id)
    replaces = ""
    if joining.is_set_up:
        if ctx.user_id not in joining.facilitators:
            names = ", ".join(sorted(joining.facilitators.values()))
            ctx.fail("records.link_facilitators_only", partnership=joining.name, facilitators=names)
        if len(joining.decisions) or len(joining.ratings):
            ctx.fail("records.link_has_records", partnership=joining.name)
        if len(records.conversations(joining)) > 1:  # its other conversations would be lost
            ctx.fail("records.link_has_links", partnership=joining.name)
        if records.hold_on(joining):  # replacing it would delete it
            ctx.fail("records.delete_on_hold", partnership=joining.name)
        replaces = joining.id
    p.records["links"] = records.links(p) | {
        here: {
            "by": ctx.user_id,
            "by_name": ctx.user_name,
            "at": ctx.stamp,
            "platform": ctx.turn.address.platform,
        }
    }
    del p.records["link_code"]
    ctx.remember("linked", conversation=here, replaces=replaces)
    ctx.effects.append({"type": "link", "conversation": here, "code": code, "replaces": replaces})
    ctx.say(
        "records.linked",
        partnership=p.name,
        count=len(records.conversations(p)),
        replaced=ctx.text("records.linked_replaced", partnership=joining.name) if replaces else "",
    )


@command("links", topic="records")
def links_(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    ctx.say("records.links", partnership=p.name, conversations=_listed(ctx, p))


def _listed(ctx: Context, p: Partnership) -> str:
    lines = []
    for n, conversation in enumerate(records.conversations(p), 1):
        link = records.links(p).get(conversation)
        address = Address.of_conversation(conversation)
        if link is None:
            lines.append(
                ctx.text(
                    "records.links_home", n=n, platform=address.platform, conversation=conversation
                )
            )
        else:
            lines.append(
                ctx.text(
                    "records.links_line",
                    n=n,
                    platform=address.platform,
                    conversation=conversation,
                    user=link.get("by_name", ""),
                    at=_local(p, str(link.get("at", ""))),
                )
            )
    return "\n".join(lines)


def _local(p: Partnership, stamp: str) -> str:
    """A time as people read it: in the partnership's time zone (UTC before it has one)."""
    try:
        return readable_time(stamp, p.zone)
    except (ValueError, KeyError):
        return stamp


@command("unlink", topic="records", max_words=1)
def unlink(ctx: Context, args: Args) -> None:
    p = ctx.require_facilitator()
    listed = records.conversations(p)
    word = args.word(0)
    if word is None:
        target = ctx.turn.address.conversation
        if ctx.turn.private or target not in listed:
            ctx.fail("records.unlink_usage", conversations=_listed(ctx, p))
    elif word.isdigit() and 1 <= int(word) <= len(listed):
        target = listed[int(word) - 1]
    else:
        ctx.fail("records.unlink_usage", conversations=_listed(ctx, p))
    if len(listed) == 1:
        ctx.fail("records.unlink_last", partnership=p.name)
    if target == p.id:
        ctx.fail("records.unlink_home", partnership=p.name)
    link_ = records.links(p)
    link_[target] = dict(link_[target]) | {"unlinked_at": ctx.stamp, "unlinked_by": ctx.user_id}
    p.records["links"] = link_
    ctx.remember("unlinked", conversation=target)
    ctx.effects.append({"type": "unlink", "conversation": target})
    ctx.say("records.unlinked", conversation=target, partnership=p.name)


@command("records", topic="records", max_words=None)
def records_(ctx: Context, args: Args) -> None:
    p = ctx.require_facilitator()
    what = (args.word(0) or "").lower()
    if what in ("", "status"):
        _status(ctx, p)
    elif what == "keep":
        _keep(ctx, p, args.words[1:])
    elif what == "hold":
        _hold(ctx, p, (args.word(1) or "").lower())
    else:
        ctx.fail("records.usage")


def _retention_text(ctx: Context, p: Partnership) -> str:
    retention = Retention.of(p)
    if retention is None:
        return ctx.text("records.forever")
    return ctx.text(f"records.period_{retention.unit}", amount=retention.amount)


def _status(ctx: Context, p: Partnership) -> None:
    ctx.say(
        "records.status",
        partnership=p.name,
        retention=_retention_text(ctx, p),
        hold=ctx.text("records.hold_is_on" if records.hold_on(p) else "records.hold_is_off"),
        count=len(records.conversations(p)),
    )


def _keep(ctx: Context, p: Partnership, words: tuple[str, ...]) -> None:
    if len(words) == 1 and words[0].lower() == "forever":
        p.records.pop("retention", None)
        ctx.remember("retention", period="forever")
        ctx.effects.append({"type": "retention", "on": ""})
    else:
        retention = Retention.parse(words)
        if retention is None:
            ctx.fail("records.keep_usage", given=" ".join(words) or "?")
        p.records["retention"] = {
            "amount": retention.amount,
            "unit": retention.unit,
            "by": ctx.user_id,
            "at": ctx.stamp,
        }
        ctx.remember("retention", period=f"{retention.amount} {retention.unit}")
        ctx.effects.append({"type": "retention", "on": "1"})
    ctx.say(
        "records.kept",
        retention=_retention_text(ctx, p),
        hold=ctx.text("records.keep_held") if records.hold_on(p) else "",
    )


def _hold(ctx: Context, p: Partnership, state: str) -> None:
    if state not in ("on", "off"):
        ctx.fail("records.hold_usage")
    on = state == "on"
    if records.hold_on(p) == on:
        ctx.fail("records.hold_already_on" if on else "records.hold_already_off")
    p.records["hold"] = {"on": on, "by": ctx.user_id, "at": ctx.stamp}
    ctx.remember("hold", state=state)
    ctx.say("records.hold_on" if on else "records.hold_off", partnership=p.name)


@command("export archive", topic="records")
def export_archive(ctx: Context, args: Args) -> None:
    """`export archive` (facilitators): the zip follows from the core, after the commit that
    records who asked for it, so the archive holds its own export. It holds everyone's words,
    so it goes to the facilitator who asked, privately. Where the platform cannot deliver a
    file (Teams without a public URL for its download link), nothing is recorded and the
    facilitator is told what to do instead."""
    p = ctx.require_facilitator()
    if not ctx.delivers_files:
        ctx.fail("records.archive_needs_link", partnership=p.name, id=p.id)
    ctx.remember("archive")
    ctx.effects.append({"type": "archive"})


@command("partnership", topic="records", max_words=2)
def partnership(ctx: Context, args: Args) -> None:
    what, answer = (args.word(0) or "").lower(), (args.word(1) or "").lower()
    if what != "delete" or answer not in ("", "confirm", "cancel"):
        ctx.fail("records.partnership_usage")
    p = ctx.require_facilitator()
    if records.hold_on(p):
        ctx.fail("records.delete_on_hold", partnership=p.name)
    pending = p.records.get("delete") or {}
    if answer == "":
        step = secrets.token_hex(4)
        p.records["delete"] = {"step": step, "by": ctx.user_id, "at": ctx.stamp}
        ctx.remember("delete-asked")
        ctx.say(
            "records.delete_confirm",
            partnership=p.name,
            count=len(records.conversations(p)),
            choices=[
                ctx.choice("records.delete_archive_choice", "export archive"),
                ctx.choice(
                    "records.delete_yes_choice", "partnership delete confirm", f"delete:{step}"
                ),
                ctx.choice(
                    "records.delete_no_choice", "partnership delete cancel", f"delete:{step}"
                ),
            ],
        )
        return
    asked = datetime.fromisoformat(str(pending["at"])) if pending else None
    if (
        asked is None
        or ctx.turn.step != f"delete:{pending['step']}"
        or ctx.now - asked > timedelta(seconds=DELETE_CONFIRM_S)
    ):
        ctx.fail("records.delete_stale")
    del p.records["delete"]
    if answer == "cancel":
        ctx.remember("delete-canceled")
        ctx.say("records.delete_canceled", partnership=p.name)
        return
    ctx.remember("deleted")
    ctx.effects.append({"type": "delete"})
    ctx.say("records.deleted", partnership=p.name)
