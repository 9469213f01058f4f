"""The web process and the command line, run the way an operator runs them."""

from __future__ import annotations

import ast
import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from bot.model import Address
from tests.conftest import project_path
from tests.test_checkins import shared_redis_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_healthz(tmp_path):
    port = free_port()
    env = {**os.environ, "COACH_DATA_DIR": str(tmp_path / "data")}
    env.pop("REDIS_URL", None)
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=project_path(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    assert r.read() == b'{"status": "ok", "redis": "ok"}'
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"serve did not come up: {log.read_text()}")
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "eighty"}, "Config 'PORT' has value 'eighty'. Not a valid int."),
        ({"REDIS_URL": "http://user:hunter2@example.org"}, "Expected redis://"),
        ({"LOG_LEVEL": "loud"}, "Config 'LOG_LEVEL' has value 'loud'. Expected one of DEBUG"),
        ({"TEAMS_EMULATOR": "maybe"}, "Config 'TEAMS_EMULATOR' has value 'maybe'."),
    ],
)
def test_bad_settings_stop_the_start_with_a_clear_message(env, message):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check"],
        env={**os.environ, **env},
        cwd=project_path(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "hunter2" not in result.stderr


def test_only_adapters_import_platform_sdks():
    platform = ("slack_bolt", "slack_sdk", "botbuilder", "microsoft_agents", "msrest", "jwt")
    offenders = []
    for path in project_path("bot").rglob("*.py"):
        if "adapters" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in platform]
    assert offenders == []


def test_readme_test_command_is_what_ci_runs():
    readme = project_path("README.md").read_text()
    ci = project_path(".ci", "run").read_text()
    command = next(line for line in ci.splitlines() if line.startswith("python3 -m venv"))
    assert command in readme


def test_teams_package_holds_the_manifest_with_ids_and_both_icons(tmp_path):
    import json
    import struct
    import zipfile

    app_id = "12345678-1234-1234-1234-123456789abc"
    out = tmp_path / "coach.zip"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "teams", "package", "--app-id", app_id,
         "--website", "https://coach.example.org", "--out", str(out)],
        cwd=project_path(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        sizes = {
            name: struct.unpack(">II", package.read(name)[16:24])
            for name in ("color.png", "outline.png")
        }
    assert manifest["id"] == manifest["bots"][0]["botId"] == app_id
    assert manifest["developer"]["privacyUrl"] == "https://coach.example.org/privacy"
    assert "{{" not in json.dumps(manifest)
    assert sizes == {"color.png": (192, 192), "outline.png": (32, 32)}  # what Teams requires

    bad = subprocess.run(
        [sys.executable, "-m", "bot", "teams", "package", "--app-id", "my-bot",
         "--website", "https://coach.example.org", "--out", str(tmp_path / "x.zip")],
        cwd=project_path(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "app id 'my-bot' is not a GUID" in bad.stderr
    assert not (tmp_path / "x.zip").exists()


def test_a_redis_password_never_shows_in_logs():
    from bot.config import Settings

    for url in ("redis://user:s3cret@host:6379/0", "redis://host:6379/0?password=s3cret"):
        settings = Settings.from_env({"REDIS_URL": url})
        assert "s3cret" not in settings.describe_redis()
        assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("args", "login", "speaker"),
    [((), "pat", "pat"), ((), "not a name", "guest"), (("--as", "maria"), "pat", "maria")],
)
async def test_the_console_speaks_first_as_its_user(store, redis_socket, prefix, args, login, speaker):
    """Not as "you" ("you is its facilitator"): as the login name, a safe stand-in, or --as."""
    env = shared_redis_env(redis_socket, prefix, LOGNAME=login, USER=login)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "console", *args],
        env=env, cwd=project_path(), input='setup "Trails"\n', capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    p = (await store.load(Address("console", "local", "partnership"))).partnership
    assert list(p.facilitators) == [speaker]


def test_a_console_name_it_cannot_speak_as_is_refused():
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--as", "two words"],
        cwd=project_path(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--as" in done.stderr and "two words" in done.stderr
