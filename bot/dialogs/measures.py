"""Changing a measure of success after it was added: edit its fields, or remove it.

measure edit "Name" [--name "New name"] [--unit …] [--baseline …] [--target …] [--owner "Org"]
measure remove "Name"                                                         (asks first)

Only a member of the measure's owning organization or a facilitator may change it. Its reports
are kept by an edit; a removal drops the measure and its reports (the journal keeps the record).
"""

from __future__ import annotations

from bot.dialogs.base import Args, Context, checked_text, command
from bot.dialogs.checkins import MEASURE_NAME_LIMIT, _number
from bot.partnership import Measure

EDITABLE = frozenset({"name", "unit", "baseline", "target", "owner"})
UNIT_LIMIT = 20


@command("measure edit", topic="measures", min_words=1, max_words=None, options=EDITABLE)
def measure_edit(ctx: Context, args: Args) -> None:
    p = ctx.partnership
    key, found = _measure(ctx, " ".join(args.words))
    if not args.options:
        ctx.fail("usage.measure_edit")
    changes: dict[str, str] = {}
    if "baseline" in args.options:
        found.baseline = _number(ctx, args.options["baseline"])
        changes["baseline"] = f"{found.baseline:g}"
    if "target" in args.options:
        found.target = _number(ctx, args.options["target"])
        changes["target"] = f"{found.target:g}"
    if "unit" in args.options:
        found.unit = args.options["unit"].strip()[:UNIT_LIMIT]
        changes["unit"] = found.unit
    if "owner" in args.options:
        owner = ctx.org_key(args.options["owner"])
        found.owner = owner
        changes["owner"] = p.orgs[owner].name
    if "name" in args.options:
        name = checked_text(
            ctx, args.options["name"], limit=MEASURE_NAME_LIMIT, usage="usage.measure_edit"
        )
        if name.lower() != key and name.lower() in p.measures:
            ctx.fail("checkins.measure_exists", measure=p.measures[name.lower()].name)
        old_name, found.name = found.name, name
        del p.measures[key]
        key = name.lower()
        changes["name"] = f"{old_name} -> {name}"
    p.measures[key] = found
    ctx.remember("measure-edited", measure=found.name, **changes)
    ctx.say(
        "measures.edited",
        measure=found.name,
        unit=found.unit,
        baseline=f"{found.baseline:g}",
        target=f"{found.target:g}",
        org=p.org_name(found.owner),
    )


@command("measure remove", topic="measures", min_words=1, max_words=None, confirm=True)
def measure_remove(ctx: Context, args: Args) -> None:
    p = ctx.partnership
    key, found = _measure(ctx, " ".join(args.words))
    if not ctx.confirm(
        "confirm.measure_remove",
        "confirm.measure_remove_yes",
        args.with_words(found.name),
        measure=found.name,
        count=len(found.reports),
    ):
        return
    del p.measures[key]
    ctx.remember("measure-removed", measure=found.name, org=p.org_name(found.owner))
    ctx.say("measures.removed", measure=found.name)


def _measure(ctx: Context, name: str) -> tuple[str, Measure]:
    """The measure `name` names (any case), if the user may change it."""
    p = ctx.partnership
    found = p.measures.get(name.strip().lower())
    if found is None:
        ctx.fail(
            "checkins.unknown_measure",
            measure=name,
            measures=", ".join(f'"{m.name}"' for m in p.measures_in_order()) or "-",
        )
    if p.org_of(ctx.user_id) != found.owner and ctx.user_id not in p.facilitators:
        ctx.fail("measures.not_allowed", measure=found.name, org=p.org_name(found.owner))
    return found.name.lower(), found
