"""The scripted stand-ins of ``missionctl demo coding --scripted-model``, one per coding CLI.

Each CLI speaks its own model protocol, so each gets a server that speaks it and a script whose
turns are data:

- ``claude``: the Anthropic Messages API with ``tool_use``
  (:class:`~missionctl.demo.anthropic_server.ScriptedAnthropicServer`), playing
  ``coding_model.yaml`` (:mod:`missionctl.demo.coding_model`, the review loop included);
- ``codex``: the Responses API with function calls
  (:class:`~missionctl.demo.responses_server.ScriptedResponsesServer`), playing
  ``coding_model_codex.yaml``: Codex's shell tool reads the package, applies a patch and runs
  the tests;
- ``aider``: Chat Completions (:class:`~missionctl.demo.chat_server.ScriptedChatServer`),
  playing ``coding_model_aider.yaml``: aider runs no tool for its model; the model's words hold
  SEARCH/REPLACE edits, and aider sends back the files and the tests it ran after an edit.

Codex's and aider's scripts are played by :class:`ScriptedCli`: the first code task of the run
to ask writes ``top_words`` (its ``writes`` turns; a retry of it writes again), every other one
plays ``looks`` and changes nothing. A request carries the whole conversation, so the turn to
play is read from it: how many of the script's turns it holds, and what came back since the
last, which a turn's ``expect`` checks. Their review loop is not scripted: ``demo coding``
refuses ``--scripted-model --review`` with them.
"""

import re
import threading
from dataclasses import dataclass
from importlib.resources import files
from typing import Annotated, Any, Self, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from missionctl.demo import anthropic_server, chat_server, coding_model, responses_server
from missionctl.demo.coding_model import RESULT
from missionctl.schemas.datafiles import read_data_file

_TASK = re.compile(r"^Task `([^`\n]+)` · role ", re.MULTILINE)
"""How a task's file of the execution pack names its task (``documents.pack_documents``)."""
_SHOWN_CHARS = 200
_COMMAND_WAIT_MS = 30_000
"""How long Codex waits for a command before it hands back what it printed so far: the tests
must have finished, their summary is what the next turn checks."""


