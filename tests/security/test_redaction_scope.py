"""What the one redaction hides where: exact secrets in content, patterns in lines, every line.

The review's findings: a patch a program wrote was rewritten wherever something looked like a
credential (``Bearer {token}``, ``sk-learn-extensions``) and no longer applied; a multi-line
secret (a PEM key) was never matched, since output is redacted line by line; the API process
did not know the steps' secrets; and a line of ``a`` with the secret ``aaaaaaaa`` was cut one
byte at a time.
"""

import hashlib
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from missionctl.agents.base import StepContext
from missionctl.agents.command import MAX_LINE_BYTES, _split
from missionctl.agents.llm_agent import LLMAgent, ProducedArtifact, SpecialistOutput
from missionctl.llm import LLMUsage, Redactor, Sampling, StructuredResult
from missionctl.llm.redaction import (
    MIN_SECRET_CHARS,
    REDACTED,
    redact,
    register_secret,
    registered_secrets,
)
from missionctl.security.process import register_server_secrets
from missionctl.services import ServiceContext
from missionctl.services.usecases.artifacts import read_artifact_content, read_artifacts
from missionctl.settings import Settings
from tests.engine.helpers import run_events, running_engine, start
from tests.security.approved import approve_until_done, command

# Text a program may well write that only looks like a credential.
LOOKALIKES = (
    'headers = {"Authorization": f"Bearer {token}"}\n'
    'challenge = "Bearer realm=api"\n'
    'curl -H "Authorization: Bearer $TOKEN"\n'
    "pip install sk-learn-extensions\n"
)
PEM_BODY = "AAAASECRETBODY1234567"
PEM = f"-----BEGIN KEY-----\n{PEM_BODY}\n-----END KEY-----"


async def _log_lines(ctx: ServiceContext, run_id: uuid.UUID) -> list[str]:
    return [
        line["message"]
        for event in await run_events(ctx, run_id)
        if event.type == "step.log"
        for line in event.payload["lines"]
    ]


def test_content_loses_exact_secrets_only_and_lines_lose_patterns_too() -> None:
    secret = f"exact-{uuid.uuid4().hex}"
    register_secret(secret)
    content = f"{LOOKALIKES}key = {secret}\n"

    assert redact(content.encode(), patterns=False) == (f"{LOOKALIKES}key = {REDACTED}\n".encode())
    assert redact("Authorization: Bearer abc.def-123") == f"Authorization: Bearer {REDACTED}"
    assert redact("pip install sk-learn-extensions") == f"pip install {REDACTED}"


