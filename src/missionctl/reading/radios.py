"""The radio link a device talks over, as the mission names it (``data/radios.yaml``).

The firmware plan and the documents the specialists write for it take their link, its
microcontroller class, sync decision, risk and hardware check from :func:`radio_for`, so a
probe that "sends readings over LoRaWAN" is planned with LoRaWAN uplinks, not the default BLE
service.
"""

from collections.abc import Iterable
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from missionctl.reading.model import NamedTechnology
from missionctl.reading.vocabulary import load_data

__all__ = ["RadioProfile", "RadioRisk", "radio_for"]


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RadioRisk(_Entry):
    """The link's interoperability risk."""

    title: str
    description: str
    mitigation: str


class RadioProfile(_Entry):
    """What a device plan says about one radio link (see the file's comments)."""

    name: str
    mcu: str
    link: str
    folder: str = Field(pattern=r"^[a-z0-9-]+$")
    peer: str
    sync_choice: str
    sync_alternative: str
    risk: RadioRisk
    check: str
    next_step: str
    payload_limit: str


class _Radios(_Entry):
    radios: tuple[RadioProfile, ...] = Field(min_length=1)


@cache
def _radios() -> dict[str, RadioProfile]:
    loaded = _Radios.model_validate(load_data("radios.yaml"))
    return {radio.name: radio for radio in loaded.radios}


def radio_for(technologies: Iterable[NamedTechnology]) -> RadioProfile:
    """The profile of the first radio among ``technologies``, or the default (the first)."""
    radios = _radios()
    named = (radios.get(t.base) for t in technologies if t.category == "radio")
    return next((radio for radio in named if radio is not None), next(iter(radios.values())))
