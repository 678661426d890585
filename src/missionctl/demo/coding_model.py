"""The scripted model of ``missionctl demo coding --scripted-model``: turns read from data.

The turns are in ``coding_model.yaml`` (what each says and which tool it asks for); this module
plays them for :class:`~missionctl.demo.anthropic_server.ScriptedAnthropicServer`, one
conversation per coding step, as the real Claude Code sends them. Each request carries the
whole conversation, so the model keeps no state per conversation; the one thing it remembers
is which coding step writes ``top_words`` (the first to ask, for the whole run, retries
included), so that exactly one code task changes the code and the others truthfully change
nothing. In a review loop (``planning.review_loop``) the prompt's part tells the steps apart:
the writer's tester and rework play their own turns, and a reviewer answers with a verdict.
"""

import json
import threading
from importlib.resources import files
from pathlib import PurePosixPath
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from missionctl.demo.anthropic_server import Message, RecordedRequest, Reply, Text, ToolUse
from missionctl.domain.review import review_chain
from missionctl.planning.review_loop import PROMPTS
from missionctl.schemas.datafiles import read_data_file

WORKTREE = "{worktree}"
"""Where a turn's tool input names the worktree (replaced in every string of the input)."""
RESULT = "{result}"
"""Where a turn's ``otherwise`` names what the tool answered."""
_SHOWN_CHARS = 200


class Turn(BaseModel):
    """One reply of the model: words, and the tool it asks the CLI to run (if any)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    say: Annotated[str, Field(min_length=1)]
    tool: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    expect: str | None = Field(
        default=None, description="Text the previous tool's result must hold to go on."
    )
    otherwise: str | None = Field(
        default=None,
        description="Said instead, ending the conversation, when ``expect`` is not met (no "
        "tool); ``{result}`` stands for the first line of that result.",
    )


class Review(BaseModel):
    """What a reviewer answers: changes requested when its change holds ``changes_when``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    changes_when: Annotated[str, Field(min_length=1)]
    changes: Annotated[str, Field(min_length=1)]
    findings: Annotated[tuple[str, ...], Field(min_length=1)]
    approve: Annotated[str, Field(min_length=1)]


