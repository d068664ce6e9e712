"""The CLI's typed path for well-formed JSON journals (typed_journal) answers exactly what the
exact path answers: the whole `weights` command, run both ways on generated journals that mix
clean rows with every kind of malformed one (stdout, stderr and exit status compared byte for
byte, with and without --json), and the typed path taken on the journals it is for."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import random
import tempfile
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from maestro import cli, early_read, typed_journal
from maestro.config import MaestroConfig
from maestro.journal import ClosedAtOrder, parse_amount, select_agent_trades
from maestro.journal_file import load_journal_file
from maestro.load_summary import deduplicated
from maestro.methods import ReturnBasis
from maestro.precision import ENGINE_CONTEXT
from maestro.typed_journal import read_typed_journal, select_typed_trades

MISSING = object()  # a field left out of the row
AGENTS = ["A", "B", "C", "a ", "Z"]

# Clean: a journal of these takes the typed path for every agent (no zero capital: a
# non-positive capital sends the agent to the exact path, and would hide the checks below)
CLEAN_PNL = ["1", "2.5", "-3.25", "100", "0.01", "42", "7.000", "1e2", "-0.5", "0", "-12"]
CLEAN_QUANTITIES = ["1", "2", "-3", "10", "0.5", "7.000", "1e1", "-12"]
CLEAN_PRICES = ["100", "2.5", "0.01", "42", "7.000", "1e2", "250.75"]
CLEAN_ALLOCATED = ["1000", "50.5", "1e3", "0.25", "7"]  # "0" and "-100" are in ODD_TEXTS
# Texts parse_amount refuses or reads otherwise than a plain decimal: a typed row takes
# them, and each must end where the exact path ends (a rejection, and its reason).
ODD_TEXTS = [
    "0",  # a zero price or quantity: non_positive_capital
    "-100",  # a negative price: non_positive_capital
    "1_000",
    " 1",
    "1 ",
    "NaN",
    "-Infinity",
    "sNaN",
    "1e20",
    "1e-20",
    "0E-20",
    "0E+30",
    "9" * 65,
    "0." + "0" * 61 + "1",
    "1." + "0" * 60,
    "1." + "0" * 70,  # one, in 72 characters: refused for its length
    "1." + "0" * 48 + "15",  # 51 digits: abs() rounds it to the engine's 50
    "0" * 70 + "5",
    "1,234.5",
    "$12",
    "(5)",
    "",
    "abc",
    "\u0661\u0662",  # Arabic-Indic digits: Decimal reads them
    "1e999999999",
    # only digits, '.' and '-' (typed_journal's plain texts, or one character too long)
    "1000000000000000",  # 1e15, 16 characters: the band's top, which parse_amount takes
    "1000000000000001",  # 16 characters, out of the band
    "-100000000000000",  # 16 characters, in it
    "999999999999999",  # the largest plain text
    ".000000000000001",  # 1e-15, 16 characters: in the band
    ".0000000000000001",  # 1e-16: out of it
    ".00000000000000",  # a zero of 15 characters
    "0.000000000000000",  # a zero whose exponent is out of the band (parse_amount takes it)
    "-0",
    "-",
    ".",
    "1.2.3",
    "--5",
    "5-",
]
# Texts of digits, '.' and '-' alone, of any length: typed_journal takes a column of them at
# 15 characters or fewer without checking finiteness or the band (_PLAIN_TEXT_LENGTH)
PLAIN_ODD_TEXTS = [text for text in ODD_TEXTS if text and not text.strip("0123456789.-")]
# Values that are not text: the typed decoder refuses the file, the exact path reads it.
ODD_VALUES = [
    12,
    -(10**20),
    10**16,
    1.5,
    0.1,
    1e300,
    float("nan"),
    float("inf"),
    None,
    True,
    False,
    MISSING,
    {"value": "1"},
    ["1"],
]
# closed_at texts: read alike by both paths, or refused by fromisoformat (the file then
# takes the exact path, which rejects them)
ODD_CLOSED_TEXTS = [
    "2026-01-02T10:30:00.1234567Z",  # msgspec rounds, fromisoformat truncates
    "2026-01-02T10:30:00.9999999Z",
    "2026-01-02T10:30:00z",  # msgspec reads it, fromisoformat does not
    "2026-01-02",
    "2026-01-02 10:30:00Z",
    " 2026-01-02T10:30:00Z",
    "2026-01-02T10:30:00+05:30:10",
    "2026-02-30T00:00:00Z",
    "20260102T103000Z",
    "not a time",
    "",
]
ODD_CLOSED_VALUES = [
    None,
    MISSING,
    1_767_000_000,
    {"_seconds": 1_767_000_000, "_nanoseconds": 5},
    {"seconds": 1_767_000_000},
    ["2026-01-02T10:30:00Z"],
]
ODD_IDS = [None, MISSING, 3, "\u00e9t\u00e9"]
ODD_AGENTS = [None, 7, ["A"], MISSING]


def clean_closed_at(chance: random.Random) -> str:
    # few instants (2 days x 3 hours): ties, which the trade id breaks
    offset = chance.choice(["Z", "Z", "+00:00", "", "+05:30", "-08:00", "-00:00"])
    return f"2026-01-0{chance.randint(1, 2)}T{chance.randint(10, 12)}:30:00{offset}"


def row(chance: random.Random, odd: float, texts_only: bool, allocated: float) -> dict[str, Any]:
    """A trade row; each field odd with probability `odd` (with `texts_only`, only closed_at
    and the amounts, and only by their text: the rows stay typed); allocated_capital in it
    with probability `allocated`."""

    def field(clean: Any, texts: list[Any], values: list[Any]) -> Any:
        if chance.random() >= odd or (texts_only and not texts):
            return clean
        return chance.choice(texts if texts_only else texts + values)

    fields = {
        "trade_id": field(f"t{chance.randrange(80)}", [], ODD_IDS),  # some ids repeat
        "agent_id": field(chance.choice(AGENTS), [], ODD_AGENTS),
        "symbol": "SPY",
        "closed_at": field(clean_closed_at(chance), ODD_CLOSED_TEXTS, ODD_CLOSED_VALUES),
        "realized_pnl": field(chance.choice(CLEAN_PNL), ODD_TEXTS, ODD_VALUES),
        "entry_price": field(chance.choice(CLEAN_PRICES), ODD_TEXTS, ODD_VALUES),
        "quantity": field(chance.choice(CLEAN_QUANTITIES), ODD_TEXTS, ODD_VALUES),
    }
    if chance.random() < allocated:
        fields["allocated_capital"] = field(chance.choice(CLEAN_ALLOCATED), ODD_TEXTS, ODD_VALUES)
    if chance.random() < 0.05:
        fields["id"] = "x1"  # used only when trade_id is missing or null
    return {key: value for key, value in fields.items() if value is not MISSING}


@st.composite
def journal_texts(draw: st.DrawFn) -> str:
    """A JSON array of trade objects: clean; clean but for one amount text, in agent A's
    newest trade (each of the typed path's checks alone decides it); odd only by texts (the
    rows stay typed); or odd in any way. Now and then a row repeats a key (the later one
    counts in both readers), the text has a byte order mark, or a value is not an object.
    Drawn from one seeded Random: Hypothesis's own draws favour the simplest values (every
    id "t0", every perturbation at once), which leaves the typed path's checks untested."""
    chance = draw(st.randoms(use_true_random=True))
    kind = chance.choice(["clean", "one text", "one text", "plain", "signs", "texts", "any"])
    odd = chance.choice([0.02, 0.1, 0.3]) if kind in ("texts", "any") else 0.0
    allocated = chance.choice([0.0, 0.0, 1.0, 0.3])  # in no row, in every row, in some
    size = chance.randint(1, 60)
    journal = [row(chance, odd, kind == "texts", allocated) for _ in range(size)]
    if kind == "one text":
        field = chance.choice(["realized_pnl", "entry_price", "quantity"])
        chosen = chance.choice(journal)
        chosen.update(
            {field: chance.choice(ODD_TEXTS), "agent_id": "A", "closed_at": "2026-01-03T00:00:00Z"}
        )
    if kind == "plain":  # amounts of digits, '.' and '-' only, unsigned quantities, and one odd
        for fields in journal:
            for field in ("realized_pnl", "entry_price", "quantity"):
                if "e" in fields[field]:
                    fields[field] = "10"
            fields["quantity"] = fields["quantity"].lstrip("-")
        field = chance.choice(["realized_pnl", "entry_price", "quantity"])
        chosen = chance.choice(journal)
        chosen.update(
            {
                field: chance.choice(PLAIN_ODD_TEXTS),
                "agent_id": "A",
                "closed_at": "2026-01-03T00:00:00Z",
            }
        )
    if kind == "signs":  # two minus signs make a positive product, not a positive capital
        for fields in journal:
            fields["quantity"] = fields["quantity"].lstrip("-")
        chosen = chance.choice(journal)
        chosen.update({"entry_price": "-100", "quantity": "-" + chosen["quantity"]})
    texts = [json.dumps(fields) for fields in journal]
    if chance.random() < 0.1:
        at = chance.randrange(len(texts))
        texts[at] = texts[at][:-1] + f', "closed_at": "{clean_closed_at(chance)}"}}'
    if chance.random() < 0.05:
        texts.append(chance.choice(["1", '"row"', "null", "[]"]))
    text = "[" + ",\n".join(texts) + "]"
    return "\ufeff" + text if chance.random() < 0.05 else text


