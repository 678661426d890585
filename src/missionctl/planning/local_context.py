"""What the local planner knows of a mission before it plans: its kind and its values.

:func:`detect_kind` gives the kind the mission's reading found; :class:`MissionContext` reads
the mission once (``missionctl.reading.read_goal``), settles its technology slots (named,
implied by what is named, or the kind's defaults, then the stack choice) and fills every
template placeholder's value. The local planner (``planning.local``) builds the plan on it;
the diagrams read the same values (:func:`template_values`).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from missionctl.domain.english import join_words, with_article
from missionctl.planning.base import PlanningInput
from missionctl.planning.kinds import GENERIC, SLOT_DEFAULTS, Kind, for_existing_system, kind_by_key
from missionctl.planning.signals import TRAITS, Trait
from missionctl.planning.stack_choice import choose_stack
from missionctl.reading import (
    FALLBACK_SUBJECT,
    GoalReading,
    NamedTechnology,
    RadioProfile,
    Signal,
    capitalise,
    clip,
    normalise,
    radio_for,
    read_goal,
    technology,
)

_FLAGS = re.IGNORECASE


def word_pattern(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` to match whole words only (works for ``c++`` and ``$5k`` too)."""
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", _FLAGS)


_ZERO_DOWNTIME = re.compile(r"(?:without|no|zero|with no)[- ](?:any )?downtime", _FLAGS)
_DOWNTIME_BUDGET = re.compile(
    r"(?P<budget>(?:under|less than|within|below|at most)\s+[\w\s.-]{1,30}?)\s+(?:of\s+)?downtime",
    _FLAGS,
)
# Where a move's target ends: a condition or a manner ("to Vue 3 one screen at a time",
# "to React page by page", "to Kotlin without changing its REST API").
_TARGET_END = (
    r"(?=\s+(?:with|without|in|on|by|under|while|keeping|one|page|screen|module|step|"
    r"service|route)\s|[,;:.]|$)"
)
_FROM_TO = re.compile(
    rf"\bfrom\s+(?P<source>.+?)\s+to\s+(?P<target>.+?){_TARGET_END}",
    _FLAGS,
)
_MOVE_TO = re.compile(
    r"\b(?:migrate|move|port|upgrade|convert|switch)\s+(?:an?\s+|the\s+|our\s+)?"
    rf"(?P<source>.+?)\s+to\s+(?P<target>[^,;:.]+?){_TARGET_END}",
    _FLAGS,
)


# "Replace our MySQL database with PostgreSQL": the old thing, and what takes its place.
_REPLACE_WITH = re.compile(
    r"\breplace\s+(?:an?\s+|the\s+|our\s+)?(?P<source>.+?)\s+with\s+"
    rf"(?P<target>[^,;:.]+?){_TARGET_END}",
    _FLAGS,
)


@dataclass(frozen=True, slots=True)
class KindMatch:
    """The recognised kind of a mission.

    Attributes:
        kind: The winning kind (the generic kind when nothing scored enough).
        score: Its score (goal and title matches count twice).
        matched: The keyword patterns that matched, in table order.
    """

    kind: Kind
    score: int
    matched: tuple[str, ...]


def detect_kind(mission: PlanningInput) -> KindMatch:
    """The kind the mission's reading found (:func:`missionctl.reading.kinds.find_kind`).

    Goal and title matches weigh double, and so does the existing component the goal's host
    system is, and triple in the subject of a goal that makes something new; constraints,
    deployment clauses and repository context count once. Ties go to the kind tried first;
    below a minimum score it is the generic kind.
    """
    reading = read_goal(
        title=mission.title,
        goal=mission.goal,
        constraints=mission.constraints,
        repo_context=mission.repo_context,
    )
    return KindMatch(kind_by_key(reading.kind), reading.kind_score, reading.kind_words)


