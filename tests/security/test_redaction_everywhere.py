"""The one redaction: every kind of value, every log record, and output cut into pieces."""

import io
import logging
import sys
import uuid

import pytest

from missionctl.agents.command import MAX_LINE_BYTES, _cut
from missionctl.llm import Redactor
from missionctl.llm.redaction import (
    REDACTED,
    install_log_redaction,
    redact,
    register_secret,
    registered_secrets,
)
from missionctl.services import ServiceContext
from tests.engine.helpers import run_events, running_engine, start
from tests.security.approved import approve_until_done, command


def _secret() -> str:
    value = f"canary-{uuid.uuid4().hex}"
    register_secret(value)
    return value


def test_every_kind_of_value_goes_through_one_function() -> None:
    secret = _secret()
    value = {
        "text": f"a {secret} b",
        secret: [f"x{secret}", (secret, 3), None, 1.5],
        "bytes": f"binary {secret}".encode(),
    }

    redacted = redact(value)

    assert secret not in repr(redacted)
    assert redacted["text"] == f"a {REDACTED} b"
    assert redacted[REDACTED] == [f"x{REDACTED}", (REDACTED, 3), None, 1.5]
    assert redacted["bytes"] == f"binary {REDACTED}".encode()
    # A redactor with secrets of its own is the same function, not another implementation.
    assert redact(f"<{secret}>") == Redactor().redact(f"<{secret}>") == "<[REDACTED]>"


def test_credentials_nobody_registered_are_hidden_but_prose_is_not() -> None:
    token = "mc_" + "A1b2" * 11
    link = "mcl_" + "z9Y8" * 11
    text = f"GET /sign-in?token={link} Authorization: Bearer {token} key=sk-proj-AbC123xyz_789"

    assert redact(text) == (
        f"GET /sign-in?token={REDACTED} Authorization: Bearer {REDACTED} key={REDACTED}"
    )
    prose = "Bearer tokens in the `Authorization` header; send 'Authorization: Bearer <token>'"
    assert redact(prose) == prose
    assert redact("prefix mc_AbCd1234 as listed") == "prefix mc_AbCd1234 as listed"


def test_bytes_are_redacted_byte_wise() -> None:
    secret = _secret()
    content = b"\x00\xff" + secret.encode() + b"\x89PNG"

    assert redact(content) == b"\x00\xff" + REDACTED.encode() + b"\x89PNG"


@pytest.fixture
def log_stream() -> logging.Logger:
    install_log_redaction()
    logger = logging.getLogger(f"test.redaction.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger


def _handler(logger: logging.Logger, fmt: str = "%(levelname)s %(message)s") -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(fmt))
    logger.addHandler(handler)
    return stream


def test_log_records_are_redacted_whatever_prints_them(log_stream: logging.Logger) -> None:
    secret = _secret()
    printed = _handler(log_stream)

    log_stream.debug("value %s and %r", secret, {"k": secret})
    log_stream.info(secret)
    try:
        raise ValueError(f"failed with {secret}")
    except ValueError:
        log_stream.exception("step %s raised", "s1")
    log_stream.warning("stack", stack_info=True, extra={"n": 1})

    text = printed.getvalue()
    assert secret not in text
    assert text.count(REDACTED) >= 4
    assert "ValueError: failed with [REDACTED]" in text


def test_arguments_keep_their_shape_for_formatters_that_read_them(
    log_stream: logging.Logger,
) -> None:
    # The access log's formatter unpacks its arguments (client, method, path, version, status).
    seen: list[tuple[object, ...]] = []

    class Access(logging.Formatter):
        def formatMessage(self, record: logging.LogRecord) -> str:
            assert isinstance(record.args, tuple)
            seen.append(record.args)
            client, method, path, version, status = record.args
            return f"{client} {method} {path} {version} {status}"

    printed = io.StringIO()
    handler = logging.StreamHandler(printed)
    handler.setFormatter(Access())
    log_stream.addHandler(handler)
    link = "mcl_" + "Q" * 43
    log_stream.info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", f"/sign-in?token={link}", "1.1", 401
    )

    assert printed.getvalue().strip() == f"127.0.0.1:5 GET /sign-in?token={REDACTED} 1.1 401"
    assert seen[0][4] == 401


def test_installing_twice_redacts_once() -> None:
    install_log_redaction()
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    assert logging.getLogRecordFactory() is factory


def test_a_long_line_is_never_cut_inside_a_secret() -> None:
    secret = _secret().encode()
    secrets = [s.encode() for s in registered_secrets()]
    for offset in range(1, len(secret)):
        start = MAX_LINE_BYTES - offset
        whole = b"x" * start + secret + b"y" * 100
        cut = _cut(whole, MAX_LINE_BYTES, secrets)
        assert cut == start
        # Only the beginning of the secret has arrived yet: still not cut inside it.
        partial = b"x" * start + secret[: offset + 1]
        assert _cut(partial, MAX_LINE_BYTES, secrets) == start
    assert _cut(b"x" * (MAX_LINE_BYTES + 10), MAX_LINE_BYTES, secrets) == MAX_LINE_BYTES


async def test_a_secret_astride_a_long_line_piece_leaves_no_fragment(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"frag{uuid.uuid4().hex}"
    monkeypatch.setenv("MISSIONCTL_SECRET_LONG_LINE", secret)
    code = (
        "import os, sys; s = os.environ['S']; "
        f"sys.stdout.write('x' * ({MAX_LINE_BYTES} - 7) + s + 'y' * 50 + '\\n')"
    )
    long = command("long", [sys.executable, "-c", code], secret_env={"S": "long_line"})
    run = await start(ctx, [long])
    async with running_engine(ctx):
        done = await approve_until_done(ctx, run.id)
    assert done.status == "completed", done.steps[0].error

    lines = [
        line["message"]
        for event in await run_events(ctx, run.id)
        if event.type == "step.log"
        for line in event.payload["lines"]
    ]
    assert "".join(lines) == "x" * (MAX_LINE_BYTES - 7) + REDACTED + "y" * 50
    assert not any(secret[:4] in line or secret[-4:] in line for line in lines)