CONFIGS = st.builds(
    lambda agents, lookback, basis: {
        "agent_ids": ["A", *agents],
        "lookback_trades": lookback,
        "return_basis": basis,
        "min_floor_weight": "0.05",
    },
    st.lists(st.sampled_from(["B", "C", "D"]), max_size=3, unique=True),
    st.integers(2, 12),
    st.sampled_from(["notional", "notional", "allocated"]),
)


def run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(args)
    return status, out.getvalue(), err.getvalue()


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(journal_texts(), CONFIGS, st.sampled_from([[], ["--json"], ["--strict", "--quiet"]]))
def test_the_typed_path_answers_what_the_exact_path_answers(
    text: str, config: dict[str, Any], flags: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        journal, config_file = Path(scratch) / "journal.json", Path(scratch) / "config.json"
        journal.write_text(text, encoding="utf-8")
        config_file.write_text(json.dumps(config))
        args = ["weights", "--journal", str(journal), "--config", str(config_file), *flags]
        basis = ReturnBasis(config["return_basis"])
        typed = read_typed_journal(journal, basis) is not None
        event("typed path" if typed else "exact path")
        either = run(args)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cli, "read_typed_journal", lambda path, basis, data=None: None)
            exact = run(args)
        if typed:  # and the trades the engine was given, to the digit and the exponent
            trades = _selected_both_ways(journal, MaestroConfig.from_mapping(config))
    assert either == exact
    if typed:
        assert trades[0] == trades[1]


