"""The partnering-agreement scorecard: choose 3-5 families, walk their items, rate each one.

The round is a `Walk` (bot/dialogs/walk.py) whose topic is the chosen family ids, in
scorecard order, and whose index is the current item among those families' items.
"""

from __future__ import annotations

from bot.content import Item, kebab
from bot.dialogs import spectrum
from bot.dialogs.base import Args, Context, checked_text, command
from bot.dialogs.walk import Walk
from bot.partnership import Rating

FAMILIES_TO_CHOOSE = (3, 5)
NOTE_LIMIT = 1000
DIALOG = "scorecard"


@command("scorecard", topic="scorecard", max_words=None, confirm=True)
def scorecard(ctx: Context, args: Args) -> None:
    """`scorecard` alone asks the current item again; with families, starts a round (asking
    first when one is under way)."""
    if not args.words:
        resume(ctx)
        return
    chosen = family_ids(ctx, args.words)
    low, high = FAMILIES_TO_CHOOSE
    if round_under_way(ctx) and low <= len(set(chosen)) <= high:
        titles = ", ".join(_family_title(ctx, f) for f in chosen)
        if not ctx.confirm(
            "confirm.scorecard", "confirm.scorecard_yes", args.with_words(*chosen), families=titles
        ):
            return
    start(ctx, chosen)


@command("scorecard next", topic="scorecard")
def scorecard_next(ctx: Context, args: Args) -> None:
    advance(ctx)


@command("scorecard back", topic="scorecard")
def scorecard_back(ctx: Context, args: Args) -> None:
    back(ctx)


@command("scorecard stop", topic="scorecard")
def scorecard_stop(ctx: Context, args: Args) -> None:
    stop(ctx)


@command("scorecard status", topic="scorecard")
def scorecard_status(ctx: Context, args: Args) -> None:
    status(ctx)


def family_ids(ctx: Context, words: tuple[str, ...]) -> list[str]:
    """The families `words` name, by id or by title as written (`Who?`, `what if`, `What-if`)."""
    names = {}
    for family in ctx.content.families:
        names[family.id] = family.id
        names[kebab(family.title)] = family.id
    chosen: list[str] = []
    keys = [kebab(w) for w in words]
    at = 0
    while at < len(keys):
        pair = "-".join(keys[at : at + 2])
        if at + 1 < len(keys) and pair in names:  # "what if" as two words
            chosen.append(names[pair])
            at += 2
        elif keys[at] in names:
            chosen.append(names[keys[at]])
            at += 1
        else:
            ctx.fail(
                "scorecard.unknown_family",
                family=words[at],
                families=" ".join(f.id for f in ctx.content.families),
            )
    return chosen


def round_under_way(ctx: Context) -> bool:
    return _walk(ctx) is not None


def current_item(ctx: Context) -> Item | None:
    """The item the round under way is on, if any."""
    walk = _walk(ctx)
    return _items(ctx, walk)[walk.index] if walk is not None else None


def start(ctx: Context, family_ids: list[str]) -> None:
    p = ctx.require_setup()
    known = [f.id for f in ctx.content.families]
    unknown = [f for f in family_ids if f not in known]
    if unknown:
        ctx.fail("scorecard.unknown_family", family=unknown[0], families=" ".join(known))
    low, high = FAMILIES_TO_CHOOSE
    chosen = [f for f in known if f in family_ids]
    if not low <= len(chosen) <= high:
        ctx.fail("scorecard.choose_families", low=low, high=high, families=" ".join(known))
    walk = Walk.start(p, DIALOG, tuple(chosen))  # each round gets a thread of its own
    titles = ", ".join(_family_title(ctx, f) for f in chosen)
    ctx.remember("scorecard-started", families=" ".join(chosen))
    ctx.say(
        "scorecard.started",
        thread=walk.thread,
        families=titles,
        count=len(_items(ctx, walk)),
        advice=spectrum.note(ctx),
    )
    ask(ctx, walk)


def resume(ctx: Context) -> None:
    ctx.require_setup()
    walk = _walk(ctx)
    if walk is None:
        families = " ".join(f.id for f in ctx.content.families)
        low, high = FAMILIES_TO_CHOOSE
        ctx.fail("scorecard.choose_families", low=low, high=high, families=families)
    ask(ctx, walk)


def advance(ctx: Context) -> None:
    walk = _walk_for_a_move(ctx)
    walk.advance()
    if walk.index >= len(_items(ctx, walk)):
        finish(ctx, walk)
    else:
        walk.save(ctx.partnership)
        ask(ctx, walk)


def back(ctx: Context) -> None:
    walk = _walk_for_a_move(ctx)
    if not walk.back():
        ctx.fail("scorecard.at_first_item")
    walk.save(ctx.partnership)
    ask(ctx, walk)


def stop(ctx: Context) -> None:
    finish(ctx, _walk_for_a_move(ctx))


def _walk_for_a_move(ctx: Context) -> Walk:
    """The walk under way, refusing a move picked from an earlier question's buttons."""
    ctx.require_setup()
    walk = _walk(ctx)
    if walk is None:
        ctx.fail("scorecard.no_walk")
    ctx.check_step(walk.token)
    return walk


def finish(ctx: Context, walk: Walk) -> None:
    walk.end(ctx.partnership)
    items = _items(ctx, walk)
    rated = sum(1 for item in items if item.id in ctx.partnership.ratings)
    ctx.say("scorecard.finished", thread=walk.thread, rated=rated, total=len(items))


