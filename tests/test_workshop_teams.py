"""The workshop through Teams end to end: activities posted to the coach's endpoint, a
person's private words as messages in their 1:1 chat with the coach, and what only they see in
the 1:1 chat the coach creates with them (the stand-in connector records each)."""

from __future__ import annotations

import json

from bot.partnership import practice_id
from tests.test_teams import BOT, CHANNEL, HERE, TENANT, Teams
from tests.test_teams import teams as teams  # the fixture
from tests.test_workshop import state_keys

PEOPLE = ("city", "chamber", "ngo", "resident")


async def set_up(teams: Teams) -> None:
    for user, text in [
        ("city", 'setup "Riverside Partnership"'),
        ("city", 'partner add "City of Riverside" government @29:city'),
        ("city", 'partner add "Metro Chamber" business @29:chamber'),
        ("city", 'partner add "Clean Air Coalition" nonprofit @29:ngo'),
        ("city", 'partner add "Eastside Neighbors" community @29:resident'),
    ]:
        assert await teams.say(user, text) == 202
    for user in PEOPLE:  # each acts in the channel, so their 1:1 chat acts in its partnership
        assert await teams.say(user, "status") == 202


async def privately(teams: Teams, user: str, text: str) -> None:
    """A message in the person's own 1:1 chat with the coach."""
    activity = teams.activity(user, text=text)
    activity["conversation"] = {"id": f"a:dm-29:{user}", "conversationType": "personal",
                                "tenantId": TENANT}  # fmt: skip
    activity["recipient"] = BOT
    assert await teams.post(activity) == 202


def seen_by(teams: Teams, user: str) -> str:
    """Everything only `user` sees: the 1:1 chats the coach created with them, and their own."""
    chats = {*teams.connector.personal(f"29:{user}"), f"a:dm-29:{user}"}
    return json.dumps([s.activity for s in teams.connector.sent if s.conversation in chats])


def channel(teams: Teams, since: int = 0) -> str:
    """What people in the channel read: each message's text and cards (not the activity's
    addressing, which names the person whose message it answers)."""
    sent = [s.activity for s in teams.connector.sent if s.conversation.split(";")[0] == CHANNEL]
    return json.dumps([(a.get("text"), a.get("attachments")) for a in sent[since:]])


async def test_brainwriting_through_teams(teams, store, content):
    await set_up(teams)
    assert await teams.say("city", "exercise sector-styles government business") == 202
    question = content.exercises["sector-styles"].per_sector[0].for_sector("government")
    for user in PEOPLE:  # each person is asked in a 1:1 chat, never in the channel
        assert question in seen_by(teams, user), user
    assert question not in channel(teams)

    writes = [
        ("chamber", 'write government culture "slow approval and careful rules"'),
        ("ngo", 'write government limitations "slow approval cycles"'),
        ("resident", 'write business culture "fast and profit driven"'),
    ]
    for user, text in writes:
        await privately(teams, user, text)
    writing = (await store.load(HERE)).partnership.dialogs["brainwriting"]
    assert writing["contributors"] == sorted(f"29:{u}" for u, _ in writes)

    before = len([s for s in teams.connector.sent if s.conversation.split(";")[0] == CHANNEL])
    assert await teams.say("city", "exercise close") == 202
    reveal = channel(teams, before)
    for _, text in writes:
        assert text.split('"')[1] in reveal
    for user in PEOPLE:  # nobody's name or id beside what they wrote
        assert f"29:{user}" not in reveal


async def test_a_practice_run_through_teams_keeps_briefs_private(teams, store, content):
    await set_up(teams)
    assert await teams.say("chamber", 'decide "Meet monthly"') == 202
    before = {k: v for k, v in (await state_keys(store, HERE.conversation)).items()
              if not k.endswith(":messages")}  # fmt: skip

    assert await teams.say("city", "practice transportation-air-quality") == 202
    space = (await store.load_partnership(practice_id(HERE.conversation))).partnership
    roles = space.dialogs["practice"]["roles"]
    briefs = {g.id: g.brief for g in content.cases["transportation-air-quality"].interest_groups}
    for user in PEOPLE:  # each brief reaches only its reader, in a 1:1 chat
        mine = json.dumps(briefs[roles[f"29:{user}"]])[1:-1]
        assert mine in seen_by(teams, user), user
        for group, brief in briefs.items():
            if group != roles[f"29:{user}"]:
                assert json.dumps(brief)[1:-1] not in seen_by(teams, user)
    assert not any(json.dumps(b)[1:-1] in channel(teams) for b in briefs.values())

    assert await teams.say("city", "practice clear") == 202
    after = {k: v for k, v in (await state_keys(store, HERE.conversation)).items()
             if not k.endswith(":messages")}  # fmt: skip
    assert after == before  # the real partnership, byte for byte
