"""Reads stop at their limit while reading: at most one byte past it, whatever the source."""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from missionctl.bounded_reads import CHUNK_BYTES, TooLarge, read_file, read_stream
from missionctl.errors import ValidationFailed
from tests.support.filesystems import endless_fifo as writing_fifo


class Endless(io.RawIOBase):
    """A stream that never ends (like ``/dev/zero``), counting what was asked of it."""

    def __init__(self) -> None:
        self.given = 0
        self.largest_ask = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        assert size >= 0, "an endless stream read whole never returns"
        self.largest_ask = max(self.largest_ask, size)
        self.given += size
        return b"x" * size


def test_a_stream_of_exactly_the_limit_is_read_whole() -> None:
    data = bytes(range(256)) * 1000
    assert read_stream(io.BytesIO(data), limit=len(data), source="s", fix="f") == data


def test_an_empty_stream_is_empty_even_at_limit_zero() -> None:
    assert read_stream(io.BytesIO(b""), limit=0, source="s", fix="f") == b""


def test_one_byte_over_is_refused_naming_the_source_the_limit_and_the_fix() -> None:
    with pytest.raises(TooLarge) as refused:
        read_stream(
            io.BytesIO(b"x" * 11), limit=10, source="flow.yaml", fix="split it", field="definition"
        )
    assert refused.value.message == "definition: flow.yaml is larger than 10 bytes; split it"
    assert (refused.value.source, refused.value.limit) == ("flow.yaml", 10)
    # Every adapter reports it as invalid input; readers whose contract is ValueError too.
    assert isinstance(refused.value, ValidationFailed)
    assert isinstance(refused.value, ValueError)


def test_an_endless_stream_is_read_one_byte_past_the_limit_in_chunks() -> None:
    endless = Endless()
    limit = 3 * CHUNK_BYTES + 17
    with pytest.raises(TooLarge):
        read_stream(endless, limit=limit, source="/dev/zero", fix="f")
    assert endless.given == limit + 1
    assert endless.largest_ask == CHUNK_BYTES


def test_dev_zero_is_refused_at_the_limit() -> None:
    with pytest.raises(TooLarge, match=r"^/dev/zero is larger than 1000000 bytes; f$"):
        read_file(Path("/dev/zero"), limit=1_000_000, fix="f")


def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_not(tmp_path: Path) -> None:
    at_limit = tmp_path / "at.bin"
    at_limit.write_bytes(b"a" * 1000)
    assert read_file(at_limit, limit=1000, fix="f") == b"a" * 1000
    over = tmp_path / "over.bin"
    over.write_bytes(b"a" * 1001)
    with pytest.raises(TooLarge, match=rf"^{over} is larger than 1000 bytes; f$"):
        read_file(over, limit=1000, fix="f")


def test_the_source_may_be_named_otherwise(tmp_path: Path) -> None:
    over = tmp_path / "over.bin"
    over.write_bytes(b"ab")
    with pytest.raises(TooLarge, match=r"^the key file is larger than 1 bytes"):
        read_file(over, limit=1, fix="f", source="the key file")


@pytest.fixture
def endless_fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO whose writer writes until its reader goes away."""
    with writing_fifo(tmp_path / "fifo", b"y\n" * 4096) as fifo:
        yield fifo


def test_a_fifo_that_never_ends_is_refused(endless_fifo: Path) -> None:
    with pytest.raises(TooLarge, match=r"is larger than 100000 bytes"):
        read_file(endless_fifo, limit=100_000, fix="f")


def test_a_directory_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        read_file(tmp_path, limit=10, fix="f")
