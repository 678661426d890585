"""Redactor: registered secrets and credential-looking tokens never survive."""

import string

from hypothesis import given
from hypothesis import strategies as st

from missionctl.llm import Redactor
from missionctl.llm.redaction import REDACTED


def test_registered_secret_is_replaced_everywhere() -> None:
    redactor = Redactor(["hunter2-secret"])

    assert (
        redactor.redact("key=hunter2-secret, again hunter2-secret.")
        == "key=[REDACTED], again [REDACTED]."
    )


def test_bearer_tokens_are_hidden_but_the_scheme_kept() -> None:
    redactor = Redactor()

    assert (
        redactor.redact("Authorization: Bearer abc.def-123") == "Authorization: Bearer [REDACTED]"
    )
    assert (
        redactor.redact("{'authorization': 'bearer xyz'}")
        == "{'authorization': 'bearer [REDACTED]'}"
    )


def test_sk_looking_keys_are_hidden_even_unregistered() -> None:
    redactor = Redactor()

    assert redactor.redact("got sk-proj-AbC123xyz_789 back") == "got [REDACTED] back"
    assert redactor.redact("uses sk-learn") == "uses sk-learn"  # too short to be a key


def test_empty_and_blank_secrets_are_ignored() -> None:
    redactor = Redactor(["", "   "])
    redactor.add("")

    assert redactor.redact("nothing to hide  here") == "nothing to hide  here"


def test_overlapping_secrets_leave_no_fragment() -> None:
    redactor = Redactor(["abcdef123456", "123456UVWXYZ"])

    assert redactor.redact("<abcdef123456UVWXYZ>") == "<[REDACTED]>"


def test_secret_inside_another_is_hidden_whole() -> None:
    redactor = Redactor(["token", "my-token-value"])

    assert redactor.redact("x my-token-value token y") == "x [REDACTED] [REDACTED] y"


def test_text_without_secrets_is_unchanged() -> None:
    assert Redactor(["s3cr3t-value"]).redact("plain log line 42%") == "plain log line 42%"


_alnum = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=8, max_size=24)


@given(
    secrets=st.lists(_alnum, min_size=1, max_size=3),
    filler=st.lists(st.text(max_size=12), min_size=1, max_size=6),
)
def test_no_registered_secret_survives(secrets: list[str], filler: list[str]) -> None:
    text = "".join(f"{part}{secrets[i % len(secrets)]}" for i, part in enumerate(filler))

    redacted = Redactor(secrets).redact(text)

    for secret in secrets:
        assert secret not in redacted
    assert REDACTED in redacted