class CodingScript(BaseModel):
    """The whole script: the opening turn, the writer's turns and everyone else's, the loop's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    locate: Turn
    writes: Annotated[tuple[Turn, ...], Field(min_length=1)]
    looks: Annotated[tuple[Turn, ...], Field(min_length=1)]
    tests: Annotated[tuple[Turn, ...], Field(min_length=1)]
    review: Review
    rework: Annotated[tuple[Turn, ...], Field(min_length=1)]


SCRIPT: CodingScript = read_data_file(
    files("missionctl.demo") / "coding_model.yaml", TypeAdapter(CodingScript)
)
"""The shipped script, checked when the module is imported."""
PARTS = {
    part: getattr(PROMPTS, part).partition("\n")[0] + "\n"
    for part in ("tester", "reviewer", "rework")
}
"""How a review loop's prompt names each part: its first line (the builder's names none)."""


class DemoCodingModel:
    """Plays :data:`SCRIPT` (or ``script``) for every coding step of one run.

    ``problems`` keeps each time a tool's result was not what the script expected (the model
    then stopped that conversation), so a caller can say why a step changed nothing.
    """

    def __init__(self, script: CodingScript = SCRIPT) -> None:
        """No step has asked yet; the first to reach its second turn will write."""
        self.script = script
        self.writer: str | None = None
        self.problems: list[str] = []
        self._lock = threading.Lock()  # the server answers on its own threads

    def __call__(self, request: RecordedRequest) -> Reply:
        """The reply to ``request``: the next turn of the conversation it carries."""
        messages = request.messages
        part = _part(messages)
        if part == "reviewer":
            return self._review(_prompt(messages))
        turn = sum(message.get("role") == "assistant" for message in messages)
        if turn == 0:
            return _reply(self.script.locate, worktree="")
        # The first tool's result is what ``locate`` printed. (Claude Code may put messages of
        # its own between the prompt and the replies: the result is found, not counted to.)
        worktree = next(filter(None, map(_result_text, messages)), "").strip()
        if not worktree.startswith("/"):
            return self._stop(f"the first command did not print the worktree: {worktree!r}")
        turns = self._turns(part, PurePosixPath(worktree).parent.name)
        if turn > len(turns):
            return Message([Text("Done.")])
        chosen = turns[turn - 1]
        seen = _result_text(messages[-1])
        if chosen.expect is None or chosen.expect in seen:
            return _reply(chosen, worktree=worktree)
        if chosen.otherwise is not None:
            first_line = seen.strip().partition("\n")[0][:_SHOWN_CHARS]
            return Message([Text(chosen.otherwise.replace(RESULT, first_line))])
        return self._stop(f"expected {chosen.expect!r} in the last result, got {seen!r}")

    def _turns(self, part: str, step: str) -> tuple[Turn, ...]:
        """The turns of ``step`` (its id) playing ``part``: its own, or ``looks``.

        A worktree is ``<workspace>/repo`` and a step's workspace is named by its id, the same
        for each attempt: a retried writer writes again. The first builder to ask writes; only
        the tester and rework of its own chain play theirs.
        """
        with self._lock:
            if part == "builder" and self.writer is None:
                self.writer = step
            writer = self.writer
        if writer is None:
            return self.script.looks
        chain = review_chain(writer)
        own = {"builder": (writer, self.script.writes), "tester": (chain.test, self.script.tests),
               "rework": (chain.rework, self.script.rework)}  # fmt: skip
        mine, turns = own[part]
        return turns if step == mine else self.script.looks

    def _review(self, prompt: str) -> Reply:
        """The reviewer's answer, ending with its verdict block (it asks for no tool)."""
        review = self.script.review
        verdict: dict[str, object] = {"verdict": "approve", "findings": []}
        said = review.approve
        if review.changes_when in prompt:
            said = review.changes
            verdict = {"verdict": "changes_requested", "findings": list(review.findings)}
        return Message([Text(f"{said}\n\n```json\n{json.dumps(verdict)}\n```")])

    def _stop(self, problem: str) -> Reply:
        with self._lock:
            self.problems.append(problem)
        return Message([Text(f"Stopping: {problem}")])


def _reply(turn: Turn, *, worktree: str) -> Reply:
    blocks: list[Text | ToolUse] = [Text(turn.say)]
    if turn.tool is not None:
        blocks.append(ToolUse(turn.tool, _placed(turn.input, worktree)))
    return Message(list(blocks))


def _placed(value: Any, worktree: str) -> Any:
    """``value`` with :data:`WORKTREE` replaced by ``worktree`` in every string it holds."""
    if isinstance(value, str):
        return value.replace(WORKTREE, worktree)
    if isinstance(value, dict):
        return {key: _placed(item, worktree) for key, item in value.items()}
    if isinstance(value, list):
        return [_placed(item, worktree) for item in value]
    return value


def _prompt(messages: list[dict[str, Any]]) -> str:
    """The text of the conversation's first message: the step's prompt (and the CLI's notes)."""
    content = messages[0].get("content") if messages else ""
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content or "")


def _part(messages: list[dict[str, Any]]) -> str:
    """The part the step's prompt gives it in a review loop (:data:`PARTS`), else builder."""
    prompt = _prompt(messages)
    return next((part for part, line in PARTS.items() if line in prompt), "builder")


def _result_text(message: dict[str, Any]) -> str:
    """The text of the ``tool_result`` blocks of a user ``message`` (a string or blocks each)."""
    content = message.get("content")
    if not isinstance(content, list):
        return ""
    texts = []
    for block in content:
        if not isinstance(block, dict) or block.get("type") != "tool_result":
            continue
        inner = block.get("content")
        if isinstance(inner, list):
            texts += [str(b.get("text", "")) for b in inner if isinstance(b, dict)]
        else:
            texts.append(str(inner or ""))
    return "".join(texts)
