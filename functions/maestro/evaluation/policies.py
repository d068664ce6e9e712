"""The policies file: a JSON object of named engine configs, each with optional execution
rules outside the engine config (`rebalance_band`, `max_turnover`), plus the two baselines
every evaluation carries, `equal_weight` and `seed_default`. All policies share agent_ids."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from ..config import ConfigError, MaestroConfig, parse_decimal_option

EQUAL_WEIGHT: Final = "equal_weight"
SEED_DEFAULT: Final = "seed_default"
BASELINES: Final = (EQUAL_WEIGHT, SEED_DEFAULT)
EXECUTION_RULES: Final = ("rebalance_band", "max_turnover")
MAX_POLICIES: Final = 50  # what a person compares; the deflated Sharpe counts them all


class PolicyError(ValueError):
    """The policies file cannot be used; the message names the policy and the field."""


@dataclass(frozen=True, slots=True)
class Policy:
    """A named engine config, or none for equal_weight (1/N over the agents, at every
    rebalance), and its execution rules: keep the held weights unless some |target - held|
    strictly exceeds `rebalance_band`; move toward the target by at most `max_turnover`
    one-way turnover per rebalance."""

    name: str
    config: MaestroConfig | None
    rebalance_band: Decimal | None = None
    max_turnover: Decimal | None = None

    @property
    def baseline(self) -> bool:
        return self.name in BASELINES


def parse_policies(raw: object) -> tuple[Policy, ...]:
    """The policies in the file's order, then the baselines. Refused (PolicyError naming the
    policy): not an object of objects, a baseline redefined, an invalid engine option, an
    invalid execution rule, agent_ids that differ from the first policy's (as a set)."""
    if not isinstance(raw, Mapping):
        raise PolicyError("policies: expected a JSON object of named policies")
    if len(raw) > MAX_POLICIES:
        raise PolicyError(f"policies: at most {MAX_POLICIES}, got {len(raw)}")
    policies = []
    for name, options in raw.items():
        if name in BASELINES:
            raise PolicyError(f"policies.{name}: a baseline, added to every evaluation")
        policies.append(_policy(str(name), options))
    agent_ids = policies[0].config.agent_ids if policies and policies[0].config else None
    for policy in policies:
        assert policy.config is not None
        if agent_ids is not None and set(policy.config.agent_ids) != set(agent_ids):
            raise PolicyError(
                f"policies.{policy.name}.agent_ids: every policy must configure the same agents"
                f" as {policies[0].name} ({', '.join(agent_ids)})"
            )
    seed = MaestroConfig(agent_ids=agent_ids) if agent_ids else MaestroConfig()
    return (*policies, Policy(EQUAL_WEIGHT, None), Policy(SEED_DEFAULT, seed))


def _policy(name: str, options: object) -> Policy:
    if not isinstance(options, Mapping):
        raise PolicyError(f"policies.{name}: expected a JSON object of options")
    engine: dict[str, Any] = {k: v for k, v in options.items() if k not in EXECUTION_RULES}
    try:
        config = MaestroConfig.from_mapping(engine)
        rules = {
            rule: _fraction(rule, options[rule])
            for rule in EXECUTION_RULES
            if options.get(rule) is not None
        }
    except ConfigError as error:
        raise PolicyError(f"policies.{name}.{error}") from None
    return Policy(name, config, rules.get("rebalance_band"), rules.get("max_turnover"))


def _fraction(rule: str, value: object) -> Decimal:
    """A band or a turnover cap: a decimal in [0, 1] (a band of 0 rebalances on any change; a
    cap of 0 never moves)."""
    amount = parse_decimal_option(rule, value)
    if not 0 <= amount <= 1:
        raise ConfigError(rule, f"must be from 0 to 1, got {value}")
    return amount
