"""The stacks the local planner speaks of: ``stacks.yaml`` beside this module, read once.

A :class:`StackProfile` holds the words a plan needs for one language: its build tool,
package manager and registry, test, lint and benchmark tools, where its code and tests live,
and how it is released. :class:`MobileFramework`, :class:`Platform` and
:class:`WebFramework` say what a mobile toolkit, a phone platform and a web framework bring.
:func:`load_stacks` reads them all into a :class:`StackTable` (:data:`STACKS`); a wrong
value, an unknown
field, a file-name pattern with an unknown field, a path without its trailing ``/``, or a
reference to a framework or platform the file does not define is a
:class:`~missionctl.schemas.datafiles.DataFileError` naming the field.

Which profile a plan uses, and the template placeholders it fills, are decided by
:mod:`missionctl.planning.stack_choice`; the placeholders are listed in
:data:`STACK_PLACEHOLDERS` and documented in :mod:`missionctl.planning.kinds`.
"""

import re
import string
from collections.abc import Iterator, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter
from pydantic.dataclasses import dataclass

from missionctl.planning.kinds.templates import DecisionTemplate
from missionctl.schemas.datafiles import data_file_error, read_data_file

__all__ = [
    "FEATURE_PLACEHOLDERS",
    "MOBILE_PLACEHOLDERS",
    "PROFILE_PLACEHOLDERS",
    "STACKS",
    "STACKS_FILE",
    "STACK_PLACEHOLDERS",
    "MobileFramework",
    "Platform",
    "PlatformName",
    "StackProfile",
    "StackTable",
    "WebFramework",
    "load_stacks",
]

STACKS_FILE = "stacks.yaml"

PlatformName = Literal["iOS", "Android"]

_STRICT = ConfigDict(extra="forbid")
_Text = Annotated[str, Field(min_length=1)]
_Dir = Annotated[str, Field(pattern=r"/$")]
# The fields a file-name pattern may use: the feature's slug in three spellings.
_NAME_FIELDS = frozenset({"slug", "slug_", "Slug"})
# Fields that start a sentence or a list item in a plan.
_SENTENCES = (
    "name_step",
    "typed_api",
    "dependency_advice",
    "language_strength",
    "language_trade_off",
)


@dataclass(frozen=True, slots=True, config=_STRICT)
class StackProfile:
    """The words a plan needs for one language (see ``stacks.yaml`` for each field's role).

    ``library_dir`` and ``test_layout`` default to ``source_dir`` and ``test_dir``;
    ``mobile`` is the mobile client a plan in the language builds: the language's own
    toolkit, or each platform's native one when the language has none.
    """

    build_tool: _Text
    package_manager: _Text
    registry: _Text
    package_artifact: _Text
    manifest: _Text
    test_tool: _Text
    property_tool: _Text
    bench_tool: _Text
    e2e_tool: _Text
    lint_tools: Annotated[tuple[_Text, ...], Field(min_length=1)]
    source_dir: _Dir
    source_name: _Text
    cli_entry: _Text
    library_entry: _Text
    test_dir: _Dir
    test_name: _Text
    fixtures_dir: _Dir
    portable_paths: _Text
    binaries: _Text
    cli_channel: _Text
    dependency_advice: _Text
    optional_dep: _Text
    optional_deps: _Text
    typed_api: _Text
    install: _Text
    name_step: _Text
    runtime_version: _Text
    language_strength: _Text
    language_trade_off: _Text
    web_framework: _Text
    operator_framework: _Text
    desktop_toolkit: _Text
    mobile: _Text
    embedded_runtime: _Text = "an RTOS"
    library_dir: _Dir | None = None
    test_layout: _Text | None = None


@dataclass(frozen=True, slots=True, config=_STRICT)
class WebFramework:
    """The data access a web framework comes with: its ORM and its migrations tool."""

    orm: _Text
    migrations: _Text


@dataclass(frozen=True, slots=True, config=_STRICT)
class MobileFramework:
    """A mobile toolkit: its platforms, build and UI test tools, why and at what cost."""

    platforms: Annotated[tuple[PlatformName, ...], Field(min_length=1)]
    build_tool: _Text
    ui_test_tool: _Text
    reason: _Text
    trade_off: _Text


@dataclass(frozen=True, slots=True, config=_STRICT)
class Platform:
    """A phone platform: how a mission names it and what shipping an app for it takes."""

    pattern: _Text
    native: _Text
    store: _Text
    beta: _Text
    push: _Text
    program: _Text
    support: _Text
    privacy: _Text
    version_pattern: _Text
    """A regex whose group is the lowest version the mission names ("Android 9" → "9")."""
    stated_support: _Text
    """``support`` when the mission names a version: ``{version}`` is filled in."""


