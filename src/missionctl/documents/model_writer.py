"""The model writer: the configured model drafts a document, the local writer stands in.

The model is asked, through the ``LLMClient`` port, for a structured draft (:class:`ModelDraft`:
the catalog's sections, each Markdown) of one kind of document. Its facts are the local
writer's document of the same sources (already redacted and complete), so the model rewrites
and explains rather than invents, and the prompt holds nothing the product would not show.

The whole call has one deadline (``MISSIONCTL_DOCUMENTS_MODEL_TIMEOUT_S``). When it passes, or
the endpoint fails (``LLMUnavailable``), or the reply stays invalid (``LLMOutputInvalid``), or
the token limit cannot pay for it (``TokenLimitReached``), :func:`write_document` returns the
local writer's document instead, with ``writer="local"`` and a note saying why. The model's
text is untrusted: it is redacted, its section titles cannot forge structure, and every HTML
view of it goes through ``domain.markdown.safe_html``.
"""

import asyncio
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from missionctl.documents.catalog import kind_spec
from missionctl.documents.local import write_local
from missionctl.documents.sources import DocumentSources
from missionctl.domain.markdown import inline
from missionctl.errors import LLMOutputInvalid, LLMUnavailable
from missionctl.llm.protocol import LLMClient, LLMUsage, TokenLimitReached
from missionctl.llm.redaction import redact
from missionctl.schemas.documents import DocumentKind

LOCAL_WRITER = "local"
DOCUMENT_SCHEMA_NAME = "document_draft"
MAX_SECTION_CHARS = 20_000


class ModelSection(BaseModel):
    """One section of a model's draft: its title and its Markdown."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=MAX_SECTION_CHARS)


class ModelDraft(BaseModel):
    """What the model returns: the document's sections, in order."""

    model_config = ConfigDict(extra="forbid")

    sections: list[ModelSection] = Field(min_length=1, max_length=20)


@dataclass(frozen=True, slots=True)
class Written:
    """A document's Markdown, who wrote it (``local`` or the model), why, and its tokens."""

    body: str
    writer: str
    notes: tuple[str, ...] = ()
    usage: LLMUsage = field(default_factory=LLMUsage)


def _system_prompt(kind: DocumentKind) -> str:
    spec = kind_spec(kind)
    return (
        f"You write the {spec.title} of a software mission: {spec.purpose} Reply with JSON "
        '{"sections": [{"title": ..., "body": ...}]}, one object per section, with these '
        f"titles in this order: {', '.join(spec.sections)}. Each body is Markdown without "
        "top-level headings. Use only the facts of the draft the user sends (keys, numbers, "
        "names); make it clear and readable for its audience, never invent a fact, and keep "
        "every requirement, task key and estimate it states."
    )


def assemble(kind: DocumentKind, sources: DocumentSources, draft: ModelDraft) -> str:
    """The model's draft as the document's Markdown: the studio's title line, then its sections.

    Section titles are made inline text (they cannot open a block); bodies are redacted.
    """
    spec = kind_spec(kind)
    lines = [f"# {spec.title}: {inline(redact(sources.mission.title))}", ""]
    for section in draft.sections:
        lines += [f"## {inline(redact(section.title))}", "", redact(section.body).strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


async def write_document(
    kind: DocumentKind,
    sources: DocumentSources,
    *,
    client: LLMClient | None,
    timeout_s: float,
    max_tokens: int | None = None,
) -> Written:
    """The ``kind`` document of ``sources``: by the model when ``client`` is set, else locally.

    Never raises for the model's failures: a timeout after ``timeout_s`` seconds,
    ``LLMUnavailable``, ``LLMOutputInvalid`` or ``TokenLimitReached`` give the local writer's
    document with a note naming the model and the reason. ``usage`` counts what the model
    spent, also on a failed call (as far as the client reported it).

    Raises:
        asyncio.CancelledError: the caller cancelled; nothing is returned.
    """
    local = write_local(kind, sources)
    if client is None:
        return Written(local, LOCAL_WRITER)
    spent = [LLMUsage()]

    def seen(usage: LLMUsage, *, estimated: bool) -> None:
        spent[0] = usage

    try:
        async with asyncio.timeout(timeout_s):
            result = await client.generate_structured(
                system=_system_prompt(kind),
                user=local,
                output_model=ModelDraft,
                schema_name=DOCUMENT_SCHEMA_NAME,
                max_repairs=1,
                on_usage=seen,
                max_tokens=max_tokens,
            )
    except TimeoutError:
        reason = f"did not answer within {timeout_s:g} s"
    except LLMUnavailable as exc:
        reason = f"was unavailable ({redact(exc.message)})"
    except LLMOutputInvalid:
        reason = "kept replying with a draft that breaks the document's format"
    except TokenLimitReached as exc:
        spent[0] = exc.usage
        reason = f"could not be paid for within the mission's budget ({redact(exc.message)})"
    else:
        return Written(assemble(kind, sources, result.value), result.model, (), result.usage)
    note = f"The model {client.model} {reason}; the local writer wrote this version."
    return Written(local, LOCAL_WRITER, (note,), spent[0])