@pytest.mark.parametrize("field", ["realized_pnl", "entry_price", "quantity"])
@pytest.mark.parametrize("text", PLAIN_ODD_TEXTS)
def test_each_plain_text_alone_answers_as_the_exact_path(text: str, field: str) -> None:
    # The generated journals draw each of these now and then; here every one, in each field
    # of the newest trade of an agent whose other amounts are plain and unsigned: the column
    # typed_journal takes without checking finiteness, the band or a quantity's sign.
    rows = [
        {
            **ONE_ROW,
            "trade_id": f"t{i}",
            "agent_id": "AB"[i % 2],
            "realized_pnl": f"{i - 2}.5",
            "entry_price": "3",  # 3 x a 51-digit quantity rounds once, not as abs() then x 3
        }
        for i in range(6)
    ]
    rows[4].update({field: text, "closed_at": "2026-01-03T00:00:00Z"})
    config = {"agent_ids": ["A", "B"], "lookback_trades": 4, "min_floor_weight": "0.05"}
    with tempfile.TemporaryDirectory() as scratch:
        journal, config_file = Path(scratch) / "journal.json", Path(scratch) / "config.json"
        journal.write_text(json.dumps(rows), encoding="utf-8")
        config_file.write_text(json.dumps(config))
        args = ["weights", "--journal", str(journal), "--config", str(config_file), "--json"]
        either = run(args)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cli, "read_typed_journal", lambda path, basis, data=None: None)
            exact = run(args)
        trades = _selected_both_ways(journal, MaestroConfig.from_mapping(config))
    assert either == exact
    assert trades[0] == trades[1]


