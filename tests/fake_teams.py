"""A local aiohttp server standing in for the Bot Framework connector, recording every call.

Activities sent to the coach carry this server's URL as their `serviceUrl`, so the Agents
SDK's own connector client sends the replies here over HTTP.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import json
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm


@dataclass
class Sent:
    method: str  # POST (a new message or a reply) or PUT (an update)
    conversation: str
    activity: dict[str, Any]
    activity_id: str | None  # the activity replied to (POST) or updated (PUT)
    id: str  # the message's id, as the connector answered it


@dataclass
class Created:
    """A conversation the bot started (a 1:1 chat for a private reply)."""

    id: str
    parameters: dict[str, Any]


@dataclass
class FakeConnector:
    server: TestServer | None = None
    sent: list[Sent] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # statuses for the next calls
    created: list[Created] = field(default_factory=list)
    members: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (tenant, email)
    retry_after: str | None = None  # the Retry-After header of failure answers
    authorizations: list[str | None] = field(default_factory=list)  # each call's header
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{id}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{id}", self._send)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self.server = TestServer(app)
        await self.server.start_server()

    async def close(self) -> None:
        assert self.server is not None
        await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/")).rstrip("/") + "/"

    def personal(self, user_id: str) -> list[str]:
        """The ids of the 1:1 chats the coach created with `user_id`."""
        return [c.id for c in self.created if c.parameters["members"] == [{"id": user_id}]]

    def texts(self, conversation: str | None = None) -> list[str]:
        """The texts sent, to every conversation or to one."""
        return [
            s.activity.get("text", "")
            for s in self.sent
            if conversation is None or s.conversation == conversation
        ]

    def card(self, sent: Sent) -> dict[str, Any]:
        (attachment,) = sent.activity["attachments"]
        return attachment["content"]

    async def _member(self, request: web.Request) -> web.Response:
        member = unquote(request.match_info["member"])
        tenant, email = self.members.get(member, ("tenant-1", f"{member[3:]}@city.example.gov"))
        return web.json_response(
            {"id": member, "name": member[3:], "tenantId": tenant, "email": email,
             "userPrincipalName": email}
        )  # fmt: skip

    def _failure(self) -> web.Response | None:
        if not self.failures:
            return None
        headers = {"Retry-After": self.retry_after} if self.retry_after else {}
        return web.json_response(
            {"error": {"code": "Throttled"}}, status=self.failures.pop(0), headers=headers
        )

    async def _create(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization"))
        if failure := self._failure():
            return failure
        parameters = json.loads(await request.read())
        created = Created(f"a:1on1-{len(self.created) + 1}", parameters)
        self.created.append(created)
        return web.json_response({"id": created.id})

    async def _send(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization"))
        if failure := self._failure():
            return failure
        activity = json.loads(await request.read())
        sent_id = request.match_info["id"] if request.method == "PUT" else f"sent-{next(self._ids)}"
        self.sent.append(
            Sent(
                request.method,
                unquote(request.match_info["conversation"]),
                activity,
                request.match_info.get("id"),
                sent_id,
            )
        )
        return web.json_response({"id": sent_id})


@dataclass
class FakeMicrosoft:
    """Local stand-ins for Microsoft's identity endpoints: the Bot Framework channel's OpenID
    metadata and signing keys (plain HTTP), and an Entra-like authority over HTTPS whose token
    endpoint gives the bot its outbound token (MSAL insists on https). `sign` makes tokens as
    the channel does, with the key the metadata lists."""

    key_id: str = "channel-key-1"
    delay_s: float = 0.0  # how long the metadata endpoint takes to answer
    outbound_token: str = "outbound-token-from-the-stand-in"
    token_requests: list[dict[str, str]] = field(default_factory=list)
    key_fetches: int = 0
    ca_file: str = ""  # the HTTPS stand-in's certificate, for REQUESTS_CA_BUNDLE
    _key: Any = None
    _keys: TestServer | None = None
    _authority: TestServer | None = None

    async def start(self, directory: Path) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        keys = web.Application()
        keys.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        keys.router.add_get("/v1/.well-known/keys", self._jwks)
        self._keys = TestServer(keys)
        await self._keys.start_server()
        authority = web.Application()
        authority.router.add_get("/adfs/.well-known/openid-configuration", self._discovery)
        authority.router.add_post("/adfs/oauth2/token", self._token)
        self.ca_file, context = _self_signed(directory)
        self._authority = TestServer(authority, host="127.0.0.1")
        await self._authority.start_server(ssl=context)

    async def close(self) -> None:
        for server in (self._keys, self._authority):
            if server is not None:
                await server.close()

    @property
    def metadata_url(self) -> str:
        assert self._keys is not None
        return str(self._keys.make_url("/v1/.well-known/openidconfiguration"))

    @property
    def authority(self) -> str:
        assert self._authority is not None
        return str(self._authority.make_url("/adfs"))

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key_id: str | None = None,
        algorithm: str = "RS256",
        key: Any = None,
    ) -> str:
        """A token as the channel signs it; pass another key, algorithm or key id to forge."""
        headers = {"kid": key_id if key_id is not None else self.key_id}
        if algorithm == "none":
            return jwt.encode(claims, None, algorithm="none", headers=headers)
        signing_key = key if key is not None else self._key
        return jwt.encode(claims, signing_key, algorithm=algorithm, headers=headers)

    async def _metadata(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay_s)
        jwks = str(request.url.with_path("/v1/.well-known/keys"))
        return web.json_response(
            {"issuer": "https://api.botframework.com", "jwks_uri": jwks,
             "id_token_signing_alg_values_supported": ["RS256"]}
        )  # fmt: skip

    async def _jwks(self, request: web.Request) -> web.Response:
        self.key_fetches += 1
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk |= {"kid": self.key_id, "use": "sig", "endorsements": ["msteams"]}
        return web.json_response({"keys": [jwk]})

    async def _discovery(self, request: web.Request) -> web.Response:
        base = str(request.url.with_path("/adfs"))
        return web.json_response(
            {"issuer": base, "authorization_endpoint": f"{base}/oauth2/authorize",
             "token_endpoint": f"{base}/oauth2/token"}
        )  # fmt: skip

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests.append(dict(await request.post()))  # type: ignore[arg-type]
        return web.json_response(
            {"access_token": self.outbound_token, "token_type": "Bearer", "expires_in": 3600}
        )


def _self_signed(directory: Path) -> tuple[str, ssl.SSLContext]:
    """A certificate for 127.0.0.1, its file, and a server context that presents it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "stand-in.pem", directory / "stand-in.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return str(cert_file), context
