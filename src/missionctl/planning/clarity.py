"""Whether the local planner can read a mission, and what it asks when it cannot (ADR 0035).

The local planner's rules read English and plan from what a goal names. Two kinds of goal
defeat them: one in another language ("Créer une application de réservation …" would become a
plan for "the Créer une application …"), and one that names nothing ("Build a thing.", however
often it is repeated, would become a plan for "the thing"). :func:`clarification_for` finds
both, cheaply and deterministically, and returns the
:class:`~missionctl.planning.base.ClarificationNeeded` to raise instead of planning.

- **Language.** Words are counted against short lists of common function words: English's,
  and those of the languages goals most often come in besides (French, Spanish, German,
  Portuguese, Italian). A text leans to another language when that language's words (with
  accented words, once it has one) number at least ``min_foreign_words`` and more than the
  English ones; a text mostly in another script (Cyrillic, Chinese, …) leans away from
  English too. A text with no function words at all ("URL shortener") is taken as English.
- **Vagueness.** What is left of the goal and the answers once English function words and
  generic words ("build", "app", "system", "thing", "tool", "something" …) are dropped, and
  repeated sentences are read once, must hold at least one word: a name, a domain, a kind of
  software ("wiki", "API", "invoices"). "Build a URL shortener" does; "Build an app" does not.

Once the user has answered, :func:`readable` is the input the local rules plan from: the
answers (the first says what to build), then the goal if it is in English. The words and the
questions are data, in ``clarity.yaml`` beside this module.
"""

import dataclasses
import re
import unicodedata
from collections.abc import Sequence
from importlib.resources import files
from typing import Annotated, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from missionctl.planning.base import (
    MAX_QUESTIONS,
    QUESTION_MAX_CHARS,
    ClarificationNeeded,
    PlanningInput,
)

__all__ = [
    "OTHER_LANGUAGE",
    "RULES",
    "ClarityRules",
    "check",
    "clarification_for",
    "is_vague",
    "language_of",
    "load_rules",
    "readable",
]

OTHER_LANGUAGE = "a language other than English"
"""What :func:`language_of` calls a language its lists cannot name."""

# A word: letters and digits, hyphenated parts kept together ("role-based", "e-mail");
# apostrophes split, so French elisions ("l'application") give their article.
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_SENTENCE_END = ".!?:;…"

Word = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\W\d_]+$")]
Question = Annotated[str, Field(min_length=1, max_length=QUESTION_MAX_CHARS)]


class QuestionSet(BaseModel):
    """Why the planner asks, and what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=1)
    questions: tuple[Question, ...] = Field(min_length=1, max_length=MAX_QUESTIONS)


class ClarityRules(BaseModel):
    """The contents of ``clarity.yaml``: word lists and the questions to ask.

    Attributes:
        generic_words: Words that say nothing about what to build.
        english_words: Common English function words.
        other_languages: Language name → its common function words; none is in
            ``english_words``, so a word counts for one side only.
        min_foreign_words: Fewest words of another language that make a text lean to it.
        vague: What to ask when the goal names nothing.
        not_english: What to ask when the text is not in English; its reason names the
            language as ``{language}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    generic_words: frozenset[Word]
    english_words: frozenset[Word]
    other_languages: dict[Annotated[str, Field(min_length=1)], frozenset[Word]] = Field(
        min_length=1
    )
    min_foreign_words: int = Field(ge=1)
    vague: QuestionSet
    not_english: QuestionSet

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        lists = {"generic_words": self.generic_words, "english_words": self.english_words}
        lists |= {f"other_languages.{name}": words for name, words in self.other_languages.items()}
        for name, words in lists.items():
            upper = sorted(w for w in words if w != w.lower())
            if upper:
                raise ValueError(f"{name}: write words in lower case: {', '.join(upper)}")
        for name, words in self.other_languages.items():
            shared = sorted(words & self.english_words)
            if shared:
                raise ValueError(
                    f"other_languages.{name} shares words with english_words: {', '.join(shared)}"
                )
        if "{language}" not in self.not_english.reason:
            raise ValueError("not_english.reason names the language as {language}")
        self.not_english.reason.format(language=OTHER_LANGUAGE)  # no other placeholder
        return self


