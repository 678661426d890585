"""`missionctl runs receipt RUN -o FILE`, then `missionctl verify receipt` on what it wrote."""

import asyncio
import uuid
from pathlib import Path
from typing import Any

from missionctl.services import open_context
from missionctl.settings import get_settings
from tests.api.test_receipts_api import finished_run


def _finished_run() -> uuid.UUID:
    async def go() -> uuid.UUID:
        async with open_context(get_settings()) as ctx:
            return await finished_run(ctx)

    return asyncio.run(go())


def test_a_receipt_written_to_a_file_verifies_with_the_printed_public_key(
    cli: Any, tmp_path: Path
) -> None:
    run_id = _finished_run()
    receipt, key = tmp_path / "receipt.json", tmp_path / "key.pem"
    written = cli("runs", "receipt", str(run_id)[:13], "-o", str(receipt))
    assert written.exit_code == 0, written.output
    assert written.stdout.startswith("wrote ")
    key.write_text(cli("audit", "public-key").stdout)

    checked = cli("verify", "receipt", str(receipt), "--public-key", str(key))
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith(f"OK run {run_id}")

    again = cli("runs", "receipt", str(run_id), "-o", str(receipt))
    assert again.exit_code == 2 and "exists; add --force" in again.output
    printed = cli("runs", "receipt", str(run_id))
    assert printed.exit_code == 0 and '"format": "missionctl-run-receipt/1"' in printed.stdout


def test_a_receipt_of_no_run_and_a_missing_file(cli: Any, tmp_path: Path) -> None:
    missing = cli("runs", "receipt", str(uuid.uuid4()))
    assert missing.exit_code == 1, missing.output
    key = tmp_path / "key.pem"
    key.write_text(cli("audit", "public-key").stdout)
    absent = cli("verify", "receipt", str(tmp_path / "nope.json"), "--public-key", str(key))
    assert absent.exit_code == 2
    assert "nope.json" in absent.output and "Traceback" not in absent.output
