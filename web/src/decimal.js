// Weights and scores arrive as lossless decimal strings. They stay strings: these helpers round
// them for display with BigInt arithmetic on their digits, never through a float. (The charts
// alone take Number(...) of a weight, to draw it.)

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** The decimal string `value` times 10^shift, rounded half away from zero to `places`
 * decimal places, as a string; null when `value` is not a decimal string. */
export function roundDecimal(value, places, shift = 0) {
  if (typeof value !== "string") return null;
  const match = DECIMAL.exec(value.trim());
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) return null;
  const [, sign, whole, fraction = "", exponent = "0"] = match;
  const digits = BigInt(`${whole}${fraction}` || "0");
  // value = digits x 10^power; we want round(value x 10^(shift + places)).
  const power = Number(exponent) - fraction.length + shift + places;
  let scaled;
  if (power >= 0) {
    scaled = digits * 10n ** BigInt(power);
  } else {
    const divisor = 10n ** BigInt(-power);
    scaled = (digits * 2n + divisor) / (divisor * 2n); // half up on the magnitude
  }
  const text = scaled.toString().padStart(places + 1, "0");
  const head = places ? `${text.slice(0, -places)}.${text.slice(-places)}` : text;
  const negative = sign === "-" && scaled !== 0n;
  return `${negative ? "-" : ""}${head}`;
}

/** "0.4626..." -> "46.26%" (a fraction shown as a percentage, two places). */
export function percent(value, places = 2) {
  const rounded = roundDecimal(value, places, 2);
  return rounded === null ? "\u2013" : `${rounded}%`;
}

/** A score or statistic, four places; a dash when there is none. */
export function fixed(value, places = 4) {
  if (value === null || value === undefined) return "\u2013";
  const rounded = roundDecimal(String(value), places);
  return rounded === null ? String(value) : rounded;
}
