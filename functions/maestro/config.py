"""MaestroConfig: the options of one weighting run, their defaults and their validation.

Every rule a config must satisfy lives here, and every failure names the field it is about, so a
caller (the CLI, the callable, a hand-edited Firestore document) can say exactly what is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any, Final

from .methods import AllocatorMethod, ReturnBasis, ReturnTransform, ScoreMethod

DEFAULT_AGENT_IDS: Final = ("WhaleFlowAgent", "SentimentAgent", "GammaScalper", "SectorRotation")
DEFAULT_LOOKBACK_TRADES: Final = 100
DEFAULT_RISK_FREE_RATE_ANNUAL: Final = Decimal("0.04")
DEFAULT_MIN_FLOOR_WEIGHT: Final = Decimal("0.05")
DEFAULT_ENFORCE_PERFORMANCE: Final = False

MIN_LOOKBACK_TRADES: Final = 2
MAX_LOOKBACK_TRADES: Final = 1000
# Bounds that keep one run (a query per agent) and one weights document reasonably small.
MAX_AGENTS: Final = 256
MAX_AGENT_ID_LENGTH: Final = 128
# Tighter bounds for a run of the Cloud Functions (check_run_size), which must fit their deploy
# defaults (256 MB, 60 s). Measured on the emulator (docs/performance.md, "Scale"): a rebuild
# of 32,000 trades takes 15 s at 32 agents, 23 s at 64, 40 s at 128 (and once, with the
# machine busy, more than 60 s) and more than 60 s at 256 (a query per agent); the function's
# process peaks at 123 MiB (about 76 MiB + 1.5 KB a trade). The offline engine (the CLI) has
# no such limit beyond MAX_AGENTS x lookback.
MAX_RUN_AGENTS: Final = 64
MAX_RUN_TRADES: Final = 32_000  # agents x lookback_trades
# Weights are quantised to this many decimal places; a finer floor could not be honoured exactly.
WEIGHT_DECIMAL_PLACES: Final = 28

FIELD_NAMES: Final = (
    "agent_ids",
    "lookback_trades",
    "risk_free_rate",
    "min_floor_weight",
    "enforce_performance",
    # engine v2 (all optional; their defaults reproduce the first version exactly)
    "return_transform",
    "return_basis",
    "score",
    "half_life_trades",
    "min_confidence",
    "drawdown_penalty",
    "temperature",
    "max_weight",
    "kelly_scale",
    "analysis_lookbacks",
    "allocator",
    "target_volatility",
    "max_exposure",
)
DEFAULT_TEMPERATURE: Final = Decimal(1)
DEFAULT_KELLY_SCALE: Final = Decimal("0.5")
DEFAULT_MAX_EXPOSURE: Final = Decimal(1)
MAX_ANALYSIS_LOOKBACKS: Final = 4
# The magnitudes a decimal option may take (a weight has 28 decimal places).
OPTION_MIN_EXPONENT: Final = -28
OPTION_MAX_EXPONENT: Final = 8


class ConfigError(ValueError):
    """A config value is invalid. `field` names the offending option."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class MaestroConfig:
    """Options of one weighting run. Construct through `MaestroConfig.from_mapping` or directly;
    both validate.

    risk_free_rate is annual and a fraction (0.04 means 4 % a year), unlike returns, which are
    percentages per trade.
    """

    agent_ids: tuple[str, ...] = DEFAULT_AGENT_IDS
    lookback_trades: int = DEFAULT_LOOKBACK_TRADES
    risk_free_rate: Decimal = DEFAULT_RISK_FREE_RATE_ANNUAL
    min_floor_weight: Decimal = DEFAULT_MIN_FLOOR_WEIGHT
    enforce_performance: bool = DEFAULT_ENFORCE_PERFORMANCE
    return_transform: ReturnTransform = ReturnTransform.SIMPLE
    return_basis: ReturnBasis = ReturnBasis.NOTIONAL
    score: ScoreMethod = ScoreMethod.SHARPE
    half_life_trades: int | None = None
    min_confidence: Decimal | None = None
    drawdown_penalty: Decimal = Decimal(0)
    temperature: Decimal = DEFAULT_TEMPERATURE
    max_weight: Decimal | None = None
    kelly_scale: Decimal = DEFAULT_KELLY_SCALE
    analysis_lookbacks: tuple[int, ...] = ()
    allocator: AllocatorMethod = AllocatorMethod.SOFTMAX
    target_volatility: Decimal | None = None  # annual, a fraction (0.1 is 10 % a year)
    max_exposure: Decimal = DEFAULT_MAX_EXPOSURE

    def __post_init__(self) -> None:
        for name in _DECIMAL_OPTIONS:  # first: the checks below print and multiply them
            _check_magnitude(name, getattr(self, name))
        _check_agent_ids(self.agent_ids)
        _check_lookback(self.lookback_trades)
        _check_risk_free_rate(self.risk_free_rate)
        _check_floor(self.min_floor_weight, len(self.agent_ids))
        if not isinstance(self.enforce_performance, bool):
            raise ConfigError("enforce_performance", "must be true or false")
        _check_methods(self)

    @classmethod
    def from_mapping(cls, raw: object) -> MaestroConfig:
        """Build a config from a JSON-like object; missing keys take the defaults, unknown keys
        are refused (a misspelt option must not be silently ignored)."""
        if not isinstance(raw, Mapping):
            raise ConfigError("config", "must be an object of option names to values")
        unknown = sorted(str(key) for key in raw if key not in FIELD_NAMES)
        if unknown:
            raise ConfigError(unknown[0], f"unknown option (known: {', '.join(FIELD_NAMES)})")
        values: dict[str, Any] = {}
        if "agent_ids" in raw:
            values["agent_ids"] = _parse_agent_ids(raw["agent_ids"])
        if "lookback_trades" in raw:
            values["lookback_trades"] = _parse_int("lookback_trades", raw["lookback_trades"])
        if "risk_free_rate" in raw:
            values["risk_free_rate"] = parse_decimal_option("risk_free_rate", raw["risk_free_rate"])
        if "min_floor_weight" in raw:
            values["min_floor_weight"] = parse_decimal_option(
                "min_floor_weight", raw["min_floor_weight"]
            )
        if "enforce_performance" in raw:
            values["enforce_performance"] = raw["enforce_performance"]
        values.update(_parse_method_options(raw))
        return cls(**values)

    def to_json_dict(self) -> dict[str, Any]:
        """The config as JSON, decimals as strings so that nothing is lost on the way. Engine
        v2's options appear only when they differ from their defaults, so that a config that
        sets none has the first version's JSON exactly."""
        payload: dict[str, Any] = {
            "agent_ids": list(self.agent_ids),
            "lookback_trades": self.lookback_trades,
            "risk_free_rate": decimal_to_str(self.risk_free_rate),
            "min_floor_weight": decimal_to_str(self.min_floor_weight),
            "enforce_performance": self.enforce_performance,
        }
        defaults = _METHOD_DEFAULTS
        for name, default in defaults.items():
            value = getattr(self, name)
            if value != default:
                payload[name] = _json_option(value)
        return payload

    @property
    def uses_defaults(self) -> bool:
        """Whether every engine v2 option is at its default (the first version's engine)."""
        return all(getattr(self, name) == default for name, default in _METHOD_DEFAULTS.items())


