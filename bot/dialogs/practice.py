"""The case simulation: a practice run of the partnering scorecard in a space of its own.

    practice transportation-air-quality          a facilitator starts it; briefs go out privately
    practice role @name <group>                  a facilitator chooses someone's role instead
    practice scorecard who why how               the table picks 3 to 5 families and walks them
    practice rate / decide / endorse / object / revise / decisions / decision
                                                 the scorecard and decisions, for your role
    practice present [family @name]              who presents which family
    practice debrief                             where the roles differed, then the questions
    practice answer "..." / next / back / stop   the debrief, one question at a time
    practice summary / practice clear            the summary to keep; the space cleared

The practice space is a partnership of its own, `<pid>#practice`: its keys carry that id as
their hash tag, so nothing a run records touches the real partnership's keys. Its partner
organizations are the case's interest groups that someone plays (orgs as roles), its members
the real partnership's participants, each in their role, its facilitators the real ones. So the
scorecard, rating and decision dialogs run in it unchanged, and a decision is agreed when every
role endorsed it. `partnership.dialogs["practice"]` holds the run:

    case, run, thread      the case; when the run started; the thread its messages share
    roles                  user id -> interest group id
    families               the families the table chose
    presenters             family id -> the user id presenting it

The core gives `practice` commands this space as `ctx.partnership` and the real partnership,
read only, as `ctx.other` (`SPACES`); `exercise` commands get the reverse. Starting a run, or
clearing it, puts a fresh `Partnership` in place, which the core commits as a reset: every key
of the space is deleted and written anew in one script.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.content import Case
from bot.dialogs import exercises
from bot.dialogs.base import Args, Context, checked_text, command, user_ref
from bot.dialogs.questions import Questions
from bot.dialogs.scorecard import FAMILIES_TO_CHOOSE
from bot.dialogs.walk import Walk
from bot.model import Attachment, Choice, Reply
from bot.partnership import Member, Org, Partnership, readable_day

SPACES = {"practice": "practice", "exercise": "home"}  # command -> the space it acts in
DIALOG = "practice"
DEBRIEF = "practice-debrief"
ANSWER_LIMIT = 2000
# the real partnership's commands a practice run passes on, acting for the person's role
PASSED_ON = {"scorecard", "rate", "decide", "propose", "endorse", "agree", "object", "revise",
             "decisions", "decision"}  # fmt: skip
ACTS = {"rate", "decide", "propose", "endorse", "agree", "object", "revise"}
QUESTIONS = Questions(  # the debrief: its buttons say `practice ...`
    command="practice",
    question="practice.debrief_question",
    recorded="practice.answer_recorded",
    at_first="exercises.at_first_question",
    next_choice="exercises.next_choice",
    back_choice="exercises.back_choice",
    stop_choice="practice.stop_choice",
)


@command(
    "practice",
    topic="workshop",
    max_words=None,
    needs_partnership=False,  # it acts in its own space; the real partnership is checked inside
    needs_history=True,
    options=frozenset({"item", "confirm"}),
)
def practice(ctx: Context, args: Args) -> None:
    word = (args.word(0) or "").lower()
    if word in {"", "status"}:
        status(ctx)
    elif word in PASSED_ON:
        pass_on(ctx, word, args)
    elif word == "role":
        role(ctx, args)
    elif word == "brief":
        brief(ctx)
    elif word == "present":
        present(ctx, args)
    elif word == "debrief":
        debrief(ctx)
    elif word == "answer":
        answer(ctx, args)
    elif word in {"next", "skip", "back", "stop"}:
        move(ctx, word)
    elif word == "summary":
        summary(ctx)
    elif word == "clear":
        clear(ctx)
    else:
        start(ctx, word, args)


# --- starting and roles -------------------------------------------------------------------


def start(ctx: Context, case_id: str, args: Args) -> None:
    home = _home_facilitator(ctx)
    case = ctx.content.cases.get(case_id)
    if case is None:
        ctx.fail("practice.unknown_case", case=case_id, cases=" ".join(ctx.content.cases) or "-")
    people = exercises.participants(home)
    if len(people) < exercises.MIN_PARTICIPANTS:
        ctx.fail(
            "exercises.too_few_participants", count=len(people), fewest=exercises.MIN_PARTICIPANTS
        )
    under_way = _under_way(ctx, home)
    if under_way and args.options.get("confirm", "").lower() != "yes":
        ctx.say(
            "exercises.confirm_replace",
            private=True,
            running=under_way,
            exercise=case.title,
            effect=ctx.text(
                "exercises.effect_replace"
                if ctx.partnership.is_set_up
                else "exercises.effect_alongside"
            ),
            choices=[
                ctx.choice("exercises.replace_choice", f"practice {case.id} --confirm yes"),
                ctx.choice("practice.keep_choice", "practice"),
            ],
        )
        return
    groups = case.interest_groups
    roles = {uid: groups[n % len(groups)].id for n, uid in enumerate(people)}
    state: dict[str, Any] = {
        "case": case.id,
        "run": ctx.stamp,
        "thread": f"{DIALOG}:{ctx.stamp}",
        "roles": roles,
        "families": [],
        "presenters": {},
    }
    space = Partnership(
        id=ctx.partnership.id,
        name=case.title,
        created_by=ctx.user_id,
        created_at=ctx.stamp,
        facilitators=dict(home.facilitators),
        dialogs={DIALOG: state},
    )
    for uid, group in roles.items():
        space.members[uid] = Member(home.members[uid].name, group)
    _set_orgs(ctx, space, case, roles)
    ctx.partnership = space  # a fresh space: the core writes it as a reset
    ctx.remember("practice-started", case=case.id, run=ctx.stamp)
    steps = "\n".join(
        ctx.text(
            "practice.step_done" if s.done else "practice.step",
            position=n,
            name=s.name,
            summary=s.summary,
        )
        for n, s in enumerate(case.steps, 1)
    )
    low, high = FAMILIES_TO_CHOOSE
    ctx.say(
        "practice.started",
        thread=state["thread"],
        title=case.title,
        scenario=case.scenario,
        steps=steps,
        source=case.source or ctx.text("practice.no_source"),
        task=case.task,
        roles=_roles_text(ctx, space, case),
        low=low,
        high=high,
        families=" ".join(f.id for f in ctx.content.families),
    )
    for uid in roles:
        _send_brief(ctx, space, case, uid)


def role(ctx: Context, args: Args) -> None:
    state, case = _run(ctx)
    home = _home_facilitator(ctx)
    who, group_id = user_ref(args.word(1) or ""), (args.word(2) or "").lower()
    groups = {g.id: g for g in case.interest_groups}
    if not who or not group_id:
        ctx.fail("practice.role_usage", groups=" ".join(groups))
    if who not in exercises.participants(home):
        ctx.fail("practice.not_a_participant", user=who)
    if group_id not in groups:
        ctx.fail("practice.unknown_group", group=group_id, groups=" ".join(groups))
    p = ctx.partnership
    if len(p.decisions):
        ctx.fail("practice.role_too_late")
    state["roles"][who] = group_id
    p.members[who] = Member(home.members[who].name, group_id)
    _set_orgs(ctx, p, case, state["roles"])
    ctx.say(
        "practice.role_set", thread=state["thread"], user=home.members[who].name,
        role=groups[group_id].name,
    )  # fmt: skip
    _send_brief(ctx, p, case, who)


def brief(ctx: Context) -> None:
    _, case = _run(ctx)
    if ctx.user_id not in ctx.partnership.members:
        ctx.fail("practice.no_role")
    _send_brief(ctx, ctx.partnership, case, ctx.user_id)


def _send_brief(ctx: Context, space: Partnership, case: Case, uid: str) -> None:
    group = next(g for g in case.interest_groups if g.id == space.members[uid].org)
    ctx.say("practice.brief", to=uid, title=case.title, role=group.name, brief=group.brief)


def _set_orgs(ctx: Context, space: Partnership, case: Case, roles: dict[str, str]) -> None:
    """The space's organizations: the interest groups someone plays, in the case's order."""
    played = set(roles.values())
    space.orgs = {
        g.id: space.orgs.get(g.id) or Org(g.name, g.sector, ctx.user_id, ctx.stamp, n)
        for n, g in enumerate(case.interest_groups)
        if g.id in played
    }


# --- the scorecard and decisions, passed on -----------------------------------------------


def pass_on(ctx: Context, word: str, args: Args) -> None:
    """Run one of the real partnership's commands in the practice space, for the person's role,
    and keep its replies in the practice run (its buttons say `practice ...`)."""
    state, _ = _run(ctx)
    p = ctx.partnership
    if word in ACTS and ctx.user_id not in p.members:
        ctx.fail("practice.no_role")
    found = ctx.commands.find(args.words, ctx.content.grammar)
    if found.command is None:
        ctx.fail("practice.unknown_command", command=word)
    inner = Args(found.words, dict(args.options), args.body)
    before = len(ctx.replies)
    found.command.handler(ctx, inner)
    walk = Walk.current(p, "scorecard")
    moves = {"", "status", "next", "skip", "back", "stop"}
    if word == "scorecard" and walk is not None and (inner.word(0) or "").lower() not in moves:
        state["families"] = list(walk.topic)  # a round started: the families the table chose
    ctx.replies[before:] = [_in_practice(r, state) for r in ctx.replies[before:]]
    ended = (inner.word(0) or "").lower() in {"next", "skip", "stop"} and walk is None
    if word == "scorecard" and ended and state["families"]:
        ctx.say("practice.scorecard_done", thread=state["thread"])


def _in_practice(reply: Reply, state: dict[str, Any]) -> Reply:
    return replace(
        reply,
        choices=tuple(Choice(c.label, f"practice {c.command}", c.step) for c in reply.choices),
        key=f"practice:{reply.key}" if reply.key else None,
        thread=state["thread"] if reply.to is None else reply.thread,
    )


# --- presenting and the debrief -----------------------------------------------------------


def present(ctx: Context, args: Args) -> None:
    state, _ = _run(ctx)
    _home_facilitator(ctx)
    families = state["families"]
    if not families:
        ctx.fail("practice.no_families")
    p = ctx.partnership
    family_id, who = (args.word(1) or "").lower(), user_ref(args.word(2) or "")
    if family_id:
        if family_id not in families or not who:
            ctx.fail("practice.present_usage", families=" ".join(families))
        if who not in p.members:
            ctx.fail("practice.not_a_participant", user=who)
        state["presenters"][family_id] = who
    else:
        people = list(state["roles"])
        state["presenters"] = {f: people[n % len(people)] for n, f in enumerate(families)}
    lines = "\n".join(
        ctx.text(
            "practice.presenter_line",
            family=_family_title(ctx, f),
            user=p.members[uid].name,
            role=p.org_name(p.members[uid].org or ""),
        )
        for f, uid in state["presenters"].items()
    )
    ctx.say("practice.presenters", thread=state["thread"], presenters=lines)


def debrief(ctx: Context) -> None:
    state, case = _run(ctx)
    _home_facilitator(ctx)
    if not case.debrief:
        ctx.fail("practice.no_debrief_questions")
    p = ctx.partnership
    Walk.end_current(p, "scorecard")  # the walk ends here, if the table had not ended it
    analysis = _analysis(ctx, state)
    ctx.remember("practice-analysis", run=state["run"], **{k: str(v) for k, v in analysis.items()})
    ctx.say("practice.analysis", thread=state["thread"], **_analysis_text(ctx, analysis))  # type: ignore[arg-type]
    walk = Walk.start(p, DEBRIEF, (case.id, state["run"]))
    walk.thread = state["thread"]
    walk.save(p)
    QUESTIONS.ask(ctx, walk, case.debrief)


def answer(ctx: Context, args: Args) -> None:
    _, case = _run(ctx)
    walk = _debrief_walk(ctx, case)
    text = checked_text(ctx, args.rest(1), limit=ANSWER_LIMIT, usage="practice.answer_usage")
    p = ctx.partnership
    member = p.members.get(ctx.user_id)
    QUESTIONS.answer(
        ctx,
        walk,
        lambda question: ctx.remember(
            "practice-answer",
            run=walk.topic[1],
            question=question,
            text=text,
            name=ctx.user_name,
            role=p.org_name(member.org) if member and member.org else "",
        ),
    )


def move(ctx: Context, word: str) -> None:
    _, case = _run(ctx)
    if word in {"next", "skip", "back", "stop"} and Walk.current(ctx.partnership, DEBRIEF) is None:
        pass_on(ctx, "scorecard", Args(("scorecard", word), {}))  # the scorecard's own moves
        return
    walk = _debrief_walk(ctx, case)
    QUESTIONS.move(ctx, walk, word, case.debrief, finish)


def finish(ctx: Context, walk: Walk) -> None:
    state, _ = _run(ctx)
    state["finished"] = True
    ctx.remember("practice-finished", run=state["run"], answered=str(walk.answered))
    summary(ctx)


def summary(ctx: Context) -> None:
    """A short summary of the run, as a message and a Markdown file to keep."""
    state, case = _run(ctx)
    p = ctx.partnership
    analysis = _analysis(ctx, state)
    said = [
        e
        for e in [*ctx.journal_log, *ctx.journal]
        if e["type"] == "practice-answer" and e.get("run") == state["run"]
    ]
    lines = [
        ctx.text(
            "practice.summary_title",
            title=case.title,
            run=readable_day(state["run"], ctx.partnership.zone),
        ),
        "",
        ctx.text("practice.summary_roles"),
        *(
            ctx.text("practice.summary_role", user=m.name, role=p.org_name(m.org or ""))
            for m in p.members.values()
        ),
        "",
        ctx.text(
            "practice.summary_families",
            families=", ".join(_family_title(ctx, f) for f in state["families"])
            or ctx.text("practice.none"),
        ),
        "",
        ctx.text("practice.summary_differences", **_analysis_text(ctx, analysis)),
        "",
        ctx.text("practice.summary_decisions"),
        *(
            ctx.text(
                "practice.summary_decision",
                decision=d.id,
                text=d.text,
                status=ctx.text(
                    "practice.status_agreed" if d.agreed_at else "practice.status_open"
                ),
                endorsed_by=", ".join(p.org_name(o) for o in d.endorsed_by())
                or ctx.text("practice.none"),
            )
            for d in p.decisions_in_order()
        ),
        *([] if len(p.decisions) else [ctx.text("practice.summary_no_decisions")]),
        "",
        ctx.text("practice.summary_debrief"),
    ]
    for n, question in enumerate(case.debrief, 1):
        lines.append(ctx.text("practice.summary_question", position=n, question=question))
        lines += [
            ctx.text("practice.summary_answer", user=e["name"], role=e["role"], text=e["text"])
            for e in said
            if e["question"] == str(n)
        ] or [ctx.text("practice.summary_no_answer")]
    text = "\n".join(lines) + "\n"
    ctx.say(
        "practice.summary",
        thread=state["thread"],
        title=case.title,
        attachment=Attachment(f"practice-{case.id}-{state['run'][:10]}.md", text, "text/markdown"),
    )


def clear(ctx: Context) -> None:
    _run(ctx)
    _home_facilitator(ctx)
    ctx.partnership = Partnership(id=ctx.partnership.id)  # nothing: the core deletes the space
    ctx.say("practice.cleared")


def status(ctx: Context) -> None:
    p = ctx.partnership
    if not p.is_set_up or DIALOG not in p.dialogs:
        ctx.say("practice.none_running", private=True, cases=" ".join(ctx.content.cases) or "-")
        return
    state, case = _run(ctx)
    ctx.say(
        "practice.status",
        title=case.title,
        roles=_roles_text(ctx, p, case),
        families=", ".join(_family_title(ctx, f) for f in state["families"])
        or ctx.text("practice.none"),
        count=len(p.decisions),
    )


# --- what the roles' ratings and decisions show ---------------------------------------------


def _analysis(ctx: Context, state: dict[str, Any]) -> dict[str, str]:
    """Where the roles' ratings differed most and least, and which decisions drew objections.

    How far apart the roles are on an item is the distance between their highest and lowest
    rating on the key's scale (not relevant, not in place, partially, fully in place: 0 to 3);
    a family's difference adds up its items' distances. Only items two or more roles rated count.
    """
    scale = {r.id: n for n, r in enumerate(ctx.content.ratings)}
    p = ctx.partnership
    totals: dict[str, int] = {}
    widest: tuple[int, str] = (-1, "")
    for family in ctx.content.families:
        if family.id not in state["families"]:
            continue
        for item in family.items:
            ratings = p.org_ratings(item.id).values()  # each interest group's latest
            values = [scale[r.rating] for r in ratings if r.rating in scale]
            if len(values) < 2:
                continue
            spread = max(values) - min(values)
            totals[family.id] = totals.get(family.id, 0) + spread
            if spread > widest[0]:
                widest = (spread, item.id)
    objected: dict[str, set[str]] = {}
    for entry in [*ctx.decision_log, *ctx.log]:
        if entry.get("act") == "object":
            objected.setdefault(entry["decision"], set()).add(entry.get("org_name", ""))
    result = {"most": "", "most_total": "", "least": "", "item": "", "objections": ""}
    if totals:
        most = max(totals, key=lambda f: totals[f])  # the first in scorecard order on a tie
        least = min(totals, key=lambda f: totals[f])
        result.update(most=most, most_total=str(totals[most]), item=widest[1])
        result["least"] = least if least != most else ""
    result["objections"] = " ".join(
        d for d in sorted(objected, key=lambda d: int(d[1:])) if d in p.decisions
    )
    result["objected_by"] = "|".join(
        f"{d}:{', '.join(sorted(objected[d]))}" for d in result["objections"].split()
    )
    return result


def _analysis_text(ctx: Context, analysis: dict[str, str]) -> dict[str, str]:
    p = ctx.partnership
    if analysis["most"]:
        most = ctx.text(
            "practice.differed_most",
            family=_family_title(ctx, analysis["most"]),
            total=analysis["most_total"],
            item=analysis["item"],
        )
    else:
        most = ctx.text("practice.no_differences")
    least = (
        ctx.text("practice.differed_least", family=_family_title(ctx, analysis["least"]))
        if analysis["least"]
        else ""
    )
    objections = [
        ctx.text(
            "practice.objection_line",
            decision=d,
            text=p.decisions[d].text,
            orgs=by,
        )
        for d, _, by in (x.partition(":") for x in analysis["objected_by"].split("|") if x)
    ]
    return {
        "most": most,
        "least": least,
        "objections": "\n".join(objections) or ctx.text("practice.no_objections"),
    }


# --- helpers ------------------------------------------------------------------------------


def _run(ctx: Context) -> tuple[dict[str, Any], Case]:
    """The practice run under way, and its case; refuses when there is none."""
    p = ctx.partnership
    state = p.dialogs.get(DIALOG) if p.is_set_up else None
    case = ctx.content.cases.get(str(state.get("case"))) if state else None
    if state is None or case is None:
        ctx.fail("practice.no_run", cases=" ".join(ctx.content.cases) or "-")
    return state, case


def _home_facilitator(ctx: Context) -> Partnership:
    """The real partnership, when the person is one of its facilitators."""
    home = ctx.other
    if home is None or not home.is_set_up:
        ctx.fail("errors.not_set_up")
    if ctx.user_id not in home.facilitators:
        names = ", ".join(sorted(home.facilitators.values()))
        ctx.fail("errors.facilitators_only", facilitators=names)
    return home


def _under_way(ctx: Context, home: Partnership) -> str | None:
    if ctx.partnership.is_set_up:
        return ctx.partnership.name
    running = exercises.running(home)
    if running:
        found = ctx.content.exercises.get(running)
        return found.title if found else running
    return None


def _debrief_walk(ctx: Context, case: Case) -> Walk:
    walk = Walk.current(ctx.partnership, DEBRIEF)
    if walk is None or walk.index >= len(case.debrief):
        ctx.fail("practice.no_debrief")
    return walk


def _roles_text(ctx: Context, space: Partnership, case: Case) -> str:
    return "\n".join(
        ctx.text("practice.role_line", user=m.name, role=space.org_name(m.org or ""))
        for m in space.members.values()
    )


def _family_title(ctx: Context, family_id: str) -> str:
    family = ctx.content.family(family_id)
    return family.title if family else family_id