@pytest.mark.parametrize("basis", ["notional", "allocated"])
@pytest.mark.parametrize("text", ["1000", "lots", "0", "-5", "1_000", "1e999", "NaN", "x" * 70])
def test_an_odd_allocated_capital_answers_as_the_exact_path(text: str, basis: str) -> None:
    # allocated_capital is read only when a trade is read whole (the allocated basis): a text
    # the column does not take is then that trade's rejection, as the exact path gives it.
    rows = [
        {**ONE_ROW, "trade_id": f"t{i}", "realized_pnl": f"{i - 2}.5", "allocated_capital": "500"}
        for i in range(5)
    ]
    rows[3]["allocated_capital"] = text
    del rows[1]["allocated_capital"]
    config = {"agent_ids": ["A"], "lookback_trades": 4, "return_basis": basis}
    with tempfile.TemporaryDirectory() as scratch:
        journal, config_file = Path(scratch) / "journal.json", Path(scratch) / "config.json"
        journal.write_text(json.dumps(rows), encoding="utf-8")
        config_file.write_text(json.dumps(config))
        args = ["weights", "--journal", str(journal), "--config", str(config_file), "--json"]
        assert read_typed_journal(journal, ReturnBasis(basis)) is not None
        either = run(args)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cli, "read_typed_journal", lambda path, basis, data=None: None)
            exact = run(args)
        trades = _selected_both_ways(journal, MaestroConfig.from_mapping(config))
    assert either == exact and trades[0] == trades[1]


def _selected_both_ways(path: Path, config: MaestroConfig) -> tuple[object, object]:
    """Each configured agent's selected trades, by the typed path and by the exact path, their
    amounts as digits and exponents (Decimal's == would take 1.0 for 1.00)."""
    typed = read_typed_journal(path, config.return_basis)
    assert typed is not None
    entries, _ = deduplicated(load_journal_file(path, config.return_basis))
    both = (
        select_typed_trades(typed, config.agent_ids, config.lookback_trades),
        select_agent_trades(
            entries, config.agent_ids, config.lookback_trades, ClosedAtOrder.TIMESTAMPS_ONLY
        ),
    )
    return tuple(
        {
            agent: [tuple(map(_exactly, trade)) for trade in trades]
            for agent, trades in selected.items()
        }
        for selected in both
    )  # type: ignore[return-value]


def _exactly(value: object) -> object:
    return value.as_tuple() if type(value) is Decimal else value


def test_a_well_formed_journal_takes_the_typed_path(tmp_path: Path) -> None:
    rows = [
        {
            "trade_id": f"t{i}",
            "agent_id": "AB"[i % 2],
            "closed_at": f"2026-01-02T10:{i:02d}:00Z",
            "realized_pnl": str(i - 3),
            "entry_price": "100",
            "quantity": "-2",
            "notes": {"any": ["shape", 1.5, None]},  # other fields: ignored by both paths
        }
        for i in range(12)
    ]
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps(rows))
    assert read_typed_journal(journal, ReturnBasis.NOTIONAL) is not None
    # the allocated basis needs its column: the exact path names it
    assert read_typed_journal(journal, ReturnBasis.ALLOCATED) is None
    config = MaestroConfig(agent_ids=("A", "B"))
    exact = cli.weigh_journal_file_exactly(journal, config)
    with pytest.MonkeyPatch.context() as patch:  # no agent may fall back to the exact path
        patch.setattr(typed_journal, "_closed_exactly", _must_not_fall_back)
        typed = cli.weigh_journal_file(journal, config)
    assert typed[0].to_json_dict() == exact[0].to_json_dict()
    assert typed[1] == exact[1]


def _must_not_fall_back(*_args: object) -> None:
    raise AssertionError("a well-formed agent took the exact path")