_METHOD_DEFAULTS: Final[dict[str, object]] = {
    "return_transform": ReturnTransform.SIMPLE,
    "return_basis": ReturnBasis.NOTIONAL,
    "score": ScoreMethod.SHARPE,
    "half_life_trades": None,
    "min_confidence": None,
    "drawdown_penalty": Decimal(0),
    "temperature": DEFAULT_TEMPERATURE,
    "max_weight": None,
    "kelly_scale": DEFAULT_KELLY_SCALE,
    "analysis_lookbacks": (),
    "allocator": AllocatorMethod.SOFTMAX,
    "target_volatility": None,
    "max_exposure": DEFAULT_MAX_EXPOSURE,
}
_DECIMAL_OPTIONS: Final = (
    "risk_free_rate",
    "min_floor_weight",
    "min_confidence",
    "drawdown_penalty",
    "temperature",
    "max_weight",
    "kelly_scale",
    "target_volatility",
    "max_exposure",
)
_ENUM_OPTIONS: Final = {
    "return_transform": ReturnTransform,
    "return_basis": ReturnBasis,
    "score": ScoreMethod,
    "allocator": AllocatorMethod,
}


def _json_option(value: object) -> object:
    if isinstance(value, Decimal):
        return decimal_to_str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _parse_method_options(raw: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, kind in _ENUM_OPTIONS.items():
        if name in raw:
            # isinstance first: a list or an object is unhashable and cannot be looked up.
            given = raw[name]
            if not isinstance(given, str) or given not in {member.value for member in kind}:
                allowed = ", ".join(member.value for member in kind)
                raise ConfigError(name, f"must be one of {allowed}, got {given!r}")
            values[name] = kind(given)
    for name in ("half_life_trades",):
        if name in raw and raw[name] is not None:
            values[name] = _parse_int(name, raw[name])
    if "max_exposure" in raw and raw.get("target_volatility") is None:
        raise ConfigError("max_exposure", "needs a target_volatility")
    for name in ("min_confidence", "max_weight", "target_volatility"):
        if name in raw and raw[name] is not None:
            values[name] = parse_decimal_option(name, raw[name])
    for name in ("drawdown_penalty", "temperature", "kelly_scale", "max_exposure"):
        if name in raw:
            values[name] = parse_decimal_option(name, raw[name])
    if "analysis_lookbacks" in raw:
        lookbacks = raw["analysis_lookbacks"]
        if isinstance(lookbacks, str) or not isinstance(lookbacks, list | tuple):
            raise ConfigError("analysis_lookbacks", "must be a list of integers")
        values["analysis_lookbacks"] = tuple(
            _parse_int("analysis_lookbacks", item) for item in lookbacks
        )
    return values


def _check_methods(config: MaestroConfig) -> None:
    """The rules of engine v2's options (each error names its field)."""
    for name, kind in _ENUM_OPTIONS.items():
        if not isinstance(getattr(config, name), kind):
            raise ConfigError(name, f"must be one of {', '.join(m.value for m in kind)}")
    half_life = config.half_life_trades
    if half_life is not None and (isinstance(half_life, bool) or not isinstance(half_life, int)):
        raise ConfigError("half_life_trades", "must be an integer or null")
    if half_life is not None and half_life < 1:
        raise ConfigError("half_life_trades", f"must be at least 1, got {half_life}")
    if config.min_confidence is not None:
        _check_open_unit("min_confidence", config.min_confidence, allow_one=False)
    _check_non_negative("drawdown_penalty", config.drawdown_penalty)
    _check_positive("temperature", config.temperature)
    _check_open_unit("kelly_scale", config.kelly_scale, allow_one=True)
    _check_max_weight(config)
    _check_analysis_lookbacks(config.analysis_lookbacks, config.lookback_trades)
    if config.target_volatility is not None:
        _check_positive("target_volatility", config.target_volatility)
    _check_positive("max_exposure", config.max_exposure)
    if config.target_volatility is None and config.max_exposure != DEFAULT_MAX_EXPOSURE:
        raise ConfigError("max_exposure", "needs a target_volatility")


def _check_open_unit(name: str, value: object, *, allow_one: bool) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ConfigError(name, "must be a finite decimal number")
    upper_ok = value <= 1 if allow_one else value < 1
    if not (value > 0 and upper_ok):
        bound = "(0, 1]" if allow_one else "(0, 1)"
        raise ConfigError(name, f"must be in {bound}, got {decimal_to_str(value)}")


def _check_non_negative(name: str, value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ConfigError(name, f"must be a decimal >= 0, got {value!r}")


def _check_positive(name: str, value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ConfigError(name, f"must be a decimal > 0, got {value!r}")


def _check_max_weight(config: MaestroConfig) -> None:
    cap = config.max_weight
    if cap is None:
        return
    _check_open_unit("max_weight", cap, allow_one=True)
    assert isinstance(cap, Decimal)
    if cap < config.min_floor_weight:
        raise ConfigError(
            "max_weight",
            f"{decimal_to_str(cap)} is below min_floor_weight "
            f"{decimal_to_str(config.min_floor_weight)}",
        )
    with localcontext(prec=200):  # exact, as for the floor
        if cap * len(config.agent_ids) < 1:
            raise ConfigError(
                "max_weight",
                f"{decimal_to_str(cap)} x {len(config.agent_ids)} agents is less than 1: the "
                "weights could not add up to 1",
            )
        if cap.scaleb(WEIGHT_DECIMAL_PLACES) % 1 != 0:
            raise ConfigError(
                "max_weight", f"must have at most {WEIGHT_DECIMAL_PLACES} decimal places"
            )


def _check_analysis_lookbacks(lookbacks: object, lookback_trades: int) -> None:
    if not isinstance(lookbacks, tuple):
        raise ConfigError("analysis_lookbacks", "must be a list of integers")
    if len(lookbacks) > MAX_ANALYSIS_LOOKBACKS:
        raise ConfigError(
            "analysis_lookbacks", f"at most {MAX_ANALYSIS_LOOKBACKS}, got {len(lookbacks)}"
        )
    if len(set(lookbacks)) != len(lookbacks):
        raise ConfigError("analysis_lookbacks", "must not repeat a lookback")
    for lookback in lookbacks:
        if isinstance(lookback, bool) or not isinstance(lookback, int):
            raise ConfigError("analysis_lookbacks", "must be a list of integers")
        if not 2 <= lookback <= lookback_trades - 1:
            raise ConfigError(
                "analysis_lookbacks",
                f"each from 2 to lookback_trades - 1 ({lookback_trades - 1}), got {lookback}",
            )


def decimal_to_str(value: Decimal) -> str:
    """Plain positional notation (no exponent), trailing zeros dropped: '0.05', '12', '-0.5'."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def parse_decimal_option(field: str, value: object) -> Decimal:
    """A decimal option given as a string or a number. A float goes through its shortest repr
    (0.1 -> Decimal('0.1')), never its binary expansion."""
    if isinstance(value, bool):
        raise ConfigError(field, "must be a decimal number, not a boolean")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(field, "must be a finite decimal number")
        result = Decimal(repr(value))
    elif isinstance(value, str):
        if len(value) > 64:
            raise ConfigError(field, "must be a decimal number of at most 64 characters")
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ConfigError(field, f"must be a decimal number, got {value!r}") from None
    else:
        raise ConfigError(field, f"must be a decimal number, got {type(value).__name__}")
    if not result.is_finite():
        raise ConfigError(field, "must be a finite decimal number")
    if result.is_zero():
        return Decimal(0)  # "0E-999999" would print as a million zeros
    _check_magnitude(field, result)
    return result


def _check_magnitude(field: str, value: object) -> None:
    """A short text can hold a huge exponent: "1e999999999" printed in plain digits (stored
    configs and error messages do) is a gigabyte, and it overflows the checks' products."""
    if (
        isinstance(value, Decimal)
        and value.is_finite()
        and not value.is_zero()
        and not OPTION_MIN_EXPONENT <= value.adjusted() <= OPTION_MAX_EXPONENT
    ):
        raise ConfigError(
            field,
            f"must be 0 or between 1e{OPTION_MIN_EXPONENT} and "
            f"1e{OPTION_MAX_EXPONENT + 1} in magnitude",
        )


def _parse_int(field: str, value: object) -> int:
    # JSON has one number type: accept 100 and 100.0, refuse 100.5, booleans and strings.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(field, f"must be an integer, got {type(value).__name__}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ConfigError(field, f"must be an integer, got {value!r}")
        return int(value)
    return value


def _parse_agent_ids(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ConfigError("agent_ids", "must be a list of agent id strings")
    return tuple(value)


def _check_agent_ids(agent_ids: object) -> None:
    if not isinstance(agent_ids, tuple) or not agent_ids:
        raise ConfigError("agent_ids", "must be a non-empty list of agent id strings")
    if len(agent_ids) > MAX_AGENTS:
        raise ConfigError("agent_ids", f"at most {MAX_AGENTS} agents, got {len(agent_ids)}")
    seen: set[str] = set()
    for position, agent_id in enumerate(agent_ids):
        if not isinstance(agent_id, str) or not agent_id.strip():
            raise ConfigError("agent_ids", f"entry {position} must be a non-empty string")
        if len(agent_id) > MAX_AGENT_ID_LENGTH:
            raise ConfigError(
                "agent_ids", f"entry {position} is longer than {MAX_AGENT_ID_LENGTH} characters"
            )
        # Firestore reserves field names of the form __name__; agent ids become map keys.
        if agent_id.startswith("__") and agent_id.endswith("__"):
            raise ConfigError("agent_ids", f"entry {position} ({agent_id!r}) is a reserved name")
        if agent_id in seen:
            raise ConfigError("agent_ids", f"duplicate agent id {agent_id!r}")
        seen.add(agent_id)


def _check_lookback(lookback: object) -> None:
    if isinstance(lookback, bool) or not isinstance(lookback, int):
        raise ConfigError("lookback_trades", "must be an integer")
    if not MIN_LOOKBACK_TRADES <= lookback <= MAX_LOOKBACK_TRADES:
        raise ConfigError(
            "lookback_trades",
            f"must be from {MIN_LOOKBACK_TRADES} to {MAX_LOOKBACK_TRADES}, got {lookback}",
        )


def check_run_size(config: MaestroConfig, max_run_trades: int = MAX_RUN_TRADES) -> MaestroConfig:
    """The config, if a Cloud Functions run can afford it (MAX_RUN_AGENTS, and at most
    `max_run_trades` journal documents: the MAESTRO_MAX_RUN_TRADES param); ConfigError naming
    the field otherwise."""
    agent_count, lookback = len(config.agent_ids), config.lookback_trades
    if agent_count > MAX_RUN_AGENTS:
        raise ConfigError(
            "agent_ids", f"at most {MAX_RUN_AGENTS} agents in the functions, got {agent_count}"
        )
    if agent_count * lookback > max_run_trades:
        raise ConfigError(
            "lookback_trades",
            f"{agent_count} agents (agent_ids) x {lookback} trades is "
            f"{agent_count * lookback} trades per run, more than the {max_run_trades} a "
            "run may read (MAESTRO_MAX_RUN_TRADES): fewer agent_ids or a shorter "
            "lookback_trades",
        )
    return config


def _check_risk_free_rate(rate: object) -> None:
    if not isinstance(rate, Decimal) or not rate.is_finite():
        raise ConfigError("risk_free_rate", "must be a finite decimal number")
    if not Decimal(-1) < rate < Decimal(1):
        raise ConfigError(
            "risk_free_rate",
            f"must be an annual fraction strictly between -1 and 1, got {decimal_to_str(rate)}",
        )


def _check_floor(floor: object, agent_count: int) -> None:
    if not isinstance(floor, Decimal) or not floor.is_finite():
        raise ConfigError("min_floor_weight", "must be a finite decimal number")
    if floor < 0:
        raise ConfigError("min_floor_weight", f"must be >= 0, got {decimal_to_str(floor)}")
    # Exact arithmetic: the default 28-digit context could round 0.25000...01 x 4 down to 1.
    with localcontext(prec=200):
        if floor * agent_count > 1:
            raise ConfigError(
                "min_floor_weight",
                f"{decimal_to_str(floor)} x {agent_count} agents exceeds 1",
            )
        if floor.scaleb(WEIGHT_DECIMAL_PLACES) % 1 != 0:
            raise ConfigError(
                "min_floor_weight", f"must have at most {WEIGHT_DECIMAL_PLACES} decimal places"
            )