def _radio_values(radio: RadioProfile) -> dict[str, str]:
    """The radio link's template values (``{radio}``, ``{radio_link}``, …; see kinds)."""
    return {
        "radio": radio.name,
        "radio_link": radio.link,
        "radio_folder": radio.folder,
        "radio_peer": radio.peer,
        "sync_choice": radio.sync_choice,
        "sync_alternative": radio.sync_alternative,
        "radio_risk": radio.risk.title,
        "radio_risk_description": radio.risk.description,
        "radio_risk_mitigation": radio.risk.mitigation,
        "radio_check": radio.check,
        "radio_next_step": radio.next_step,
    }


# How people sign in, by the scale the mission implies: a small bakery gets staff accounts,
# not an enterprise identity provider, unless the mission names one.
_SIGN_IN_DEFAULT = "company SSO"
_SIGN_IN_BY_SCALE = {
    "single_user": "a single local account",
    "small": "simple staff accounts",
}


@dataclass(frozen=True, slots=True)
class TemplateValues:
    """What the local rules know of a mission before they plan it.

    Attributes:
        kind: The key of its kind of software.
        values: Every template placeholder's value (the stack slots, ``subject``, …), plus
            ``People`` (whom it serves, capitalised), ``Subject`` (what is built: the
            mission's title) and ``payments`` (the payment provider it names, if any).
        named: The technology slots the mission names a technology for.
    """

    kind: str
    values: Mapping[str, str]
    named: frozenset[str]


def template_values(mission: PlanningInput) -> TemplateValues:
    """The kind, template values and named slots the local planner would plan ``mission`` with."""
    builder = MissionContext(mission)
    actors = builder.reading.actors
    people = capitalise(join_words(list(actors))) if actors else "Users"
    values = {
        **builder.values,
        "People": people,
        "Subject": capitalise(clip(mission.title, 40)),
        "payments": next(
            (tech.name for tech in builder.techs if tech.base.lower() == "stripe"),
            "card payment provider",
        ),
    }
    return TemplateValues(builder.kind.key, values, frozenset(builder.named_slots))


