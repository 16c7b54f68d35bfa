"""Graph sign-in through the real MSAL, against the fake's identity endpoints: certificates
(PEM, PFX, SHA-256 and legacy SHA-1 thumbprints) and a token that is really renewed after a 401.

MSAL insists on an https authority, so it is given an httpx client whose transport carries its
requests to the fake (tests/graph_harness.ToFake); everything else is MSAL's own code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncsvc.domain.errors import AuthError, ConfigError
from syncsvc.targets.base import TargetStats
from syncsvc.targets.graph.auth import CachedToken, certificate_credential, msal_tokens
from syncsvc.targets.graph.client import GraphClient, slots_for
from syncsvc.targets.graph.target import GraphTarget, prefer_header
from tests.builders import Sleeps
from tests.fake_graph import FakeGraph
from tests.fake_graph_auth import b64url_decode
from tests.graph_certs import make_certificate, write_pem, write_pfx
from tests.graph_harness import AUTHORITY, MAILBOX, MsalHttp
from tests.target_contract import event

SCOPE = "https://graph.microsoft.com/.default"


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as server:
        server.add_mailbox(MAILBOX)
        server.authority_alias = AUTHORITY  # what MSAL sees as the authority
        yield server


def tokens_for(fake: FakeGraph, **credential: Any) -> CachedToken:
    http = MsalHttp(fake.url)
    fake.on_exit.append(http.close)
    return msal_tokens(
        AUTHORITY, fake.tenant, fake.client_id, SCOPE, http_client=http, **credential
    )


def target_with(fake: FakeGraph, tokens: CachedToken) -> GraphTarget:
    client = GraphClient(
        fake.graph_url,
        tokens,
        slots=slots_for(MAILBOX, 4),
        stats=TargetStats(),
        prefer=prefer_header("Europe/Oslo"),
        sleep=Sleeps(),
    )
    fake.on_exit.append(client.close)
    return GraphTarget("staff", client, mailbox=MAILBOX)


def assertion_header(fake: FakeGraph) -> dict[str, Any]:
    form = fake.token_requests[-1]
    header: dict[str, Any] = json.loads(b64url_decode(form["client_assertion"].split(".")[0]))
    return header


def test_a_refused_token_is_really_renewed(fake: FakeGraph) -> None:
    # MSAL 1.23+ answers acquire_token_for_client from its cache: unless we empty it after a
    # 401, the retry carries the same revoked token and the calendar fails.
    target = target_with(fake, tokens_for(fake, client_secret=fake.secret))
    target.create(event("tok@test"))
    assert fake.tokens_issued == 1
    assert set(target.observe()) == {"tok@test"}
    assert fake.tokens_issued == 1  # reused while valid
    fake.revoke_tokens()
    assert set(target.observe()) == {"tok@test"}
    assert fake.tokens_issued == 2


def test_a_token_refused_twice_is_an_auth_error(fake: FakeGraph) -> None:
    target = target_with(fake, tokens_for(fake, client_secret=fake.secret))
    target.observe()
    fake.secret = "rotated"
    fake.app.secrets = {"rotated"}
    fake.revoke_tokens()
    with pytest.raises(AuthError, match="AADSTS7000215"):
        target.observe()


def test_certificate_pem_signs_with_the_sha256_thumbprint(fake: FakeGraph, tmp_path: Path) -> None:
    key, cert = make_certificate("syncsvc")
    fake.register_certificate(cert)
    pem = write_pem(tmp_path / "syncsvc.pem", key, cert)
    target = target_with(fake, tokens_for(fake, certificate_path=pem))
    target.create(event("cert@test"))
    header = assertion_header(fake)
    assert header["alg"] == "PS256"
    assert "x5t#S256" in header
    assert "x5t" not in header
    assert "client_secret" not in fake.token_requests[-1]


def test_certificate_with_a_configured_sha1_thumbprint_uses_the_legacy_path(
    fake: FakeGraph, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import hashes

    key, cert = make_certificate("syncsvc")
    fake.register_certificate(cert)
    pem = write_pem(tmp_path / "syncsvc.pem", key, cert)
    sha1 = cert.fingerprint(hashes.SHA1()).hex().upper()  # as the portal shows it
    target = target_with(fake, tokens_for(fake, certificate_path=pem, certificate_thumbprint=sha1))
    target.observe()
    header = assertion_header(fake)
    assert (header["alg"], "x5t" in header) == ("RS256", True)


def test_certificate_pfx_with_password(fake: FakeGraph, tmp_path: Path) -> None:
    key, cert = make_certificate("syncsvc")
    fake.register_certificate(cert)
    pfx = write_pfx(tmp_path / "syncsvc.pfx", key, cert, b"hemmelig")
    target = target_with(
        fake, tokens_for(fake, certificate_path=pfx, certificate_password="hemmelig")
    )
    target.observe()
    assert "x5t#S256" in assertion_header(fake)
    with pytest.raises(ConfigError, match="certificate_password") as wrong:
        certificate_credential(pfx, "feil", None)
    assert str(pfx) in str(wrong.value.where)


def test_an_unregistered_certificate_is_refused_with_its_aadsts_code(
    fake: FakeGraph, tmp_path: Path
) -> None:
    key, cert = make_certificate("not-uploaded")
    pem = write_pem(tmp_path / "other.pem", key, cert)
    target = target_with(fake, tokens_for(fake, certificate_path=pem))
    with pytest.raises(AuthError, match="AADSTS700027"):
        target.observe()


def test_certificate_files_that_cannot_work_are_config_errors(tmp_path: Path) -> None:
    key, cert = make_certificate("a")
    other_key, _ = make_certificate("b")
    mismatched = write_pem(tmp_path / "mismatch.pem", other_key, cert)
    with pytest.raises(ConfigError, match="does not belong"):
        certificate_credential(mismatched, None, None)
    only_cert = tmp_path / "cert.pem"
    only_cert.write_bytes(
        write_pem(tmp_path / "x.pem", key, cert)
        .read_bytes()
        .split(b"-----END PRIVATE KEY-----\n")[1]
    )
    with pytest.raises(ConfigError, match="cannot read the key"):
        certificate_credential(only_cert, None, None)
    with pytest.raises(ConfigError, match="cannot read certificate"):
        certificate_credential(tmp_path / "missing.pem", None, None)


def test_the_private_key_never_reaches_an_error_message(fake: FakeGraph, tmp_path: Path) -> None:
    key, cert = make_certificate("not-uploaded")
    pem = write_pem(tmp_path / "k.pem", key, cert)
    target = target_with(fake, tokens_for(fake, certificate_path=pem))
    with pytest.raises(AuthError) as refused:
        target.observe()
    text = str(refused.value)
    assert "PRIVATE KEY" not in text
    assert fake.token_requests[-1]["client_assertion"] not in text