async def test_a_patch_a_program_writes_is_stored_as_written_but_its_secret(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"patch{uuid.uuid4().hex}"
    monkeypatch.setenv("MISSIONCTL_SECRET_PATCH_TOKEN", secret)
    patch = "--- a/x.py\n+++ b/x.py\n@@ -0,0 +1,5 @@\n" + "".join(
        f"+{line}\n" for line in [*LOOKALIKES.splitlines(), "key = @KEY@"]
    )
    code = (
        "import os, pathlib; os.makedirs('artifacts', exist_ok=True); "
        f"text = {patch!r}.replace('@KEY@', os.environ['S']); "
        "pathlib.Path('artifacts/fix.patch').write_text(text); "
        "print('sent Authorization: Bearer abcdef123456')"
    )
    step = command("patch", [sys.executable, "-c", code], secret_env={"S": "patch_token"})
    run = await start(ctx, [step])
    async with running_engine(ctx):
        done = await approve_until_done(ctx, run.id)
    assert done.status == "completed", done.steps[0].error

    (artifact,) = [a for a in await read_artifacts(ctx, run_id=run.id) if a.name == "fix.patch"]
    _, content = await read_artifact_content(ctx, artifact_id=artifact.id)
    expected = patch.replace("@KEY@", REDACTED).encode()
    assert content == expected
    assert artifact.sha256 == hashlib.sha256(expected).hexdigest()
    # The log line is still cleared of what looks like a credential.
    assert f"sent Authorization: Bearer {REDACTED}" in await _log_lines(ctx, run.id)


def test_a_secret_is_registered_with_each_of_its_long_lines() -> None:
    register_secret(PEM)

    assert {PEM, PEM_BODY, "-----BEGIN KEY-----", "-----END KEY-----"} <= set(registered_secrets())
    assert redact(f"line: {PEM_BODY}") == f"line: {REDACTED}"
    # A short line of a multi-line secret is no secret on its own.
    register_secret('{\n  "key": "json-credential-value-0042"\n}')
    assert "}" not in registered_secrets()
    assert redact('"key": "json-credential-value-0042"') == REDACTED


async def test_a_multi_line_secret_printed_by_a_step_is_hidden_line_by_line(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISSIONCTL_SECRET_PEMKEY", PEM)
    code = "import os; print(os.environ['KEY'])"
    step = command("pem", [sys.executable, "-c", code], secret_env={"KEY": "pemkey"})
    run = await start(ctx, [step])
    async with running_engine(ctx):
        done = await approve_until_done(ctx, run.id)
    assert done.status == "completed", done.steps[0].error

    lines = await _log_lines(ctx, run.id)
    assert lines == [REDACTED] * 3
    assert PEM_BODY not in repr(await run_events(ctx, run.id))


def test_the_environments_secrets_are_registered_when_a_process_starts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved_elsewhere = f"env-{uuid.uuid4().hex}"
    short = "pin" + str(uuid.uuid4().int % 10_000).zfill(4)
    assert len(short) < MIN_SECRET_CHARS
    monkeypatch.setenv("MISSIONCTL_SECRET_ELSEWHERE", resolved_elsewhere)
    monkeypatch.setenv("MISSIONCTL_SECRET_SHORT_PIN", short)

    register_server_secrets(settings, session_key=uuid.uuid4().hex)

    assert redact(f"log: {resolved_elsewhere}") == f"log: {REDACTED}"
    # Shorter than the minimum: not hidden from every record of the process ...
    assert short not in registered_secrets()
    assert redact(f"log: {short}") == f"log: {short}"
    register_secret(short)
    assert short not in registered_secrets()
    # ... but hidden wherever it is named as a secret, as a step's own secrets are.
    assert Redactor([short]).redact(f"log: {short}") == f"log: {REDACTED}"


async def test_a_short_step_secret_is_hidden_from_that_steps_output(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = "q" + uuid.uuid4().hex[:5]
    monkeypatch.setenv("MISSIONCTL_SECRET_TINY", short)
    code = (
        "import os, pathlib; os.makedirs('artifacts', exist_ok=True); "
        "pathlib.Path('artifacts/pin-' + os.environ['P'] + '.txt').write_text(os.environ['P']); "
        "print('pin is', os.environ['P'])"
    )
    step = command("tiny", [sys.executable, "-c", code], secret_env={"P": "tiny"})
    run = await start(ctx, [step])
    async with running_engine(ctx):
        done = await approve_until_done(ctx, run.id)
    assert done.status == "completed", done.steps[0].error

    assert f"pin is {REDACTED}" in await _log_lines(ctx, run.id)
    assert short not in repr(await run_events(ctx, run.id))
    (artifact,) = await read_artifacts(ctx, run_id=run.id)
    assert artifact.name == f"pin-{REDACTED}.txt"
    assert (await read_artifact_content(ctx, artifact_id=artifact.id))[1] == REDACTED.encode()


def test_a_long_line_of_a_self_overlapping_secret_is_split_in_linear_time() -> None:
    redactor = Redactor(["aaaaaaaa"])
    secrets = redactor.byte_secrets()  # with those other tests registered

    def split_and_redact(line: bytes) -> tuple[list[bytes], list[str], float]:
        began = time.perf_counter()
        pieces, rest = _split(line, MAX_LINE_BYTES, secrets)
        texts = [redactor.redact(piece.decode()) for piece in [*pieces, rest]]
        return [*pieces, rest], texts, time.perf_counter() - began

    line = b"a" * 1_000_000
    pieces, texts, _ = split_and_redact(line)
    assert b"".join(pieces) == line
    # Each cut moved back less than the longest secret: some sixteen pieces, not a million.
    assert all(len(piece) > MAX_LINE_BYTES - len(secrets[0]) for piece in pieces[:-1])
    assert set(texts) == {REDACTED}
    # Linear, not quadratic: four times the line takes about four times as long, not sixteen.
    # A ratio of the fastest of five tries each, and no absolute time: a busy machine only
    # adds time to a try, so the fastest is the one least disturbed.
    short = min(split_and_redact(b"a" * 250_000)[2] for _ in range(5))
    long = min(split_and_redact(line)[2] for _ in range(5))
    assert long / short < 8, f"{long:.3f} s for 1 MB against {short:.3f} s for 250 kB"


class ParrotClient:
    """A model that repeats the prompt's secret line in its summary, log and document."""

    model = "parrot"
    sampling = Sampling()

    async def generate_structured(self, **kwargs: Any) -> StructuredResult[Any]:
        said = next(line for line in kwargs["user"].splitlines() if line.startswith("pin:"))
        document = f"{LOOKALIKES}{said}\n"
        value = SpecialistOutput(
            summary=f"told {said}",
            log=[said, "Authorization: Bearer abcdef123456"],
            artifacts=[ProducedArtifact(name="notes.md", content=document)],
        )
        return StructuredResult(value=value, usage=LLMUsage(), model=self.model, attempts=1)


async def test_an_llm_steps_own_short_secret_is_hidden_and_its_documents_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = "p" + uuid.uuid4().hex[:5]
    monkeypatch.setenv("MISSIONCTL_SECRET_LLM_PIN", short)
    logged: list[str] = []

    async def nothing() -> Any:
        return None

    async def no_upstream() -> dict[str, dict[str, Any]]:
        return {}

    step = StepContext(
        run_id=uuid.uuid4(),
        mission_id=None,
        step_id="advise",
        attempt=1,
        agent="llm:security",
        inputs={"secrets": {"pin": "llm_pin"}, "title": "Advise"},
        run_dir=tmp_path,
        log=lambda message, level="info": logged.append(message),
        load_upstream_outputs=no_upstream,
        load_mission=nothing,
        load_plan=nothing,
    )
    result = await LLMAgent(ParrotClient(), "security").run(step)

    assert result.summary == f"told pin: {REDACTED}"
    assert logged[-2:] == [f"pin: {REDACTED}", f"Authorization: Bearer {REDACTED}"]
    (document,) = result.artifacts
    assert document.content == f"{LOOKALIKES}pin: {REDACTED}\n".encode()
