"""The ``llm`` agent: a specialist role played by a model.

Prompt contract ``executor/1``: role prompt + mission goal and constraints + the task + the
plan's summary and requirements + the outputs of upstream steps (+ the secrets the step names in
``inputs.secrets``, label → secret name, see ``missionctl.agents.secrets``) → ``SpecialistOutput``
(summary, artifacts, log lines, risks, next steps), validated and repaired like the planner's
output. The model may see a secret; what the step records never holds one: every text of the
output is redacted before it is returned.

The step's ``inputs.temperature`` and ``inputs.seed`` override the client's (the settings') for
its calls; what was sent is recorded with its request (``step.input``) and in its outputs.
"""

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from missionctl.agents.base import AgentError, AgentResult, ArtifactOutput, StepContext
from missionctl.agents.secrets import resolve_secrets
from missionctl.domain.sampling import SamplingInputError, step_sampling
from missionctl.errors import LLMOutputInvalid, LLMUnavailable
from missionctl.llm import LLMClient, Redactor, Sampling, StructuredResult, TokenLimitReached

EXECUTOR_PROMPT_VERSION = "executor/1"
_UPSTREAM_CHARS = 4000
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MEDIA = {"markdown": "text/markdown", "json": "application/json", "diff": "text/x-diff"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProducedArtifact(_Strict):
    """A document the specialist wrote."""

    name: str = Field(min_length=1, max_length=120, description="File name, e.g. api-contract.md")
    kind: Literal["markdown", "json", "diff"] = "markdown"
    content: str = Field(min_length=1, max_length=200_000)


class ReportedRisk(_Strict):
    """A risk the specialist noticed."""

    title: str = Field(min_length=1, max_length=300)
    severity: Literal["low", "medium", "high", "critical"]
    mitigation: str = Field(min_length=1, max_length=2000)


class SpecialistOutput(_Strict):
    """What a specialist returns for one task."""

    summary: str = Field(min_length=1, max_length=4000)
    artifacts: list[ProducedArtifact] = Field(default_factory=list, max_length=10)
    log: list[str] = Field(default_factory=list, max_length=50)
    risks: list[ReportedRisk] = Field(default_factory=list, max_length=20)
    next_steps: list[str] = Field(default_factory=list, max_length=20)


SYSTEM_PROMPT = """You are the {role} specialist on a software delivery team.
You receive a mission (a software goal), one task of its plan, the plan's requirements and the
results of the tasks before yours. Do the task: write the documents it expects (Markdown unless
JSON or a diff fits better), concretely and specifically for THIS mission; no filler.
Meet every acceptance criterion and say how in the summary. Report risks you see and next steps.
Reply with JSON only, matching the schema you are given."""


def _fence(text: str) -> str:
    # User-controlled text goes inside tags it cannot close, so it stays data, not instructions.
    return text.replace("</", "<\\/")


def build_user_prompt(
    mission: dict[str, Any] | None,
    plan: dict[str, Any] | None,
    inputs: dict[str, Any],
    upstream: dict[str, dict[str, Any]],
    secrets: dict[str, str] | None = None,
) -> str:
    """The user message of the executor contract (``secrets``: label → value, for the model)."""
    parts: list[str] = []
    if mission:
        constraints = "\n".join(f"- {c}" for c in mission.get("constraints", [])) or "- (none)"
        parts.append(
            f"<mission>\nTitle: {_fence(mission['title'])}\nGoal: {_fence(mission['goal'])}\n"
            f"Constraints:\n{_fence(constraints)}\n"
            f"Repository context: {_fence(mission.get('repo_context') or '(none)')}\n</mission>"
        )
    if plan:
        requirements = "\n".join(
            f"- {r['key']} ({r['priority']}): {r['text']}" for r in plan.get("requirements", [])
        )
        parts.append(
            f"<plan>\nSummary: {_fence(plan.get('summary', ''))}\nRequirements:\n"
            f"{_fence(requirements)}\n</plan>"
        )
    acceptance = "\n".join(f"- {a}" for a in inputs.get("acceptance", []))
    expected = ", ".join(inputs.get("expected_artifacts", [])) or "(your choice)"
    parts.append(
        f"<task>\nTitle: {_fence(str(inputs.get('title', '')))}\n"
        f"Description: {_fence(str(inputs.get('description', '')))}\n"
        f"Acceptance criteria:\n{_fence(acceptance)}\n"
        f"Expected artifacts: {_fence(expected)}\n</task>"
    )
    for step_id, outputs in upstream.items():
        summary = json.dumps(outputs, ensure_ascii=False)[:_UPSTREAM_CHARS]
        parts.append(f'<upstream step="{step_id}">\n{_fence(summary)}\n</upstream>')
    if secrets:
        lines = "\n".join(f"{label}: {value}" for label, value in secrets.items())
        parts.append(f"<secrets>\n{_fence(lines)}\n</secrets>")
    return "\n\n".join(parts)


class LLMAgent:
    """Plays one specialist ``role`` with ``client``."""

    def __init__(self, client: LLMClient, role: str, *, max_repairs: int = 2) -> None:
        """Bind the role and the client (shared by every step; it holds no per-step state)."""
        self.client = client
        self.role = role
        self.max_repairs = max_repairs

    async def run(self, step: StepContext) -> AgentResult:
        """Ask the model for the task's result.

        Raises:
            AgentError: the endpoint failed after its retries (retryable), the output still
                broke the contract after the repairs (retryable: a new attempt may do better),
                the step's token limit could not pay for the next request (not retryable), or
                its temperature or seed is out of range (not retryable).
        """
        secrets = resolve_secrets(step.inputs.get("secrets"), field="secrets")
        knobs = _step_knobs(step).over(self.client.sampling)
        mission, plan = await step.load_mission(), await step.load_plan()
        upstream = await step.load_upstream_outputs()
        # Routing's choice for this step (ADR 0119), else the configured model.
        client = self.client.with_model(step.model) if step.model else self.client
        step.log(f"asking {client.model} as {self.role} ({EXECUTOR_PROMPT_VERSION})")
        system = SYSTEM_PROMPT.format(role=self.role)
        user = build_user_prompt(mission, plan, dict(step.inputs), upstream, secrets)
        await self._record_request(step, client.model, system, user, secrets, knobs)
        result = await self._ask(client, step, system, user, knobs)
        # The model may repeat a secret it was given; nothing it says is recorded unredacted.
        # Constructed, not validated again: "[REDACTED]" may be longer than what it replaced.
        # The step's own secrets are hidden whatever their length; a document's content loses
        # only exact secrets (what looks like a credential in it is the model's text).
        redactor = Redactor(secrets.values())
        data = result.value.model_dump()
        contents = [a.pop("content") for a in data["artifacts"]]
        data = redactor.redact(data)
        for artifact, content in zip(data["artifacts"], contents, strict=True):
            artifact["content"] = redactor.redact(content, patterns=False)
        output = SpecialistOutput.model_construct(
            **{
                **data,
                "artifacts": [ProducedArtifact.model_construct(**a) for a in data["artifacts"]],
                "risks": [ReportedRisk.model_construct(**r) for r in data["risks"]],
            }
        )
        for line in output.log:
            step.log(line)
        artifacts = [
            ArtifactOutput(
                name=_safe_name(a.name, a.kind),
                kind=a.kind,
                media_type=_MEDIA[a.kind],
                content=a.content.encode("utf-8"),
            )
            for a in output.artifacts
        ]
        return AgentResult(
            outputs={
                "summary": output.summary,
                "documents": [a.name for a in artifacts],
                "attempts": result.attempts,
                "prompt_version": EXECUTOR_PROMPT_VERSION,
                # How the answer was obtained, beside the model the step records: the knobs
                # sent with its requests (None: not sent, the model's own default).
                **result.sampling.record(),
            },
            summary=output.summary,
            artifacts=artifacts,
            usage=result.usage,
            model=result.model,
            risks=[r.model_dump() for r in output.risks],
            next_steps=[{"text": text} for text in output.next_steps],
        )

    async def _ask(
        self, client: LLMClient, step: StepContext, system: str, user: str, knobs: Sampling
    ) -> StructuredResult[SpecialistOutput]:
        """``client``'s validated answer, asked with ``knobs``; see :meth:`run` for errors."""
        try:
            return await client.generate_structured(
                system=system,
                user=user,
                output_model=SpecialistOutput,
                schema_name="specialist_output",
                max_repairs=self.max_repairs,
                on_usage=step.report_usage,
                max_tokens=step.token_limit,
                sampling=knobs,
            )
        except TokenLimitReached as exc:
            # The limit is what the run's budget reserved for the step: another attempt would
            # meet the same one, so the step fails for good, with what it spent.
            raise AgentError(
                f"token limit reached: {exc.message}; raise the step's estimate_tokens "
                "(its token limit under a budget or spending cap)",
                retryable=False,
                usage=exc.usage,
            ) from None
        except LLMUnavailable as exc:
            raise AgentError(f"model unavailable: {exc.message}", retryable=True) from None
        except LLMOutputInvalid as exc:
            raise AgentError(f"model output invalid: {exc.message}", retryable=True) from None

    async def _record_request(
        self,
        step: StepContext,
        model: str,
        system: str,
        user: str,
        secrets: dict[str, str],
        knobs: Sampling,
    ) -> None:
        """Record the request the model is about to get, without the step's secrets (ADR 0044).

        The messages, the model and the temperature and seed sent with it (``None``: not
        sent). The engine redacts the messages again (registered secrets, what looks like a
        credential) and cuts them to their bounds.
        """
        hidden = Redactor(secrets.values())
        await step.record_input(
            {
                "model": model,
                **knobs.record(),
                "prompt_version": EXECUTOR_PROMPT_VERSION,
                "messages": [
                    {"role": "system", "content": hidden.redact(system)},
                    {"role": "user", "content": hidden.redact(user)},
                ],
            }
        )


def _step_knobs(step: StepContext) -> Sampling:
    """The temperature and seed the step's inputs set (``None`` where they set none).

    Raises:
        AgentError: one is out of range or not a number (not retryable: every attempt would
            meet it). A definition saved today cannot hold one (``workflow_checks``); one
            stored before that check existed fails here, as a failed step, not a crash.
    """
    try:
        return step_sampling(step.inputs)
    except SamplingInputError as exc:
        raise AgentError(f"invalid step inputs: {exc}", retryable=False) from None


def _safe_name(name: str, kind: str) -> str:
    base = _SAFE_NAME.sub("-", name.rsplit("/", 1)[-1]).strip(".-") or "output"
    suffix = {"markdown": ".md", "json": ".json", "diff": ".diff"}[kind]
    return base if base.endswith(suffix) else f"{base}{suffix}"