class MissionContext:
    """A mission read once, with its kind, technologies, slots and template values."""

    def __init__(self, mission: PlanningInput, *, kind: Kind | None = None) -> None:
        self.mission = mission
        self.kind = kind or detect_kind(mission).kind
        self.reading: GoalReading = read_goal(
            title=mission.title,
            goal=mission.goal,
            constraints=mission.constraints,
            repo_context=mission.repo_context,
        )
        self.subject_named = self.reading.subject_phrase != FALLBACK_SUBJECT
        if not self.subject_named and self.kind is not GENERIC:
            # A goal that names no software ("Cyclists record rides…") is about the kind's:
            # its features work "in the mobile app" ("in the firmware"), not "in the software".
            label = self.kind.label.split(" / ")[0]
            self.reading = self.reading.model_copy(
                update={"subject": label, "subject_phrase": label}
            )
        everything = "\n".join(
            (mission.title, mission.goal, *mission.constraints, mission.repo_context)
        )
        self.text = normalise(everything)
        self.techs: tuple[NamedTechnology, ...] = self.reading.technologies
        own_tags = {requirement.tag for requirement in self.kind.requirements}
        matched_traits = [(t, found) for t in TRAITS if (found := self.reading.signal(t.key))]
        scale = self.reading.signal("scale")
        self.scale = scale.value if scale else ""
        # A trait the kind already plans for (migration: downtime) adds nothing twice.
        self.traits: list[tuple[Trait, Signal]] = [
            (trait, found) for trait, found in matched_traits if trait.key not in own_tags
        ]
        self.all_traits = matched_traits
        self.brownfield = self.reading.brownfield
        if self.brownfield:
            # The system exists: its scaffold, first contract and project are not built again.
            self.kind = for_existing_system(self.kind)
        # Technology categories name the kinds' slots ("database", "cache", …).
        self.named_slots: dict[str, str] = {}
        for tech in self.techs:
            if tech.category != "other":
                self.named_slots.setdefault(tech.category, tech.name)
        # Slots settled by a named technology (Next.js → TypeScript), unless named too.
        self.implied_slots: dict[str, str] = {}
        for tech in self.techs:
            for slot, implied in technology(tech.base).implies.items():
                if slot not in self.named_slots:
                    self.implied_slots.setdefault(slot, implied)
        self.values = self._values()

    # -- template values --

    def _values(self) -> dict[str, str]:
        slots: dict[str, str] = {
            **SLOT_DEFAULTS,
            **self.kind.defaults,
            **self.implied_slots,
            **self.named_slots,
        }
        # The mission's stack settles the slots it left open; kept for decisions and files.
        self.stack = choose_stack(
            self.kind,
            slots,
            named=self.named_slots,
            implied=self.implied_slots,
            technologies=[tech.base for tech in self.techs],
            text=self.text,
        )
        slots.update(self.stack.slots)
        radio = radio_for(self.techs)
        if "mcu" not in self.named_slots:
            slots["mcu"] = radio.mcu  # the microcontroller class of the link the mission names
        source, target = self._source_target()
        downtime = "an agreed maintenance window"
        if _ZERO_DOWNTIME.search(self.text):
            downtime = "zero downtime"
        elif budget := _DOWNTIME_BUDGET.search(self.text):
            downtime = normalise(budget.group("budget"))
        scale = self.scale
        # The period as the user wrote it ("30 days"): trait tasks quote it in their checks.
        retention = self.reading.signal("retention")
        features = [feature.name for feature in self.reading.features]
        if self.techs:
            stack = ", ".join(tech.name for tech in self.techs)
        else:
            used = [slots[d.slot] for d in self.kind.decisions if d.slot]
            stack = "planner defaults: " + (", ".join(used) if used else "to be chosen")
        return {
            **slots,
            "subject": self.reading.subject_phrase,
            "a_subject": with_article(self.reading.subject_phrase),
            "A_subject": capitalise(with_article(self.reading.subject_phrase)),
            "label": self.kind.label,
            "features": join_words(features) if features else "the core flows",
            "stack": stack,
            "host": f"the {self.reading.host}" if self.reading.host else "the existing system",
            "cadence": self.reading.cadence or self.kind.cadence,
            "source": source,
            "target": target,
            "downtime": downtime,
            "retention": retention.value if retention else "the stated retention period",
            "scale": scale or "the expected volume",
            # What an internal tool imports and retires: what the goal names, or no medium.
            "old_records": f"the {self.reading.records_today}"
            if self.reading.records_today
            else "the records kept today",
            "sign_in": _SIGN_IN_BY_SCALE.get(self.reading.scale, _SIGN_IN_DEFAULT),
            "Sign_in": capitalise(_SIGN_IN_BY_SCALE.get(self.reading.scale, _SIGN_IN_DEFAULT)),
            **self.stack.values,
            **_radio_values(radio),
        }

    def _source_target(self) -> tuple[str, str]:
        by_base: dict[str, list[str]] = {}
        for tech in self.techs:
            by_base.setdefault(tech.base, []).append(tech.name)
        for names in by_base.values():
            if len(names) >= 2:
                return names[0], names[-1]
        if m := _FROM_TO.search(self.goal_text):
            return clip(m.group("source"), 60), clip(m.group("target"), 60)
        if m := _MOVE_TO.search(self.goal_text) or _REPLACE_WITH.search(self.goal_text):
            return clip(m.group("source"), 60), clip(m.group("target"), 60)
        return "the current system", "the target system"

    @property
    def goal_text(self) -> str:
        """The mission's goal, its whitespace normalised."""
        return normalise(self.mission.goal)

    def fill(self, template: str, **extra: str) -> str:
        """Fill a template with the plan's values (``KeyError`` on an unknown placeholder)."""
        values = {**self.values, **extra} if extra else self.values
        return template.format_map(values)
