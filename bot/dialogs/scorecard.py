"""The partnering-agreement scorecard: choose 3-5 families, walk their items, rate each one.

The round is a `Walk` (bot/dialogs/walk.py) whose topic is the chosen family ids, in
scorecard order, and whose index is the current item among those families' items.

Each partner organization rates each item for itself (the latest rating by any of its members
counts for it); how an item stands across them is derived (`Partnership.standing`): agreed,
differs, partly rated or not rated. Items are asked as the partnership's mode has it: drafting
an agreement, or reviewing the one in place (`scorecard mode`).

    scorecard who why what [--mode reviewing]   start a round (3 to 5 families)
    scorecard next | back | stop                move through the round
    scorecard status                            every item's standing, and the coverage
    scorecard item who.partners                 each organization's rating, notes and history
    scorecard key                               what each rating means
    scorecard mode [drafting | reviewing]       which the partnership is doing
    rate who.partners partial "note"            rate an item for your organization
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from bot import report
from bot.content import Item, kebab, normal_word, series
from bot.dialogs import spectrum
from bot.dialogs.base import CLOSE_ENOUGH, Args, Context, checked_text, command
from bot.dialogs.questions import Questions
from bot.dialogs.walk import Walk
from bot.partnership import SCORECARD_MODES, Rating, Standing, readable_time

FAMILIES_TO_CHOOSE = (3, 5)
NOTE_LIMIT = 1000
HISTORY_SHOWN = 20  # `scorecard item` shows this many earlier ratings, latest first
DIALOG = "scorecard"
NOT_RATINGS_ALONE = ("yes", "no", "done", "ok", "okay")  # said alone, they rate nothing
MOVES = Questions(  # the round's moves; each item is asked in the scorecard's own way (`ask`)
    command="scorecard",
    question="scorecard.question",
    recorded="scorecard.rated",
    at_first="scorecard.at_first_item",
    next_choice="scorecard.next_choice",
    back_choice="scorecard.back_choice",
    stop_choice="scorecard.stop_choice",
)


@command("scorecard", topic="scorecard", max_words=None, confirm=True, options=frozenset({"mode"}))
def scorecard(ctx: Context, args: Args) -> None:
    """`scorecard` alone asks the current item again; with families, starts a round (asking
    first when one is under way); `--mode reviewing` sets the mode as it starts."""
    mode = args.options.get("mode")
    if not args.words:
        if mode is not None:
            ctx.fail("scorecard.mode_needs_families")
        resume(ctx)
        return
    chosen = family_ids(ctx, args.words)
    if mode is not None:
        mode = checked_mode(ctx, mode)
    low, high = FAMILIES_TO_CHOOSE
    if round_under_way(ctx) and low <= len(set(chosen)) <= high:
        titles = series(_family_title(ctx, f) for f in chosen)
        changes = ctx.text("confirm.scorecard_mode", mode=_mode_words(ctx, mode)) if mode else ""
        if not ctx.confirm(
            "confirm.scorecard",
            "confirm.scorecard_yes",
            args.with_words(*chosen),
            families=titles,
            mode=changes,
        ):
            return  # nothing changes, the mode included, until the new round is confirmed
    if mode is not None:
        set_mode(ctx, mode)
    start(ctx, chosen)


@command("scorecard next", topic="scorecard")
def scorecard_next(ctx: Context, args: Args) -> None:
    move(ctx, "next")


@command("scorecard back", topic="scorecard")
def scorecard_back(ctx: Context, args: Args) -> None:
    move(ctx, "back")


@command("scorecard stop", topic="scorecard")
def scorecard_stop(ctx: Context, args: Args) -> None:
    move(ctx, "stop")


@command("scorecard status", topic="scorecard")
def scorecard_status(ctx: Context, args: Args) -> None:
    status(ctx)


@command("scorecard item", topic="scorecard", min_words=1, max_words=1)
def scorecard_item(ctx: Context, args: Args) -> None:
    ctx.require_setup()
    show_item(ctx, find_item(ctx, args.word(0) or ""))


def show_item(ctx: Context, item: Item, lead: str = "") -> None:
    """Each organization's rating of one item, with notes and the earlier ratings, and the
    ratings to give it (`lead`: a line before it, such as what to choose)."""
    p = ctx.partnership
    standing = p.standing(item.id, ctx.content.scale)
    zone = p.zone
    current = {id(r) for r in standing.ratings.values()}
    lines = [
        ctx.text(
            "scorecard.item_org_rated" if r.note else "scorecard.item_org_rated_no_note",
            org=p.org_name(org),
            rating=_label(ctx, r.rating),
            user=r.by_name,
            day=readable_time(r.at, zone),
            note=r.note,
        )
        for org, r in standing.ratings.items()
    ]
    lines += [
        ctx.text("scorecard.item_org_not_rated", org=o.name)
        for key, o in p.orgs.items()
        if key not in standing.ratings
    ]
    kept = p.ratings.get(item.id)
    earlier = [
        ctx.text(
            "scorecard.item_history_line",
            day=readable_time(r.at, zone),
            org=p.org_name(r.org or p.org_of(r.by) or ""),
            rating=_label(ctx, r.rating),
            user=r.by_name,
            note=ctx.text("scorecard.item_history_note", note=r.note) if r.note else "",
        )
        for r in reversed(kept.history if kept else [])
        if id(r) not in current
    ]
    decisions = [
        ctx.text("scorecard.item_decision_line", decision=d.id, text=d.text, status=d.status)
        for d in p.decisions_in_order()
        if d.item == item.id
    ]
    ctx.say(
        "scorecard.item",
        lead=f"{lead}\n" if lead else "",
        item=item.id,
        family=_family_title(ctx, item.family),
        question=item.question(p.mode),
        composed=_composed(ctx, item),
        hint=item.hint,
        standing=standing_words(ctx, standing),
        ratings="\n".join(lines),
        history=(
            ctx.text("scorecard.item_history", lines="\n".join(earlier[:HISTORY_SHOWN]))
            if earlier
            else ""
        ),
        decisions=(
            ctx.text("scorecard.item_decisions", lines="\n".join(decisions)) if decisions else ""
        ),
        choices=[
            *(
                ctx.choice("scorecard.rating_choice", f"rate {item.id} {r.id}", rating=r.label)
                for r in ctx.content.ratings
            ),
            ctx.choice("scorecard.key_choice", "scorecard key"),
        ],
    )


@command("scorecard key", topic="scorecard")
def scorecard_key(ctx: Context, args: Args) -> None:
    """What each of the four ratings means."""
    lines = "\n".join(
        ctx.text("scorecard.key_line", rating=r.label, id=r.id, meaning=r.meaning)
        for r in ctx.content.ratings
    )
    ctx.say("scorecard.key", ratings=lines, private=True)


@command("scorecard mode", topic="scorecard", max_words=1)
def scorecard_mode(ctx: Context, args: Args) -> None:
    """Which the partnership is doing: drafting its agreement, or reviewing the one in place."""
    p = ctx.require_setup()
    wanted = args.word(0)
    if wanted is None:
        ctx.say(
            "scorecard.mode_is",
            mode=_mode_words(ctx, p.mode),
            choices=[
                ctx.choice("scorecard.mode_choice", f"scorecard mode {m}", mode=m)
                for m in SCORECARD_MODES
                if m != p.mode
            ],
        )
        return
    set_mode(ctx, wanted)
    walk = _walk(ctx)
    if walk is not None:
        ask(ctx, walk)  # the item under way, worded for the new mode


def checked_mode(ctx: Context, wanted: str) -> str:
    """The mode `wanted` names, from a facilitator; a refusal otherwise."""
    mode = wanted.lower()
    if mode not in SCORECARD_MODES:
        ctx.fail("scorecard.unknown_mode", mode=wanted[:40], modes=series(SCORECARD_MODES, "or"))
    ctx.require_facilitator()
    return mode


def set_mode(ctx: Context, wanted: str) -> None:
    """Set the scorecard mode (facilitators only), saying so."""
    mode = checked_mode(ctx, wanted)
    p = ctx.partnership
    if p.scorecard_mode == mode:
        ctx.say("scorecard.mode_unchanged", mode=_mode_words(ctx, mode))
        return
    p.scorecard_mode = mode
    ctx.remember("scorecard-mode", mode=mode)
    ctx.say("scorecard.mode_set", user=ctx.user_name, mode=_mode_words(ctx, mode))


def _mode_words(ctx: Context, mode: str) -> str:
    return ctx.text(f"scorecard.mode_{mode}")


def find_item(ctx: Context, typed: str) -> Item:
    """The item `typed` names (`who.partners`), or a refusal with the closest ids."""
    wanted = typed.strip().lower()
    item = ctx.content.items.get(wanted)
    if item is not None:
        return item
    named = kebab(wanted)
    family = next((f for f in ctx.content.families if named in (f.id, kebab(f.title))), None)
    if family is not None:
        ctx.fail(
            "scorecard.item_is_family",
            family=family.title,
            items=series(i.id for i in family.items),
            item=family.items[0].id,
        )
    close = difflib.get_close_matches(wanted, list(ctx.content.items), 3, CLOSE_ENOUGH)
    if close:
        ctx.fail("scorecard.unknown_item_suggest", item=typed[:60], items=series(close, "or"))
    ctx.fail("scorecard.unknown_item", item=typed[:60])


def standing_words(ctx: Context, standing: Standing) -> str:
    """`The organizations differ: from Not in place to Fully in place.`, and the like."""
    return report.standing_words(ctx.partnership, ctx.content, standing, "scorecard")


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
                families=_family_ids(ctx),
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
        ctx.fail("scorecard.unknown_family", family=unknown[0], families=_family_ids(ctx))
    low, high = FAMILIES_TO_CHOOSE
    chosen = [f for f in known if f in family_ids]
    if not low <= len(chosen) <= high:
        ctx.fail("scorecard.choose_families", low=low, high=high, families=_family_ids(ctx))
    walk = Walk.start(p, DIALOG, tuple(chosen))  # each round gets a thread of its own
    titles = series(_family_title(ctx, f) for f in chosen)
    ctx.remember("scorecard-started", families=" ".join(chosen))
    ctx.say(
        "scorecard.started",
        thread=walk.thread,
        families=titles,
        count=len(_items(ctx, walk)),
        mode=_mode_words(ctx, p.mode),
        advice=spectrum.note(ctx),
    )
    ask(ctx, walk)


def resume(ctx: Context) -> None:
    ctx.require_setup()
    walk = _walk(ctx)
    if walk is None:
        low, high = FAMILIES_TO_CHOOSE
        ctx.fail("scorecard.choose_families", low=low, high=high, families=_family_ids(ctx))
    ask(ctx, walk)


def move(ctx: Context, word: str) -> None:
    """`next`, `back` or `stop` in the round under way."""
    ctx.require_setup()
    walk = _walk(ctx)
    if walk is None:
        ctx.fail("scorecard.no_walk")
    if MOVES.step(ctx, walk, word, len(_items(ctx, walk))):
        ask(ctx, walk)
    else:
        finish(ctx, walk)


def finish(ctx: Context, walk: Walk) -> None:
    """Say how much of the round was rated; the walk has ended."""
    items = _items(ctx, walk)
    rated = sum(1 for item in items if ctx.partnership.org_ratings(item.id))
    ctx.say("scorecard.finished", thread=walk.thread, rated=rated, total=len(items))


def ask(ctx: Context, walk: Walk) -> None:
    items = _items(ctx, walk)
    item = items[walk.index]
    step = walk.token
    p = ctx.partnership
    standing = p.standing(item.id, ctx.content.scale)
    choices = [
        ctx.choice("scorecard.rating_choice", f"rate {item.id} {r.id}", step, rating=r.label)
        for r in ctx.content.ratings
    ]
    choices.append(ctx.choice("scorecard.key_choice", "scorecard key"))
    choices.append(ctx.choice("scorecard.propose_choice", f"decide --item {item.id}", step))
    choices.extend(MOVES.choices(ctx, walk))
    ctx.say(
        "scorecard.question",
        thread=walk.thread,
        family=_family_title(ctx, item.family),
        item=item.id,
        position=walk.index + 1,
        total=len(items),
        question=item.question(p.mode),
        composed=_composed(ctx, item),
        hint=item.hint,
        current=_so_far(ctx, standing),
        choices=choices,
    )


def _so_far(ctx: Context, standing: Standing) -> str:
    """Each organization's rating so far and how they stand, or that nobody has rated it."""
    if not standing.ratings:
        return ctx.text("scorecard.not_rated_yet")
    p = ctx.partnership
    ratings = "; ".join(
        ctx.text("scorecard.org_rating", org=p.org_name(org), rating=_label(ctx, r.rating))
        for org, r in standing.ratings.items()
    )
    return ctx.text(
        "scorecard.rated_so_far", ratings=ratings, standing=standing_words(ctx, standing)
    )


