"""The spec policy file: which tasks need an approved mini-spec (YAML checked by Pydantic).

The packaged ``spec_policy.yaml`` is the default; ``MISSIONCTL_SPEC_POLICY_FILE`` names an
admin's own file of the same shape. A broken file is a ``DataFileError`` naming the file and
the field at fault, raised when the file is first read (a server or engine then refuses to
start its work rather than guard nothing). See ``domain.specs`` for what the rules mean.
"""

import functools
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from missionctl.domain.specs import RuleSet, SpecPolicy
from missionctl.schemas.datafiles import data_file_error, read_data_file

__all__ = ["DEFAULT_POLICY_FILE", "SpecPolicyFile", "load_spec_policy", "policy_from_file"]

DEFAULT_POLICY_FILE: Traversable = files(__name__.rpartition(".")[0]) / "spec_policy.yaml"

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSetFile(_Strict):
    """One rule set as written in the file."""

    name: _Text
    roles: list[_Text] = Field(default_factory=list, max_length=50)
    phrases: list[_Text] = Field(default_factory=list, max_length=500)
    paths: list[_Text] = Field(default_factory=list, max_length=500)


class SpecPolicyFile(_Strict):
    """The whole file: its rule sets."""

    rule_sets: list[RuleSetFile] = Field(min_length=1, max_length=50)


def policy_from_file(file: Traversable) -> SpecPolicy:
    """Read and check a policy file.

    Raises:
        DataFileError: not YAML, a field missing or unknown, or two rule sets with one name.
    """
    parsed = read_data_file(file, TypeAdapter(SpecPolicyFile))
    names = [rules.name for rules in parsed.rule_sets]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise data_file_error(
            file, [f"rule_sets: the name {name!r} is used twice; merge them" for name in twice]
        )
    return SpecPolicy(
        rule_sets=tuple(
            RuleSet(
                name=rules.name,
                roles=tuple(rules.roles),
                phrases=tuple(rules.phrases),
                paths=tuple(rules.paths),
            )
            for rules in parsed.rule_sets
        )
    )


@functools.cache
def load_spec_policy(path: Path | None = None) -> SpecPolicy:
    """The policy in ``path``, or the packaged one; read once per path per process.

    Raises:
        DataFileError: see :func:`policy_from_file` (a missing file too).
    """
    if path is None:
        return policy_from_file(DEFAULT_POLICY_FILE)
    if not path.is_file():
        raise data_file_error(
            path, ["the spec policy file does not exist; fix MISSIONCTL_SPEC_POLICY_FILE"]
        )
    return policy_from_file(path)