@dataclass(frozen=True, slots=True, config=_STRICT)
class StackTable:
    """``stacks.yaml``: the stack decision, the profiles by language, and what they refer to."""

    decision: DecisionTemplate
    profiles: Mapping[str, StackProfile]
    frameworks: Mapping[str, WebFramework]
    mobile_frameworks: Mapping[str, MobileFramework]
    platforms: Mapping[PlatformName, Platform]


PROFILE_PLACEHOLDERS: frozenset[str] = frozenset(
    {*StackProfile.__dataclass_fields__, "a_package_artifact", "ci_checks", "orm", "migrations"}
    - {"source_name", "test_name", "mobile", "web_framework"}
)
"""Placeholders filled from the profile of the plan's language (``mobile`` and
``web_framework`` are technology slots, filled like the others)."""

MOBILE_PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "mobile_platforms",
        "mobile_build_tool",
        "ui_test_tool",
        "mobile_reason",
        "mobile_trade_off",
        "app_stores",
        "beta_channels",
        "push_services",
        "developer_programs",
        "os_support",
        "privacy_forms",
    }
)
"""Placeholders filled from the plan's mobile toolkit and the platforms it builds for."""

STACK_PLACEHOLDERS: frozenset[str] = PROFILE_PLACEHOLDERS | MOBILE_PLACEHOLDERS
"""Every placeholder the stack fills in every template."""

FEATURE_PLACEHOLDERS: frozenset[str] = frozenset(
    {"test_file", "e2e_test_file", "contract_test_file", "source_file"}
)
"""Placeholders the stack fills in feature templates only: files named after the feature."""

_TABLE = TypeAdapter(StackTable)


def load_stacks(directory: Traversable) -> StackTable:
    """Read ``stacks.yaml`` from ``directory``.

    Raises:
        DataFileError: the file cannot be read or validated, or breaks a rule of
            :func:`_table_problems`; the message names the file, the field and the fix.
    """
    file = directory / STACKS_FILE
    table = read_data_file(file, _TABLE)
    if problems := list(_table_problems(table)):
        raise data_file_error(file, problems)
    return table


def _table_problems(table: StackTable) -> Iterator[str]:
    """References and patterns of the table that do not hold.

    The decision is about the language; file-name patterns use only ``{slug}``, ``{slug_}``
    and ``{Slug}``; sentence fields start with a capital and end without a full stop; each
    profile's web framework and mobile toolkit, and each platform's native toolkit, are
    defined; platform patterns compile.
    """
    if table.decision.slot != "language":
        yield f"decision.slot: {table.decision.slot!r} must be 'language'"
    for language, profile in table.profiles.items():
        where = f"profiles.{language}"
        for name in ("source_name", "test_name"):
            yield from _pattern_problems(f"{where}.{name}", getattr(profile, name))
        for name in _SENTENCES:
            text: str = getattr(profile, name)
            if not text[0].isupper() or text.endswith("."):
                yield f"{where}.{name}: start with a capital letter and end without a full stop"
        if profile.web_framework not in table.frameworks:
            yield f"{where}.web_framework: {profile.web_framework!r} is not under frameworks"
        if profile.mobile not in table.mobile_frameworks:
            yield f"{where}.mobile: {profile.mobile!r} is not under mobile_frameworks"
    for name, platform in table.platforms.items():
        if platform.native not in table.mobile_frameworks:
            yield f"platforms.{name}.native: {platform.native!r} is not under mobile_frameworks"
        try:
            re.compile(platform.pattern)
        except re.error as exc:
            yield f"platforms.{name}.pattern: not a regular expression ({exc})"


def _pattern_problems(where: str, pattern: str) -> Iterator[str]:
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(pattern) if field}
    except ValueError as exc:
        yield f"{where}: {pattern!r} is not a file-name pattern ({exc})"
        return
    if unknown := fields - _NAME_FIELDS:
        yield f"{where}: unknown fields {sorted(unknown)}; use {{slug}}, {{slug_}} or {{Slug}}"
    if not fields:
        yield f"{where}: name the feature with {{slug}}, {{slug_}} or {{Slug}}"


STACKS: StackTable = load_stacks(files(__name__))
"""The stack decision, the profiles by language, and the frameworks, toolkits and platforms
they name."""
