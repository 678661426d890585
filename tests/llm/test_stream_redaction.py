"""Streamed redaction: content redacted chunk by chunk is what redacting it whole gives.

A large artifact is copied a chunk at a time (``agents.workspace_files``, ``put_blob``); a
secret cut in two by a chunk boundary must still be replaced, and memory must hold no more than
a chunk and the longest secret.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from missionctl.llm.redaction import REDACTED, Redactor, StreamRedactor, redact, redact_chunks

_REDACTED = REDACTED.encode()


def _streamed(redactor: StreamRedactor, data: bytes, cuts: list[int]) -> bytes:
    pieces, start = [], 0
    for cut in sorted(cuts):
        pieces.append(redactor.feed(data[start:cut]))
        start = cut
    pieces.append(redactor.feed(data[start:]))
    return b"".join(pieces) + redactor.end()


def test_a_secret_split_across_two_chunks_is_still_replaced() -> None:
    secret = "split-secret-canary"
    redactor = Redactor([secret]).stream()

    first = redactor.feed(b"head " + secret[:7].encode())
    second = redactor.feed(secret[7:].encode() + b" tail")

    assert first + second + redactor.end() == b"head " + _REDACTED + b" tail"
    assert secret[:7].encode() not in first  # the beginning waited for the rest


def test_chunks_pass_through_untouched_and_at_once_without_secrets() -> None:
    redactor = StreamRedactor([])

    assert redactor.feed(b"abc") == b"abc"
    assert redactor.end() == b""


def test_what_is_held_back_stays_below_the_longest_secret() -> None:
    secret = b"0123456789"
    redactor = StreamRedactor([secret])
    given_out = 0
    for _ in range(1000):
        given_out += len(redactor.feed(b"x" * 4096))
    # Everything but the last len(secret) - 1 bytes has been given out along the way.
    assert given_out == 1000 * 4096 - (len(secret) - 1)
    assert redactor.end() == b"x" * (len(secret) - 1)


def test_redact_chunks_hides_registered_and_given_secrets() -> None:
    chunks = [b"a-given-sec", b"ret-value and ", b"more"]

    assert b"".join(redact_chunks(chunks, secrets=["given-secret-value"])) == (
        b"a-" + _REDACTED + b" and more"
    )


@settings(max_examples=400, deadline=None)
@given(
    data=st.binary(max_size=80).map(lambda b: bytes(c % 3 + 97 for c in b)),
    secrets=st.lists(st.text("abc", min_size=1, max_size=6), min_size=1, max_size=3),
    cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=12),
)
def test_streamed_equals_whole_for_any_cutting(
    data: bytes, secrets: list[str], cuts: list[int]
) -> None:
    # A three-letter alphabet makes overlapping, touching and nested occurrences common.
    whole = redact(data, secrets=secrets, patterns=False)
    streamed = _streamed(Redactor(secrets).stream(), data, [c for c in cuts if c <= len(data)])

    assert streamed == whole