@pytest.mark.parametrize("text", ODD_TEXTS + CLEAN_PNL + CLEAN_QUANTITIES + CLEAN_PRICES)
def test_the_typed_amounts_are_parse_amounts_or_none(text: str) -> None:
    # typed_journal._amounts repeats parse_amount's checks column-wise: it may only give up.
    # The same digits and exponent, not only the same value: the output shows them.
    for texts in ((text, "1"), (text, "1." + "1" * 60)):  # a plain column, and one that is not
        expected = [parse_amount(each) for each in texts]
        amounts = typed_journal._amounts(texts)
        assert amounts is None or list(map(_digits, amounts)) == list(map(_digits, expected))
        with localcontext(ENGINE_CONTEXT):  # where the engine takes a quantity's abs()
            magnitudes = typed_journal._amounts(texts, magnitudes=True)
            if magnitudes is not None:
                assert None not in expected
                exact = [abs(amount) for amount in expected if amount is not None]
                assert list(map(_digits, magnitudes)) == list(map(_digits, exact))


def _digits(amount: Decimal | None) -> object:
    return None if amount is None else amount.as_tuple()


@given(st.text(alphabet="0123456789.-", max_size=15))
def test_a_plain_text_decimal_reads_is_within_parse_amounts_band(text: str) -> None:
    # typed_journal takes a column of such texts without checking the band or finiteness
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return
    parsed = parse_amount(text)
    assert parsed is not None
    assert parsed.as_tuple() == amount.as_tuple()


def test_one_more_character_than_a_plain_text_can_leave_the_band() -> None:
    assert parse_amount("1" + "0" * (typed_journal._PLAIN_TEXT_LENGTH - 1) + "1") is None


# A well-formed row, as the typed path takes it.
ONE_ROW: dict[str, Any] = {
    "trade_id": "t1",
    "agent_id": "A",
    "closed_at": "2026-01-02T10:00:00Z",
    "realized_pnl": "1",
    "entry_price": "100",
    "quantity": "1",
}


@pytest.mark.parametrize(
    "odd",
    [
        {"realized_pnl": 1.5},  # a JSON number: the exact path reads its float's repr
        {"closed_at": "2026-01-02T10:00:00z"},  # msgspec's datetime reads it; ours does not
        {"trade_id": None},
        {"agent_id": 3},
        {"entry_price": None},
        {"allocated_capital": None},
    ],
)
def test_what_a_typed_decoder_could_read_otherwise_takes_the_exact_path(
    tmp_path: Path, odd: dict[str, Any]
) -> None:
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps([{**ONE_ROW, **odd}]))
    assert read_typed_journal(journal, ReturnBasis.NOTIONAL) is None


def test_closed_at_is_read_by_fromisoformat_not_by_the_decoder(tmp_path: Path) -> None:
    # msgspec's own datetime would round a seventh fraction digit up; journal_file truncates
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps([{**ONE_ROW, "closed_at": "2026-01-02T10:00:00.9999999Z"}]))
    typed = read_typed_journal(journal, ReturnBasis.NOTIONAL)
    assert typed is not None
    assert typed.closed_at == [dt.datetime(2026, 1, 2, 10, 0, 0, 999999, tzinfo=dt.UTC)]


def test_open_trades_stay_open_and_a_refused_close_anywhere_sends_the_file_away(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "journal.json"
    open_row = {**ONE_ROW, "trade_id": "open", "closed_at": None}
    journal.write_text(json.dumps([ONE_ROW, open_row]))
    typed = read_typed_journal(journal, ReturnBasis.NOTIONAL)
    assert typed is not None and typed.closed_at[1] is None and typed.closed_at[0] is not None
    assert typed.open_trades
    journal.write_text(json.dumps([ONE_ROW]))
    closed_only = read_typed_journal(journal, ReturnBasis.NOTIONAL)
    assert closed_only is not None and not closed_only.open_trades
    refused = {**ONE_ROW, "trade_id": "z", "closed_at": "2026-01-02T10:30:00z"}
    for rows in ([open_row, refused], [refused, open_row], [ONE_ROW, refused]):
        journal.write_text(json.dumps(rows))
        assert read_typed_journal(journal, ReturnBasis.NOTIONAL) is None


def test_without_msgspec_every_journal_takes_the_exact_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps([ONE_ROW]))
    monkeypatch.setitem(__import__("sys").modules, "msgspec", None)  # import msgspec fails
    assert read_typed_journal(journal, ReturnBasis.NOTIONAL) is None
    early_read.read_journal_early(["weights", "--journal", str(journal)])
    assert read_typed_journal(journal, ReturnBasis.NOTIONAL) is None
    assert not early_read._early  # the bytes read early are not held through the exact path