@command("rate", topic="scorecard", min_words=1, text_from=2)
def rate(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    item = find_item(ctx, (args.word(0) or "").lower())
    if args.word(1) is None:  # the item alone: how it stands, and the ratings to choose from
        show_item(ctx, item, lead=ctx.text("scorecard.rate_which", item=item.id))
        return
    rating_id, used = rating_in(ctx, args.words[1:])
    walk = _walk(ctx)
    on_current_item = walk is not None and _items(ctx, walk)[walk.index].id == item.id
    if ctx.turn.step is not None:
        ctx.check_step(walk.token if walk and on_current_item else "")
    note = args.rest(1 + used).lstrip("-\u2013\u2014 ")  # "fully in place - we signed"
    if note:
        note = checked_text(ctx, note, limit=NOTE_LIMIT, usage="scorecard.rate_usage")
    org = ctx.require_org()
    p.rate(item.id, Rating(rating_id, note, ctx.user_id, ctx.user_name, ctx.stamp, org))
    ctx.remember("rating", item=item.id, rating=rating_id, note=note, org=org)
    standing = p.standing(item.id, ctx.content.scale)
    choices = [
        ctx.choice("scorecard.propose_choice", f"decide --item {item.id}"),
        ctx.choice("scorecard.item_choice", f"scorecard item {item.id}"),
    ]
    if walk is not None and on_current_item:
        choices.append(ctx.choice("scorecard.next_choice", "scorecard next", walk.token))
    ctx.say(
        "scorecard.rated_with_note" if note else "scorecard.rated",
        thread=walk.thread if walk is not None and on_current_item else None,
        item=item.id,
        rating=_label(ctx, rating_id),
        user=ctx.user_name,
        org=p.orgs[org].name,
        note=note,
        standing=standing_words(ctx, standing),
        choices=choices,
    )


def rating_in(ctx: Context, words: Sequence[str]) -> tuple[str, int]:
    """The rating the first words name, and how many words name it: its id, its label
    ("fully in place", the button's words) or another way of saying it (content/grammar.yaml:
    "full", "n/a"). The longest reading wins, so "not in place" is not "not"."""
    found = _rating_reading(ctx, words)
    if found is None:
        ctx.fail("scorecard.unknown_rating", rating=words[0], ratings=_rating_ids(ctx))
    return found


def bare_rating(ctx: Context, words: Sequence[str]) -> tuple[str, ...] | None:
    """The `rate` command's words when a line that names no command is a rating while a round
    asks about an item: said alone (`partly`, `n/a`), or ending its clause before a note
    (`fully in place, we signed MOUs`; `partly: the city still names its alternate`;
    `Fully in place. We signed in March.`; `partly (two seats open)`; `partly—still open`);
    None when it is no rating. A rating that runs into a sentence ("In place of an MOU we
    have a handshake") is refused with the `rate` command that would record it. Everyday words
    that are also ratings stay words alone: a bare yes, no or done answers nothing asked."""
    walk = _walk(ctx)
    if walk is None or not words or normal_word(words[0]) in NOT_RATINGS_ALONE:
        return None
    words = _dashes_apart(words)
    found = _rating_reading(ctx, words)
    if found is None:
        return None
    item = _items(ctx, walk)[walk.index].id
    rating, used = found
    if used < len(words) and not _ends_a_clause(words[used - 1], words[used]):
        note = " ".join(words[used:])[:200]
        ctx.fail("scorecard.rate_hint", command=words[0][:40], item=item, rating=rating, note=note)
    return (item, *words)


def _dashes_apart(words: Sequence[str]) -> tuple[str, ...]:
    """`partly—still open` as `partly`, `—`, `still open`: a dash typed against a word."""
    apart: list[str] = []
    for word in words:
        apart += [w for w in re.split(r"(\u2014|\u2013|--)", word) if w]
    return tuple(apart)


def _ends_a_clause(last: str, following: str) -> bool:
    """Whether a rating's last word ends its clause: `partly,` `in place.` `in place:` or
    `in place - …`, `in place (…`."""
    return last.endswith((",", ":", ";", ".", "!")) or following.startswith(
        ("-", "\u2013", "\u2014", "(")
    )


def _rating_reading(ctx: Context, words: Sequence[str]) -> tuple[str, int] | None:
    ratings = {kebab(r.label): r.id for r in ctx.content.ratings}
    ratings.update((r.id, r.id) for r in ctx.content.ratings)
    longest = max(len(r.label.split()) for r in ctx.content.ratings)
    for used in range(min(len(words), longest), 0, -1):
        said = ctx.content.grammar.value("rating", "-".join(normal_word(w) for w in words[:used]))
        if said in ratings:
            return ratings[said], used
    return None


def status(ctx: Context) -> None:
    p = ctx.require_setup()
    walk = _walk(ctx)
    chosen = set(walk.topic) if walk else set()
    scale = ctx.content.scale
    standings = {item_id: p.standing(item_id, scale) for item_id in ctx.content.items}
    rows = [
        (
            ctx.text("scorecard.grid_family"),
            ctx.text("scorecard.grid_item"),
            ctx.text("scorecard.grid_standing"),
            ctx.text("scorecard.grid_rating"),
        )
    ]
    composed = False
    for family in ctx.content.families:
        marker = " *" if family.id in chosen else ""
        for n, item in enumerate(family.items):
            standing = standings[item.id]
            composed = composed or item.composed
            rows.append(
                (
                    family.title + marker if n == 0 else "",
                    item.marked,
                    ctx.text(f"scorecard.grid_{standing.state}"),
                    _grid_rating(ctx, standing),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    grid = "\n".join(
        f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}".rstrip() for a, b, c, d in rows
    )
    families = [f for f in ctx.content.families if f.id in chosen]
    ctx.say(
        "scorecard.status",
        partnership=p.name,
        mode=_mode_words(ctx, p.mode),
        everything=_coverage(ctx, "scorecard.coverage_all", list(ctx.content.items), standings),
        this_round=(
            _coverage(
                ctx,
                "scorecard.coverage_round",
                [item.id for f in families for item in f.items],
                standings,
                families=series(f.title for f in families),
            )
            if families
            else ""
        ),
        chosen=ctx.text("scorecard.chosen_marker") if chosen else "",
        composed=ctx.text("scorecard.composed_marker") if composed else "",
        unrated=(
            ctx.text("scorecard.no_rating_marker")
            if any(s.state == "not_rated" for s in standings.values())
            else ""
        ),
        preformatted=grid,
    )


def _grid_rating(ctx: Context, standing: Standing) -> str:
    if standing.state == "not_rated":
        return ctx.text("scorecard.grid_no_rating")
    if standing.state == "differs":
        return ctx.text(
            "scorecard.grid_range",
            low=_label(ctx, standing.low or ""),
            high=_label(ctx, standing.high or ""),
        )
    label = _label(ctx, standing.low or "")
    if standing.state == "partly":
        return ctx.text(
            "scorecard.grid_partly_rating",
            rating=label,
            rated=len(standing.ratings),
            total=len(ctx.partnership.orgs),
        )
    return label


def _coverage(
    ctx: Context, key: str, item_ids: list[str], standings: dict[str, Standing], **variables: str
) -> str:
    """How far a set of items is rated: by every organization, agreed, differing, untouched."""
    counts = {state: 0 for state in ("not_rated", "partly", "differs", "agreed")}
    rated_by_all = 0
    for item_id in item_ids:
        standing = standings[item_id]
        counts[standing.state] += 1
        rated_by_all += len(standing.ratings) == len(ctx.partnership.orgs) > 0
    total = len(item_ids)
    return ctx.text(
        key,
        total=total,
        rated=rated_by_all,
        percent=round(100 * rated_by_all / total) if total else 0,
        agreed=counts["agreed"],
        differ=counts["differs"],
        untouched=counts["not_rated"],
        **variables,
    )


def open_items(ctx: Context) -> list[Item]:
    """The items of the round under way the organizations have not agreed on yet (every such
    item when no round is under way)."""
    walk = _walk(ctx)
    items = _items(ctx, walk) if walk else list(ctx.content.items.values())
    scale = ctx.content.scale
    return [item for item in items if ctx.partnership.standing(item.id, scale).state != "agreed"]


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


def _composed(ctx: Context, item: Item) -> str:
    """The note that an item is the coach's own, not the Scorecard's; empty for the others."""
    return ctx.text("scorecard.composed_note") if item.composed else ""


def _family_title(ctx: Context, family_id: str) -> str:
    family = ctx.content.family(family_id)
    return family.title if family else family_id


def _label(ctx: Context, rating_id: str) -> str:
    rating = ctx.content.rating(rating_id)
    return rating.label if rating else rating_id


def _rating_ids(ctx: Context) -> str:
    return series((r.id for r in ctx.content.ratings), "or")


def _family_ids(ctx: Context) -> str:
    return series(f.id for f in ctx.content.families)
