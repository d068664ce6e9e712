// Times are shown in UTC, to the second, the same for every reader of the page.

/** A Firestore Timestamp, a Date or an ISO string -> "2026-11-02 14:37:05 UTC"; a dash if none. */
export function utc(value) {
  let date = null;
  if (value && typeof value.toDate === "function") date = value.toDate();
  else if (value instanceof Date) date = value;
  else if (typeof value === "string") date = new Date(value);
  if (!date || Number.isNaN(date.getTime())) return "\u2013";
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** The same, as milliseconds (for ordering), or null. */
export function millis(value) {
  if (value && typeof value.toMillis === "function") return value.toMillis();
  if (value instanceof Date) return value.getTime();
  if (typeof value === "string") {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}
