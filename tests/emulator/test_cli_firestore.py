"""`python -m maestro weights --firestore-uid UID` against the emulator: the operator's terminal
reads a user's journal with the functions' own queries and finds the weights the trigger wrote
(tests/unit/test_cli_firestore.py covers its argument handling without Firestore)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from maestro.config import MaestroConfig

from .harness import ROOT, Suite, base_journal, seed_journal, trade


def run_cli(uid: str, *args: str) -> tuple[dict[str, Any], list[str]]:
    """The CLI as an operator runs it, in its own process (the emulator's environment
    variables, FIRESTORE_EMULATOR_HOST and GCLOUD_PROJECT, are inherited)."""
    completed = subprocess.run(
        [sys.executable, "-m", "maestro", "weights", "--firestore-uid", uid, "--json", *args],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    payload: dict[str, Any] = json.loads(completed.stdout)
    return payload, completed.stderr.splitlines()


def test_the_cli_reads_a_users_journal_as_the_functions_do(suite: Suite, tmp_path: Path) -> None:
    user = suite.create_user()
    journal = {
        **base_journal(),  # its open trade (closed_at null) is read by its query, and ignored
        "r1": trade("SectorRotation", 8, "1.50"),
        "r2": trade("SectorRotation", 9, "2.50"),
        # a string: Firestore sorts it before every timestamp, and the window holds it, rejected
        "r3": trade("SectorRotation", 10, "9") | {"closed_at": "2026-11-02T14:40:00Z"},
        "other": trade("MomentumAgentV0", 12, "5"),  # not configured: never queried
    }
    settled = seed_journal(suite, user.uid, journal)
    assert settled is not None

    payload, err = run_cli(user.uid)

    assert payload["weights"] == suite.offline_weights(user.uid)
    assert payload["weights"] == settled["weights"]
    for agent, detail in settled["agents"].items():
        assert payload["agents"][agent]["trades_used"] == detail["trades_used"], agent
        assert payload["agents"][agent]["rejection_reasons"] == detail["rejection_reasons"], agent
    assert payload["agents"]["SectorRotation"]["rejection_reasons"] == {"closed_at_invalid": 1}
    # the summary's rows are the documents the queries read: every configured agent's
    # (lookback 100), the open trade's included, MomentumAgentV0's not
    load = payload["load"]
    assert load["rows"] == len(journal) - 1
    assert load["not_configured"] == [] and load["duplicate_trade_ids"] == 0
    # (in, not first: gRPC may log a line of its own on stderr)
    assert (
        f"maestro: {len(journal) - 1} documents read, closes from 2026-11-02 to 2026-11-02" in err
    )

    # With a lookback of 2 the string takes one of SectorRotation's two slots, as the query's
    # limit gives it one: the CLI's --config reaches the query, and Firestore's order is kept.
    config = MaestroConfig(lookback_trades=2)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({"lookback_trades": 2}))
    short, _ = run_cli(user.uid, "--config", str(config_path))
    assert short["weights"] == suite.offline_weights(user.uid, config)
    assert short["agents"]["SectorRotation"]["trades_used"] == 1
    assert short["agents"]["SectorRotation"]["rejection_reasons"] == {"closed_at_invalid": 1}
    assert short["load"]["rows"] == 2 + 2 + 1 + 2  # at most 2 a query: w3 w2, s3 s2, g1, r3 r2