class CliTurn(BaseModel):
    """One reply of the model: words, and the shell command it asks the CLI to run (if any)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    say: Annotated[str, Field(min_length=1)]
    run: str | None = None
    expect: str | None = Field(
        default=None, description="Text the CLI must have sent back since the last turn."
    )
    otherwise: str | None = Field(
        default=None,
        description="Said instead, ending the conversation, when ``expect`` is not met; "
        "``{result}`` stands for the last line of what the CLI sent back.",
    )


class CliScript(BaseModel):
    """One CLI's script: the model name it answers to, its shell tool, the two parts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Annotated[str, Field(min_length=1)]
    tool: str | None = Field(
        default=None,
        description="The function the CLI offers its model to run shell commands; none: the "
        "CLI runs no command for its model, and no turn may `run` one.",
    )
    writes: Annotated[tuple[CliTurn, ...], Field(min_length=1)]
    looks: Annotated[tuple[CliTurn, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _commands_need_a_tool(self) -> Self:
        if self.tool is None and any(t.run for t in (*self.writes, *self.looks)):
            raise ValueError("a turn runs a command but the script names no `tool` to run it")
        return self


def _script(name: str) -> CliScript:
    return read_data_file(files("missionctl.demo") / name, TypeAdapter(CliScript))


CODEX_SCRIPT = _script("coding_model_codex.yaml")
AIDER_SCRIPT = _script("coding_model_aider.yaml")
"""The shipped scripts, checked when the module is imported."""


class ScriptedCli:
    """Plays one :class:`CliScript` for every conversation of one run.

    ``problems`` keeps each time what the CLI sent back was not what the script expected (the
    model then stopped that conversation), so a caller can say why a step changed nothing.
    """

    def __init__(self, script: CliScript) -> None:
        """No conversation has started yet; the first to ask will write."""
        self.script = script
        self.writer: str | None = None
        self.problems: list[str] = []
        self._lock = threading.Lock()  # the servers answer on their own threads

    def turn(self, task: str, taken: int, seen: str) -> CliTurn:
        """The turn to play for ``task`` after ``taken`` turns; ``seen``: what came back since.

        ``task`` is the task key the step's prompt names ("" when it names none).
        """
        with self._lock:
            if self.writer is None:
                self.writer = task
            turns = self.script.writes if task == self.writer else self.script.looks
        if taken >= len(turns):
            return CliTurn(say="Done.")
        chosen = turns[taken]
        if chosen.expect is None or chosen.expect in seen:
            return chosen
        last = next((line for line in reversed(seen.strip().splitlines()) if line.strip()), "")
        if chosen.otherwise is not None:
            return CliTurn(say=chosen.otherwise.replace(RESULT, last.strip()[:_SHOWN_CHARS]))
        problem = f"expected {chosen.expect!r} in what {task or 'the task'} sent back, got {last!r}"
        with self._lock:
            self.problems.append(problem)
        return CliTurn(say=f"Stopping: {problem}")


def task_key(texts: list[str]) -> str:
    """The task key the first of ``texts`` that holds a task's pack file names, else ""."""
    for text in texts:
        found = _TASK.search(text)
        if found is not None:
            return found.group(1)
    return ""


def _text(content: Any) -> str:
    """A message's content as text: a string, or the ``text`` of each of its parts."""
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


class DemoCodexModel:
    """:data:`CODEX_SCRIPT` (or ``script``) for Codex CLI, as a Responses API script.

    Codex sends each tool's output back as a ``function_call_output`` item: their number is the
    turns taken, and the last of them is what the next turn checks.
    """

    def __init__(self, script: CliScript = CODEX_SCRIPT) -> None:
        """A new run: no conversation yet."""
        self.player = ScriptedCli(script)
        self.problems = self.player.problems

    def __call__(self, request: responses_server.RecordedRequest) -> responses_server.Reply:
        """The reply to ``request``: the next turn of the conversation it carries."""
        outputs = list(request.outputs.values())
        task = task_key([_text(item.get("content")) for item in request.input])
        turn = self.player.turn(task, len(outputs), outputs[-1] if outputs else "")
        items: list[responses_server.Item] = [responses_server.Text(turn.say)]
        if turn.run is not None and self.player.script.tool is not None:
            arguments = {"cmd": turn.run, "yield_time_ms": _COMMAND_WAIT_MS}
            items.append(responses_server.FunctionCall(self.player.script.tool, arguments))
        return responses_server.Response(items)


class DemoAiderModel:
    """:data:`AIDER_SCRIPT` (or ``script``) for aider, as a Chat Completions script.

    aider's conversation also holds its own example exchanges, so the turns taken are the
    script's own replies found in it; what came back is every message after the last of them
    (the files in the chat, then the output of the tests aider ran).
    """

    def __init__(self, script: CliScript = AIDER_SCRIPT) -> None:
        """A new run: no conversation yet."""
        self.player = ScriptedCli(script)
        self.problems = self.player.problems
        self._said = {turn.say.strip() for turn in (*script.writes, *script.looks)}

    def __call__(self, request: chat_server.RecordedRequest) -> chat_server.Reply:
        """The reply to ``request``: the next turn of the conversation it carries."""
        texts = [(str(m.get("role")), _text(m.get("content"))) for m in request.messages]
        replies = [
            index
            for index, (role, text) in enumerate(texts)
            if role == "assistant" and text.strip() in self._said
        ]
        since = texts[replies[-1] + 1 :] if replies else texts
        task = task_key([text for _, text in texts])
        return self.player.turn(task, len(replies), "\n".join(t for _, t in since)).say


ScriptedServer: TypeAlias = (
    anthropic_server.ScriptedAnthropicServer
    | responses_server.ScriptedResponsesServer
    | chat_server.ScriptedChatServer
)


@dataclass(frozen=True, slots=True)
class StandIn:
    """A CLI's scripted model, ready to serve: what ``demo coding`` starts and shows."""

    server: ScriptedServer
    """Not started yet: use it as a context manager."""
    problems: list[str]
    """The script's problems, filled while it plays (the model's own list)."""
    model: str | None
    """The model name the mission asks for (``None``: the CLI's default)."""
    script: str
    """The data file it plays, under ``missionctl/demo``."""
    plays: str
    """What its turns make the CLI do, for the output."""


def stand_in(cli: str) -> StandIn:
    """The scripted model of ``cli`` (``claude``, ``codex`` or ``aider``) and its server.

    The classes are looked up when called, so that a test may replace one to watch it.

    Raises:
        KeyError: no scripted model for ``cli``.
    """
    if cli == "claude":
        claude = coding_model.DemoCodingModel()
        server: ScriptedServer = anthropic_server.ScriptedAnthropicServer(claude)
        plays = "read the package, write top_words and run the tests"
        return StandIn(server, claude.problems, None, "coding_model.yaml", plays)
    if cli == "codex":
        codex = DemoCodexModel()
        server = responses_server.ScriptedResponsesServer(codex)
        plays = "read the package, apply a patch that writes top_words and run the tests"
        return StandIn(server, codex.problems, CODEX_SCRIPT.model, "coding_model_codex.yaml", plays)
    if cli == "aider":
        aider = DemoAiderModel()
        server = chat_server.ScriptedChatServer(aider)
        plays = (
            "edit top_words, then, shown the tests aider ran, fix what they found (aider's "
            "files and test command come from the example's .aider.conf.yml)"
        )
        return StandIn(server, aider.problems, AIDER_SCRIPT.model, "coding_model_aider.yaml", plays)
    raise KeyError(cli)
