"""Signed outbound requests: what a receiver accepts and what it refuses."""

import hashlib
import hmac

import pytest

from missionctl.security.signing import SignatureError, sign, verify

BODY = b'{"type":"run.failed","id":"42"}'


def test_a_receiver_computing_the_mac_itself_accepts_the_header() -> None:
    header = sign("whsec_abc", BODY, at=1_700_000_000)
    timestamp, mac = (part.split("=", 1)[1] for part in header.split(","))
    expected = hmac.new(b"whsec_abc", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert (timestamp, mac) == ("1700000000", expected)
    assert verify("whsec_abc", BODY, header, now=1_700_000_010) == 1_700_000_000


@pytest.mark.parametrize(
    ("secret", "body", "now", "message"),
    [
        ("other", BODY, 1_700_000_000, "does not match"),
        ("whsec_abc", BODY + b" ", 1_700_000_000, "does not match"),
        ("whsec_abc", BODY, 1_700_000_301, "more than 300 s"),
        ("whsec_abc", BODY, 1_699_999_699, "more than 300 s"),
    ],
)
def test_a_wrong_secret_an_altered_body_or_a_stale_time_is_refused(
    secret: str, body: bytes, now: int, message: str
) -> None:
    header = sign("whsec_abc", BODY, at=1_700_000_000)
    with pytest.raises(SignatureError, match=message):
        verify(secret, body, header, now=now)


@pytest.mark.parametrize(
    "header", [None, "", "v1=abc", "t=12", "t=abc,v1=00", "t=1" + "0" * 20 + ",v1=00", "garbage"]
)
def test_a_missing_or_malformed_header_is_refused_by_name(header: str | None) -> None:
    with pytest.raises(SignatureError, match="Missionctl-Signature"):
        verify("whsec_abc", BODY, header, now=1)


def test_any_of_several_v1_values_may_match_while_a_secret_rotates() -> None:
    old = sign("old", BODY, at=1_700_000_000).split(",")[1]
    header = sign("new", BODY, at=1_700_000_000) + "," + old
    assert verify("old", BODY, header, now=1_700_000_000) == 1_700_000_000
