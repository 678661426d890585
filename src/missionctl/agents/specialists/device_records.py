"""The data model of firmware: fixed-size records in flash, and what one message carries.

A device keeps no tables: it appends fixed-size records to a ring buffer in flash and sends
them over its radio link. Each entity the goal implies becomes a record layout in the
language of the plan (a C struct, or a Rust ``#[repr(C)]`` struct), with field types sized
for the device (a timestamp is seconds since the epoch in 32 bits, a measured value a
fixed-point integer), a sequence number first and a CRC last. The sizes are added up and
compared with what one message of the link carries (``reading/data/radios.yaml``).
"""

from dataclasses import dataclass

from missionctl.agents.specialists.markdown import bullets, section, table
from missionctl.reading import Attribute, Entity, RadioProfile

# A field's type on the device, by its type in the reading: (C type, Rust type, bytes, note).
_DEVICE_TYPES: dict[str, tuple[str, str, int, str]] = {
    "timestamptz": ("uint32_t", "u32", 4, "seconds since 1970-01-01 UTC"),
    "date": ("uint16_t", "u16", 2, "days since 1970-01-01"),
    "numeric": ("int16_t", "i16", 2, "fixed point: hundredths of the unit"),
    "integer": ("uint16_t", "u16", 2, ""),
    "boolean": ("uint8_t", "u8", 1, ""),
    "text": ("char[16]", "[u8; 16]", 16, "zero-padded"),
}
# Fields the device never stores per record: its own identity is known to the receiving side.
_LEFT_OUT = frozenset({"id", "device_id", "created_at", "updated_at"})
_SEQ = ("seq", "uint32_t", "u32", 4, "sequence number: resend and deduplicate by it")
_CRC = ("crc", "uint16_t", "u16", 2, "CRC-16/CCITT of the bytes before it")


@dataclass(frozen=True, slots=True)
class DeviceField:
    """One field of a record: its name, C and Rust types, size in bytes and note."""

    name: str
    c_type: str
    rust_type: str
    size: int
    note: str


def record_fields(entity: Entity) -> list[DeviceField]:
    """The fields of ``entity``'s record: the sequence number, its own fields, the CRC."""
    own = [_field(a) for a in entity.attributes if a.name not in _LEFT_OUT and not a.ref]
    return [DeviceField(*_SEQ), *(f for f in own if f is not None), DeviceField(*_CRC)]


def _field(attribute: Attribute) -> DeviceField | None:
    device = _DEVICE_TYPES.get(attribute.type)
    if device is None:
        return None  # json and the like have no fixed size: kept off the device
    c_type, rust_type, size, note = device
    return DeviceField(
        attribute.name, c_type, rust_type, size, "; ".join(n for n in (attribute.note, note) if n)
    )


def write_records(entities: tuple[Entity, ...], radio: RadioProfile, language: str) -> list[str]:
    """The record layouts, their sizes against the link's message, and the storage rules."""
    lines = section(
        "Records on the device",
        [
            "The device keeps no database: each record below is appended to a ring buffer in "
            f"flash and sent over {radio.name} to {radio.peer}. There are no tables, "
            "migrations or server-side identifiers here; the receiving side adds its own."
        ],
    )
    sizes = []
    for entity in entities:
        fields = record_fields(entity)
        size = sum(f.size for f in fields)
        sizes.append((entity.name, size))
        rows = [(f.name, f"`{_type(f, language)}`", f.size, f.note or "—") for f in fields]
        lines += section(
            f"{entity.name} record ({size} bytes)",
            [
                *table(["Field", "Type", "Bytes", "Notes"], rows),
                "",
                "```" + ("rust" if language == "Rust" else "c"),
                *_declaration(entity.name, fields, language),
                "```",
            ],
            level=3,
        )
    lines += section(
        "What one message carries",
        bullets(
            [
                f"{radio.name}: {radio.payload_limit}.",
                *(f"One {name} record is {size} bytes." for name, size in sizes),
            ]
        ),
    )
    lines += section(
        "Storage and retention",
        bullets(
            [
                "Fixed-size records with a CRC, written whole: a record cut by a power loss "
                "fails its CRC and is skipped on restart.",
                "When the buffer is full the oldest records are overwritten; a record the "
                "receiving side has acknowledged (by sequence number) may go first.",
                "Writes are spread over the flash pages (wear levelling); count page erases "
                "against the flash's rated endurance over the device's lifetime.",
            ]
        ),
    )
    return lines


def _type(field: DeviceField, language: str) -> str:
    return field.rust_type if language == "Rust" else field.c_type


def _declaration(name: str, fields: list[DeviceField], language: str) -> list[str]:
    """``name``'s record as a packed struct of ``language`` (Rust, else C)."""
    words = [w for w in name.replace("-", " ").split() if w]
    if language == "Rust":
        lines = ["#[repr(C, packed)]", f"struct {''.join(w.capitalize() for w in words)}Record {{"]
        lines += [f"    {f.name}: {f.rust_type}," for f in fields]
        return [*lines, "}"]
    lines = ["typedef struct __attribute__((packed)) {"]
    for f in fields:
        base, _, count = f.c_type.partition("[")
        lines.append(f"    {base} {f.name}{'[' + count if count else ''};")
    return [*lines, f"}} {'_'.join(w.lower() for w in words)}_record_t;"]
