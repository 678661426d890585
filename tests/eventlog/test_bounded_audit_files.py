"""The audit trail's small files (keys, checkpoints, retirement records) are read within a limit.

Each is under 1 KB as written; a file put in the place of one (a log, a device) is read one
byte past ``AUDIT_FILE_MAX_BYTES`` at most and reported as not one of them, naming the limit.
"""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from missionctl.eventlog.checkpoints import (
    load_signing_key,
    public_key_pem,
    read_checkpoint_files,
    read_public_keys,
    read_retiring_key,
)
from missionctl.eventlog.retirement import AUDIT_FILE_MAX_BYTES, RETIRED_SUFFIX, read_retirements

OVER = b"x" * (AUDIT_FILE_MAX_BYTES + 1)
LIMIT = f"is larger than {AUDIT_FILE_MAX_BYTES} bytes"


def test_a_signing_key_file_over_the_limit_is_refused_naming_it(tmp_path: Path) -> None:
    key = tmp_path / "audit_signing_key.pem"
    key.write_bytes(OVER)
    key.chmod(0o600)
    with pytest.raises(ValueError, match=rf"^{key} {LIMIT}; an Ed25519 key in PEM"):
        load_signing_key(key, create=False)
    with pytest.raises(ValueError, match=rf"^{key} {LIMIT}"):
        read_retiring_key(key)


def test_a_checkpoint_file_over_the_limit_is_reported_not_read(tmp_path: Path) -> None:
    (tmp_path / "000000000001.json").write_bytes(OVER)
    [found] = read_checkpoint_files(tmp_path)
    assert found.checkpoint is None
    assert found.problem is not None and LIMIT in found.problem


def test_a_retirement_record_over_the_limit_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / f"{'0' * 16}{RETIRED_SUFFIX}").write_bytes(OVER)
    retirements = read_retirements(tmp_path)
    assert retirements.by_key == {}
    [problem] = retirements.problems
    assert LIMIT in problem


def test_a_public_key_file_over_the_limit_is_skipped_like_any_non_key(tmp_path: Path) -> None:
    public = Ed25519PrivateKey.generate().public_key()
    padded = tmp_path / "trusted.pem"
    padded.write_bytes(public_key_pem(public).encode() + b"\n" + OVER)  # a key, then a log's worth
    assert read_public_keys([padded]) == {}
    exact = tmp_path / "exact.pem"
    exact.write_text(public_key_pem(public))
    assert list(read_public_keys([exact]).values()) == [public]
