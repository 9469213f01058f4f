"""The conversations the coach holds, and the commands they answer."""

from bot.content import normal_word
from bot.dialogs import (
    agreement,
    checkins,
    decisions,
    exercises,
    help,
    measures,
    meetings,
    practice,
    records,
    report,
    scorecard,
    setup,
    spectrum,
    status,
    tactics,
)
from bot.dialogs.base import Args, Command, Commands, Context, Found, command, parse, tokenize
from bot.dialogs.questions import Questions
from bot.dialogs.walk import Walk

__all__ = [
    "Args",
    "Command",
    "Commands",
    "Context",
    "Found",
    "command",
    "default_commands",
    "going_on",
    "parse",
    "tokenize",
]


def default_commands() -> Commands:
    """Every command of the coach's dialogs, in the order help lists them."""
    return Commands.collect(
        setup,
        spectrum,
        status,
        help,
        scorecard,
        agreement,
        decisions,
        tactics,
        checkins,
        measures,
        meetings,
        report,
        exercises,
        practice,
        records,
    )


ANSWER_WORDS = 3  # the fewest words a line needs to be taken as an answer without `answer`

# The walks a line that names no command can go on with, by kind: in the channel's own space
# (a practice run's debrief lives in the practice space and takes its answers by command).
WALKS: dict[str, Questions] = {
    scorecard.DIALOG: scorecard.MOVES,
    tactics.DIALOG: tactics.DISCUSSION,
    exercises.DEBRIEF: exercises.QUESTIONS,
}


def going_on(ctx: Context, found: Found, *, answer: bool = True) -> tuple[str, ...] | None:
    """The command a line means while the channel is in a walk of questions, as the words typed
    after /coach, when the line names no command, starts with the word of a command that takes
    no words ("Partners disagree on the numbers"), or asks help something it has nothing for;
    None when it means none. Only lines typed in the conversation itself: never a button,
    never a private message.

    - a move said alone (`skip`, `previous question`, `stop`: content/grammar.yaml, values.move)
      moves the one walk under way (with two, the reply says which commands move which);
    - a rating, while a scorecard round asks about an item and no walk takes typed answers,
      rates it: said alone (`partly`, not a bare yes, no or done), or ending its clause before
      a note (`fully in place, we signed MOUs`); a rating that runs into a sentence is refused
      with the `rate` command that would record it;
    - a line of at least ANSWER_WORDS words that does not start like a command (nor like a
      typo of one) is an answer to the one walk under way that takes typed answers, as typed
      (quotes kept). A shorter one, or one that opens with a greeting (`answer=False`: "hi
      all, …", "start with …"), is refused with the `answer` command that would record it.
    """
    line, turn = found.line, ctx.turn
    if found.group or not line or turn.private or turn.step is not None:
        return None
    p = ctx.partnership
    under_way = [q for kind, q in WALKS.items() if Walk.current(p, kind) is not None]
    answering = [q for q in under_way if q.answers]
    unknown = found.command is None
    if unknown:
        move = ctx.content.grammar.value("move", "-".join(normal_word(w) for w in line))
        if move in ("next", "back", "stop") and under_way:
            if len(under_way) > 1:
                moves = " or ".join(f"/coach {q.command} {move}" for q in under_way)
                ctx.fail("errors.which_walk", command=" ".join(line)[:40], moves=moves)
            return (*under_way[0].command.split(), move)
        if not answering:
            rated = scorecard.bare_rating(ctx, line)  # refuses a rating run into a sentence
            if rated is not None:
                return ("rate", *rated)
        if ctx.commands.starts_like_one(line[0], ctx.content.grammar):
            return None
    if len(answering) != 1:
        return None
    answers = str(answering[0].answers)
    tokens = tokenize(turn.text)
    openers = len(tokens) - len(line)
    while openers and normal_word(tokens[openers - 1]) == "please":  # part of what was said
        openers -= 1
    typed = as_typed(turn.text, openers)
    if len(line) < ANSWER_WORDS or not answer:  # "thanks", "hi all, …": how to answer, if meant
        if unknown or not answer:
            command = (found.typed or line[0])[:40]
            ctx.fail("errors.unknown_in_walk", command=command, answer=answers, text=typed[:200])
        return None
    return (*answers.split(), typed)


def as_typed(text: str, openers: int) -> str:
    """`text` as typed, quotes and all, after its first `openers` words ("/coach", "hey coach":
    plain words, so each is one run of non-space characters)."""
    return " ".join(text.split(None, openers)[openers:]).strip()