def load_rules(text: str | None = None) -> ClarityRules:
    """Read and check the rules: ``text``, or the ``clarity.yaml`` shipped with the package.

    Raises:
        pydantic.ValidationError: the rules break the constraints of :class:`ClarityRules`.
    """
    if text is None:
        text = files("missionctl.planning").joinpath("clarity.yaml").read_text(encoding="utf-8")
    return ClarityRules.model_validate(yaml.safe_load(text))


RULES = load_rules()
"""The rules the local planner uses."""


def language_of(text: str, rules: ClarityRules = RULES) -> str | None:
    """The language ``text`` leans to, or ``None`` when it reads as English (or cannot tell).

    Returns:
        A language name of ``rules.other_languages`` ("French"), or :data:`OTHER_LANGUAGE`
        for a text in another script or one whose language the lists do not single out.
    """
    text = distinct_sentences(text)
    letters = [c for c in text if c.isalpha()]
    if 2 * sum(not _latin(c) for c in letters) > len(letters):
        return OTHER_LANGUAGE
    words = _words(text)
    english = sum(w in rules.english_words for w in words)
    name, best = _best_language(words, rules)
    accented = sum(not w.isascii() for w in words) if best else 0
    foreign = best + accented
    if foreign < rules.min_foreign_words or foreign <= english:
        return None
    return name or OTHER_LANGUAGE


def is_vague(text: str, rules: ClarityRules = RULES) -> bool:
    """Whether ``text`` names nothing to plan: no word left once function and generic words go."""
    return not any(_is_content(w, rules) for w in _words(text))


def clarification_for(
    mission: PlanningInput, rules: ClarityRules = RULES
) -> ClarificationNeeded | None:
    """What the local planner asks before it can plan ``mission``, or ``None`` when it can.

    The language is judged on the answers when there are any (they are what the rules read
    first), else on the goal; vagueness on the goal and the answers together.
    """
    answered = _answered(mission)
    language = language_of("\n".join(answered) if answered else mission.goal, rules)
    if language is not None:
        asked = rules.not_english
        return ClarificationNeeded(asked.questions, reason=asked.reason.format(language=language))
    if is_vague("\n".join([mission.goal, *answered]), rules):
        return ClarificationNeeded(rules.vague.questions, reason=rules.vague.reason)
    return None


def check(mission: PlanningInput, rules: ClarityRules = RULES) -> None:
    """Return when the local planner can plan ``mission``.

    Raises:
        ClarificationNeeded: it cannot; the questions say what it needs (see
            :func:`clarification_for`).
    """
    needed = clarification_for(mission, rules)
    if needed is not None:
        raise needed


def readable(mission: PlanningInput, rules: ClarityRules = RULES) -> PlanningInput:
    """``mission`` as the local rules read it: its answers first, then its goal if in English.

    Each answer becomes a sentence of the goal, in the order asked, so the first (what the
    software should do) is the sentence the rules take the subject and features from; a goal
    in another language is left out, since the rules cannot read it. Without answers the
    mission is returned as it is.
    """
    answered = _answered(mission)
    if not answered:
        return mission
    lines = [_as_sentence(answer) for answer in answered]
    if language_of(mission.goal, rules) is None:
        lines.append(mission.goal.strip())
    return dataclasses.replace(mission, goal="\n".join(lines), answers=())


def distinct_sentences(text: str) -> str:
    """``text`` with every sentence after its first occurrence dropped (case and spaces aside)."""
    seen: dict[str, str] = {}
    for match in _SENTENCE.finditer(text):
        sentence = " ".join(match.group(0).split())
        if sentence:
            seen.setdefault(sentence.lower(), sentence)
    return "\n".join(seen.values())


def _answered(mission: PlanningInput) -> list[str]:
    return [a.answer.strip() for a in mission.answers if a.answer.strip()]


def _words(text: str) -> list[str]:
    return _WORD.findall(distinct_sentences(text).lower())


def _is_content(word: str, rules: ClarityRules) -> bool:
    return (
        len(word) > 1
        and not word.isdigit()
        and word not in rules.english_words
        and word not in rules.generic_words
    )


def _best_language(words: Sequence[str], rules: ClarityRules) -> tuple[str, int]:
    """The language with the most words in ``words`` and their count; no name on a tie."""
    name, best = "", 0
    for language, vocabulary in rules.other_languages.items():
        score = sum(w in vocabulary for w in words)
        if score > best:
            name, best = language, score
        elif score == best:
            name = ""
    return name, best


def _latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def _as_sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(tuple(_SENTENCE_END)) else f"{text}."
