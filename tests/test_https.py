"""`tiaojie serve` with a configured certificate: HTTPS, secure cookies, and the room over wss.

Browsers give a page the camera only on a secure origin, so a court without a reverse proxy serves HTTPS
directly (README, "Deployment"). The server runs as a real subprocess with a certificate made here for
127.0.0.1, and the clients trust exactly that certificate.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.processes import clean_env, demo, serving

pytestmark = pytest.mark.timeout(60)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tiaojie test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class TlsServer:
    base: str
    trust: ssl.SSLContext
    demo: dict[str, Any]


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[TlsServer]:
    cert, key = make_certificate(tmp_path)
    env = clean_env(tmp_path / "var", TLS_CERT=str(cert), TLS_KEY=str(key))
    info = await demo(env)
    async with serving(env) as served:
        assert served.base.startswith("https://127.0.0.1:"), served.line
        yield TlsServer(served.base, ssl.create_default_context(cafile=str(cert)), info)


async def test_https_pages_and_secure_cookies(tls_server: TlsServer) -> None:
    connector = aiohttp.TCPConnector(ssl=tls_server.trust)
    jar = aiohttp.CookieJar(unsafe=True)  # the server is an IP address, whose cookies aiohttp skips otherwise
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as http:
        async with http.get(f"{tls_server.base}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok"}
        async with http.get(f"{tls_server.base}/j") as response:
            assert response.status == 200
            assert "text/html" in response.headers["Content-Type"]
        async with http.get(f"{tls_server.base}/console/login") as response:
            page = await response.text()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf, page[:500]
        login = tls_server.demo["logins"]["mediator"]
        async with http.post(
            f"{tls_server.base}/console/login",
            data={"username": login["username"], "password": login["password"], "csrf_token": csrf.group(1)},
            allow_redirects=False,
        ) as response:
            assert response.status == 303, await response.text()
            cookies = response.headers.getall("Set-Cookie")
        assert cookies
        assert all("Secure" in cookie and "HttpOnly" in cookie for cookie in cookies), cookies
        # The API answers over the same TLS listener.
        headers = {"Authorization": f"Bearer {tls_server.demo['api_keys']['court']}"}
        async with http.get(f"{tls_server.base}/api/v1/cases", headers=headers) as response:
            assert response.status == 200
            assert (await response.json())["items"]


async def test_plain_http_and_untrusted_clients_get_nothing(tls_server: TlsServer) -> None:
    plain = tls_server.base.replace("https://", "http://")
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientError):
            async with http.get(f"{plain}/healthz") as response:
                await response.read()
        # A client that does not trust the certificate refuses the connection.
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with http.get(f"{tls_server.base}/healthz") as response:
                await response.read()


async def test_the_room_over_wss(tls_server: TlsServer) -> None:
    link = tls_server.demo["session"]["links"]["mediator"]
    token = link.split("#", 1)[1]
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls_server.trust))
    sio = socketio.AsyncClient(reconnection=False, http_session=http)
    try:
        await sio.connect(
            tls_server.base,
            namespaces=["/room"],
            auth={"token": token, "protocol": 1},
            transports=["websocket"],
            wait_timeout=10,
        )
        assert sio.transport() == "websocket"
        reply = await sio.call("sync", {}, namespace="/room", timeout=10)
        assert reply["ok"] is True
        assert reply["room"]["you"]
    finally:
        await sio.disconnect()
        await http.close()