def ask(ctx: Context, walk: Walk) -> None:
    items = _items(ctx, walk)
    item = items[walk.index]
    step = walk.token
    rating = ctx.partnership.ratings.get(item.id)
    current = (
        ctx.text("scorecard.current_rating", rating=_label(ctx, rating.rating), user=rating.by_name)
        if rating
        else ctx.text("scorecard.not_rated_yet")
    )
    choices = [
        ctx.choice("scorecard.rating_choice", f"rate {item.id} {r.id}", step, rating=r.label)
        for r in ctx.content.ratings
    ]
    choices.append(ctx.choice("scorecard.propose_choice", f"decide --item {item.id}", step))
    if walk.index:
        choices.append(ctx.choice("scorecard.back_choice", "scorecard back", step))
    choices.append(ctx.choice("scorecard.next_choice", "scorecard next", step))
    ctx.say(
        "scorecard.question",
        thread=walk.thread,
        family=_family_title(ctx, item.family),
        item=item.id,
        position=walk.index + 1,
        total=len(items),
        question=item.question,
        hint=item.hint,
        current=current,
        choices=choices,
    )


@command("rate", topic="scorecard", min_words=2, text_from=2)
def rate(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    item_id, rating_id = (args.word(0) or "").lower(), (args.word(1) or "").lower()
    if not item_id or not rating_id:
        ctx.fail("scorecard.rate_usage", ratings=_rating_ids(ctx))
    item = ctx.content.items.get(item_id)
    if item is None:
        ctx.fail("scorecard.unknown_item", item=item_id)
    if ctx.content.rating(rating_id) is None:
        ctx.fail("scorecard.unknown_rating", rating=rating_id, ratings=_rating_ids(ctx))
    walk = _walk(ctx)
    on_current_item = walk is not None and _items(ctx, walk)[walk.index].id == item.id
    if ctx.turn.step is not None:
        ctx.check_step(walk.token if walk and on_current_item else "")
    note = args.rest(2)
    if note:
        note = checked_text(ctx, note, limit=NOTE_LIMIT, usage="scorecard.rate_usage")
    p.ratings[item.id] = Rating(rating_id, note, ctx.user_id, ctx.user_name, ctx.stamp)
    ctx.remember("rating", item=item.id, rating=rating_id, note=note)
    choices = [ctx.choice("scorecard.propose_choice", f"decide --item {item.id}")]
    if walk is not None and on_current_item:
        choices.append(ctx.choice("scorecard.next_choice", "scorecard next", walk.token))
    ctx.say(
        "scorecard.rated_with_note" if note else "scorecard.rated",
        thread=walk.thread if walk is not None and on_current_item else None,
        item=item.id,
        rating=_label(ctx, rating_id),
        user=ctx.user_name,
        note=note,
        choices=choices,
    )


def status(ctx: Context) -> None:
    p = ctx.require_setup()
    walk = _walk(ctx)
    chosen = set(walk.topic) if walk else set()
    not_rated = ctx.text("scorecard.grid_not_rated")
    rows = [
        (
            ctx.text("scorecard.grid_family"),
            ctx.text("scorecard.grid_item"),
            ctx.text("scorecard.grid_rating"),
        )
    ]
    for family in ctx.content.families:
        marker = " *" if family.id in chosen else ""
        for n, item in enumerate(family.items):
            rating = p.ratings.get(item.id)
            rows.append(
                (
                    family.title + marker if n == 0 else "",
                    item.id,
                    _label(ctx, rating.rating) if rating else not_rated,
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    grid = "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows)
    total = len(ctx.content.items)
    rated = sum(1 for item_id in ctx.content.items if item_id in p.ratings)
    in_place = sum(1 for r in p.ratings.values() if r.rating == ctx.content.ratings[-1].id)
    ctx.say(
        "scorecard.status",
        partnership=p.name,
        rated=rated,
        total=total,
        percent=round(100 * rated / total) if total else 0,
        in_place=in_place,
        best=ctx.content.ratings[-1].label,
        chosen=ctx.text("scorecard.chosen_marker") if chosen else "",
        preformatted=grid,
    )


def open_items(ctx: Context) -> list[Item]:
    """The items of the round under way not rated yet (all unrated items when no round)."""
    walk = _walk(ctx)
    items = _items(ctx, walk) if walk else list(ctx.content.items.values())
    return [item for item in items if item.id not in ctx.partnership.ratings]


def _walk(ctx: Context) -> Walk | None:
    """The round under way, if it still fits the content (an edit may have retired items)."""
    walk = Walk.current(ctx.partnership, DIALOG)
    if walk is None:
        return None
    known = {f.id for f in ctx.content.families}
    if not set(walk.topic) <= known or walk.index >= len(_items(ctx, walk)):
        walk.end(ctx.partnership)
        return None
    return walk


def _items(ctx: Context, walk: Walk) -> list[Item]:
    return [
        item for family in ctx.content.families if family.id in walk.topic for item in family.items
    ]


def _family_title(ctx: Context, family_id: str) -> str:
    family = ctx.content.family(family_id)
    return family.title if family else family_id


def _label(ctx: Context, rating_id: str) -> str:
    rating = ctx.content.rating(rating_id)
    return rating.label if rating else rating_id


def _rating_ids(ctx: Context) -> str:
    return " ".join(r.id for r in ctx.content.ratings)
