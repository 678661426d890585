"""Which stack a plan speaks of, and the words it fills in for it.

A plan advises one toolchain: the profile (:class:`~missionctl.planning.kinds.stacks.
StackProfile`) of its language. The language is the one the mission names ("Rust"), else the
one a named technology implies (Next.js → TypeScript, Flutter → Dart), else the native
language of the only phone platform the mission names when the kind builds apps ("an Android
app" → Kotlin), else the kind's default, else the global one.

The profile then settles the technology slots the mission left open: a default that belongs
to another language (FastAPI, Django, React Native) gives way to the profile's own (Axum,
ASP.NET Core, Jetpack Compose; for a language without a mobile toolkit, such as Go, Ruby or
PHP, each platform's native one), and the reason is recorded for the plan's decisions.
:func:`choose_stack` returns it all as a :class:`StackChoice`.
"""

import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from missionctl.domain.english import join_words, with_article
from missionctl.planning.kinds import SLOT_DEFAULTS, STACKS, Kind
from missionctl.planning.kinds.stacks import (
    STACK_PLACEHOLDERS,
    MobileFramework,
    Platform,
    PlatformName,
    StackProfile,
)
from missionctl.planning.signals import TECHNOLOGIES

__all__ = ["StackChoice", "choose_stack"]

_VERSION = re.compile(r"\s+v?\d[\w.]*$")
_BY_NAME = {tech.name: tech for tech in TECHNOLOGIES}
# The language a technology is written in, when it implies one: "Django" → "Python".
_IMPLIED_LANGUAGE: dict[str, str] = {
    tech.name: tech.implies["language"] for tech in TECHNOLOGIES if "language" in tech.implies
}
_PLATFORM_PATTERNS: tuple[tuple[PlatformName, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rf"(?<!\w)(?:{platform.pattern})(?!\w)", re.IGNORECASE))
    for name, platform in STACKS.platforms.items()
)
# Profile fields that are placeholders as they are; the others are derived in _values.
_PLAIN_FIELDS = tuple(
    sorted(
        (STACK_PLACEHOLDERS & set(StackProfile.__dataclass_fields__))
        - {"lint_tools", "library_dir", "test_layout"}
    )
)
# Slots a profile has a default of its own for, and the profile field that holds it.
_PROFILE_SLOTS = (("web_framework", "web_framework"), ("mobile", "mobile"))


@dataclass(frozen=True, slots=True)
class StackChoice:
    """The stack of one plan.

    Attributes:
        profile: The profile of the plan's language.
        slots: Technology slots the stack settles (the language, a framework of the
            language in place of another language's default).
        reasons: Why a slot holds what the mission did not name, by slot, for its decision.
        values: The stack placeholders of the templates.
    """

    profile: StackProfile
    slots: Mapping[str, str]
    reasons: Mapping[str, str]
    values: Mapping[str, str]

    def feature_files(self, slug: str) -> dict[str, str]:
        """The files named after a feature (its key, ``slug``): its tests and its source."""
        names = {
            "slug": slug,
            "slug_": slug.replace("-", "_"),
            "Slug": "".join(part.capitalize() for part in slug.split("-")),
        }
        profile = self.profile
        library_dir = profile.library_dir or profile.source_dir
        test = profile.test_name.format_map(names)
        return {
            "test_file": f"{profile.test_dir}{test}",
            "e2e_test_file": f"{profile.test_dir}e2e/{test}",
            "contract_test_file": f"{profile.test_dir}contract/{test}",
            "source_file": f"{library_dir}{profile.source_name.format_map(names)}",
        }


def choose_stack(
    kind: Kind,
    slots: Mapping[str, str],
    *,
    named: Mapping[str, str],
    implied: Mapping[str, str],
    technologies: Sequence[str],
    text: str,
) -> StackChoice:
    """The stack of a plan of ``kind`` for a mission.

    Args:
        kind: The kind of software.
        slots: Every technology slot: named, implied, the kind's default or the global one.
        named: The slots the mission names a technology for.
        implied: The slots a named technology settles (Next.js → TypeScript).
        technologies: The named technologies' base names, in the mission's order.
        text: The mission's text (title, goal, constraints, repository context).
    """
    reasons = {
        slot: f"{value} comes with {_implier(slot, value, technologies)}, named in the mission"
        for slot, value in implied.items()
        if slot not in named
    }
    given = named.keys() | implied.keys()
    platform = _only_platform(text)
    settled: dict[str, str] = {}
    if platform and "mobile" in kind.defaults and not given & {"language", "mobile"}:
        settled, why = _native_toolkit(platform)
        reasons.update(why)
    language = settled.get("language", slots["language"])
    profile = _profile_for(language)
    own, why = _own_defaults(profile, _base(language), {**slots, **settled}, given)
    settled.update(own)
    reasons.update(why)
    merged = {**slots, **settled}
    return StackChoice(
        profile=profile,
        slots=settled,
        reasons=reasons,
        values=_values(profile, merged, _platforms(merged["mobile"], platform), text),
    )


