"""The Decimal contexts Maestro computes and rounds in (no float anywhere).

50 significant digits inside a computation (the requirement is at least 28); statistics are
rounded to OUTPUT_DIGITS for output. Errors that would mean a bug (invalid operation, division
by zero, overflow) raise instead of producing NaN or Infinity. Code that must not depend on the
thread's current context calls ENGINE_CONTEXT's methods directly (ENGINE_CONTEXT.divide(a, b)).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, DivisionByZero, InvalidOperation, Overflow
from typing import Final

ENGINE_CONTEXT: Final = Context(
    prec=50,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
OUTPUT_DIGITS: Final = 28
OUTPUT_CONTEXT: Final = Context(
    prec=OUTPUT_DIGITS, rounding=ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999
)
# Diagnostics (result.AgentDiagnostics) describe a track record; they are rounded to this many
# significant digits. The weights, scores and the first version's statistics keep 28.
DIAGNOSTIC_DIGITS: Final = 12
DIAGNOSTIC_CONTEXT: Final = Context(
    prec=DIAGNOSTIC_DIGITS, rounding=ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999
)
