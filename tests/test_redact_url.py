"""Plan URLs lose user info, query and fragment everywhere but the request."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syncsvc.domain.redact import document_name, public_location, url_secrets

SECRET = st.text(st.sampled_from("abcdefghijkXYZ0123456789_-"), min_size=6, max_size=20)


def test_examples() -> None:
    url = "https://user:pw%40x@example.org:8443/share/Årsplan%202024.docx?token=s3cr3tT0ken#frag"
    assert public_location(url) == "https://example.org:8443/share/Årsplan%202024.docx"
    assert document_name(url) == "Årsplan 2024.docx"
    secrets = url_secrets(url)
    assert "s3cr3tT0ken" in secrets
    assert "pw@x" in secrets
    assert "user" in secrets
    assert public_location("/srv/plans/arsplan.txt") == "/srv/plans/arsplan.txt"
    assert document_name("/srv/plans/arsplan.txt") == "arsplan.txt"
    assert public_location("https://[::1]:8080/p?x=1") == "https://[::1]:8080/p"


@given(SECRET, SECRET, SECRET, st.sampled_from(["http", "https"]))
def test_no_secret_survives(user: str, password: str, token: str, scheme: str) -> None:
    url = f"{scheme}://{user}:{password}@plans.example/dir/plan.docx?token={token}&x=1"
    shown = public_location(url) + " " + document_name(url)
    for secret in (password, token):
        assert secret not in shown
    assert user not in shown.replace("plans.example/dir/plan.docx", "")
    assert password in url_secrets(url)
    assert token in url_secrets(url)
