"""A plain implementation of the first version's weighting, with no validation at all: what
the CLI's whole process is measured against (bench/cli.py). It trusts every row: amounts are
decimal strings, closed_at an ISO-8601 string in UTC, capital positive. Never used by Maestro.

Usage: python bench/plain_engine.py JOURNAL.json CONFIG.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from decimal import Decimal, localcontext


def main() -> None:
    rows = json.loads(open(sys.argv[1], encoding="utf-8").read())  # noqa: SIM115
    config = json.loads(open(sys.argv[2], encoding="utf-8").read())  # noqa: SIM115
    agents = config["agent_ids"]
    lookback = config["lookback_trades"]
    floor = Decimal(config.get("min_floor_weight", "0.05"))
    rf = Decimal(config.get("risk_free_rate", "0.04")) / 252 * 100
    by_agent: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_agent[row["agent_id"]].append(row)
    with localcontext(prec=50):
        sharpes = {}
        for agent in agents:
            trades = sorted(by_agent[agent], key=lambda r: r["closed_at"], reverse=True)[:lookback]
            returns = [
                Decimal(r["realized_pnl"])
                * 100
                / (Decimal(r["entry_price"]) * abs(Decimal(r["quantity"])))
                for r in trades
            ]
            mean = sum(returns, Decimal(0)) / len(returns)
            std = (sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)).sqrt()
            sharpes[agent] = (mean - rf) / std
        performing = {a: s for a, s in sharpes.items() if s > 0}
        top = max(performing.values())
        exps = {a: (s - top).exp() for a, s in performing.items()}
        budget = 1 - floor * (len(agents) - len(performing))
        total = sum(exps.values())
        weights = {a: (budget * exps[a] / total if a in exps else floor) for a in agents}
    print(json.dumps({"weights": {a: str(w) for a, w in weights.items()}}))


if __name__ == "__main__":
    main()