def _native_toolkit(platform: PlatformName) -> tuple[dict[str, str], dict[str, str]]:
    """The mobile toolkit and language of an app for ``platform`` only, and the reasons."""
    native = STACKS.platforms[platform].native
    slots = {"mobile": native}
    reasons = {"mobile": f"{native} is the native toolkit for {platform}, named in the mission"}
    if language := _IMPLIED_LANGUAGE.get(native):
        slots["language"] = language
        reasons["language"] = f"{language} is the language of {native}"
    return slots, reasons


def _own_defaults(
    profile: StackProfile, language: str, slots: Mapping[str, str], given: AbstractSet[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The profile's framework and toolkit in place of open defaults of another language."""
    settled: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for slot, field in _PROFILE_SLOTS:
        own: str = getattr(profile, field)
        value = slots.get(slot, "")
        if slot in given or own == value or _language_of(value) in (None, language):
            continue
        settled[slot] = own
        reasons[slot] = (
            f"{own} goes with {language}, the language of this plan"
            if _language_of(own) == language
            else f"{language}, the language of this plan, has no {slot} toolkit of its own, "
            f"so the plan uses {own}"
        )
    return settled, reasons


def _profile_for(language: str) -> StackProfile:
    """The profile of ``language`` ("Rust", "Java 21"), or of the global default language."""
    profiles = STACKS.profiles
    return profiles.get(_base(language)) or profiles[_base(SLOT_DEFAULTS["language"])]


def _language_of(technology: str) -> str | None:
    """The language a technology is written in ("Django" → "Python"), if it implies one."""
    return _IMPLIED_LANGUAGE.get(_base(technology))


def _base(name: str) -> str:
    """A technology's name without its version: "Java 21" → "Java"."""
    return _VERSION.sub("", name)


def _implier(slot: str, value: str, technologies: Sequence[str]) -> str:
    """The first named technology that implies ``value`` for ``slot``."""
    for name in technologies:
        if _BY_NAME[name].implies.get(slot) == value:
            return name
    return "a named technology"


def _only_platform(text: str) -> PlatformName | None:
    """The phone platform the mission names, when it names exactly one."""
    named = [name for name, pattern in _PLATFORM_PATTERNS if pattern.search(text)]
    return named[0] if len(named) == 1 else None


def _platforms(mobile: str, named: PlatformName | None) -> tuple[PlatformName, ...]:
    """The platforms the app is built for: its toolkit's, narrowed to the one named."""
    toolkit = _mobile_framework(mobile)
    if named in toolkit.platforms:
        return (named,)
    return toolkit.platforms


def _os_support(platform: Platform, text: str) -> str:
    """The versions the app supports: from the lowest the mission names, else the default."""
    versions = re.findall(platform.version_pattern, text, re.IGNORECASE)
    if not versions:
        return platform.support
    lowest = min(versions, key=lambda v: tuple(int(part) for part in v.split(".")))
    return platform.stated_support.format(version=lowest)


def _mobile_framework(mobile: str) -> MobileFramework:
    frameworks = STACKS.mobile_frameworks
    return frameworks.get(_base(mobile)) or frameworks[SLOT_DEFAULTS["mobile"]]


def _values(
    profile: StackProfile,
    slots: Mapping[str, str],
    platforms: tuple[PlatformName, ...],
    text: str,
) -> dict[str, str]:
    """The stack placeholders (:data:`~missionctl.planning.kinds.stacks.STACK_PLACEHOLDERS`).

    ``text`` is the mission's: a platform version it names replaces the platform's default.
    """
    frameworks = STACKS.frameworks
    framework = frameworks.get(_base(slots["web_framework"])) or frameworks[profile.web_framework]
    toolkit = _mobile_framework(slots["mobile"])
    phones = [STACKS.platforms[name] for name in platforms]
    plain = {name: getattr(profile, name) for name in _PLAIN_FIELDS}
    return {
        **plain,
        "library_dir": profile.library_dir or profile.source_dir,
        "test_layout": profile.test_layout or profile.test_dir,
        "a_package_artifact": with_article(profile.package_artifact),
        "lint_tools": join_words(profile.lint_tools),
        "ci_checks": join_words([*profile.lint_tools, profile.test_tool]),
        "orm": framework.orm,
        "migrations": framework.migrations,
        "mobile_platforms": join_words(platforms),
        "app_stores": join_words([p.store for p in phones]),
        "beta_channels": join_words([p.beta for p in phones]),
        "push_services": join_words([p.push for p in phones]),
        "developer_programs": join_words([p.program for p in phones]),
        "os_support": join_words([_os_support(p, text) for p in phones]),
        "privacy_forms": join_words([p.privacy for p in phones]),
        "mobile_build_tool": toolkit.build_tool,
        "ui_test_tool": toolkit.ui_test_tool,
        "mobile_reason": toolkit.reason,
        "mobile_trade_off": toolkit.trade_off,
    }
