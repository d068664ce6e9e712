"""Any JSON a client can send the callable is either a valid request or INVALID_ARGUMENT naming
its field: never another exception, which the callable would turn into INTERNAL. The emulator's
fuzz test (tests/emulator/test_reliability.py) checks the same end to end, with few examples;
this one runs many, for every option name and the history page's fields."""

from __future__ import annotations

import json
from typing import Any

from firebase_functions.https_fn import FunctionsErrorCode, HttpsError
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.config import FIELD_NAMES
from maestro.handlers import parse_callable_data

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(
        ["", "NaN", "-Infinity", "1e999", "1e999999999", "-1e-999999", "0E-999999", "0.5", "hrp"]
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
config_payloads = st.dictionaries(
    st.sampled_from(FIELD_NAMES), json_values, min_size=1, max_size=4
).map(lambda config: {"config": config})
history_payloads = st.dictionaries(
    st.sampled_from(["limit", "before"]), json_values, min_size=1, max_size=2
).map(lambda page: {"history": page})


def _valid_or_invalid_argument(payload: Any) -> None:
    try:
        request = parse_callable_data(payload)
    except HttpsError as error:
        assert error.code == FunctionsErrorCode.INVALID_ARGUMENT, error.message
        assert error.message.split(":")[0].split(".")[0] in {*payload, "data", "payload"}
        # What goes back to the client stays small, whatever it sent (a huge exponent printed
        # in plain digits once made a gigabyte of message).
        assert len(error.message) < 2_000, error.message[:200]
    else:
        # ... and so does what a valid config stores.
        if request.config is not None:
            assert len(json.dumps(request.config.to_json_dict())) < 100_000


@settings(max_examples=1500, deadline=None)
@given(payload=config_payloads)
def test_any_config_value_is_valid_or_invalid_argument(payload: dict[str, Any]) -> None:
    _valid_or_invalid_argument(payload)


@settings(max_examples=300, deadline=None)
@given(payload=history_payloads)
def test_any_history_page_is_valid_or_invalid_argument(payload: dict[str, Any]) -> None:
    _valid_or_invalid_argument(payload)


def test_an_unhashable_method_name_is_invalid_argument() -> None:
    # Found by the emulator's fuzz test in CI: {"config": {"allocator": []}} was INTERNAL.
    for option in ("allocator", "score", "return_transform", "return_basis"):
        for value in ([], {}, ["hrp"]):
            try:
                parse_callable_data({"config": {option: value}})
            except HttpsError as error:
                assert error.code == FunctionsErrorCode.INVALID_ARGUMENT
                assert error.message.startswith(f"config.{option}: must be one of")
            else:
                raise AssertionError(f"{option}={value!r} was accepted")
