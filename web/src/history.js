// The audit trail (users/{uid}/maestro/weights/history, newest first) as a stacked chart of the
// weights over time and a list of the changes, each with its cause.
import { percent } from "./decimal.js";
import { millis, utc } from "./time.js";

const EVENTS = { close: "closed", delete: "deleted", reopen: "reopened", edit: "edited" };

/** The cause of a version in plain words (the weights document's `cause`). */
export function describeCause(cause) {
  switch (cause?.kind) {
    case "trade":
      return `trade ${cause.trade_id ?? "?"} ${EVENTS[cause.event] ?? cause.event ?? "written"}`;
    case "callable":
      return "recomputed on request (the callable)";
    case "config":
      return "config written";
    case "queue":
      return "queued rebuild after a burst of closes";
    default:
      return "unknown cause";
  }
}

function show(value) {
  if (Array.isArray(value)) return `[${value.join(", ")}]`;
  if (value === undefined) return "default";
  return String(value);
}

/** What changed in the config between two versions: "min_floor_weight 0.05 -> 0.1", ... */
export function configChanges(before, after) {
  if (!before || !after) return [];
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return names
    .filter((name) => JSON.stringify(before[name]) !== JSON.stringify(after[name]))
    .map((name) => `${name} ${show(before[name])} \u2192 ${show(after[name])}`);
}

/** `entries` newest first, as the query returns them. */
export function renderHistory(entries, chart, list) {
  const oldestFirst = [...entries].sort((a, b) => (millis(a.computed_at) ?? 0) - (millis(b.computed_at) ?? 0));
  // The agents in the newest config's order, then any that only older versions had.
  const agents = [];
  for (const entry of entries) {
    const configured = Array.isArray(entry.config?.agent_ids) ? entry.config.agent_ids : [];
    for (const agent of [...configured, ...Object.keys(entry.weights ?? {}).sort()]) {
      if (agent in (entry.weights ?? {}) && !agents.includes(agent)) agents.push(agent);
    }
  }
  // "12-06 03:07:32": the axis names the time; the list below gives each in full.
  chart.data.labels = oldestFirst.map((entry) => utc(entry.computed_at).slice(5, 19));
  chart.data.datasets = agents.map((agent, index) => ({
    label: agent,
    data: oldestFirst.map((entry) => Number(entry.weights?.[agent] ?? 0) * 100),
    backgroundColor: PALETTE[index % PALETTE.length],
    stack: "weights",
  }));
  chart.update();
  const span = oldestFirst.length
    ? ` from ${utc(oldestFirst[0].computed_at)} to ${utc(oldestFirst.at(-1).computed_at)}`
    : "";
  chart.canvas.setAttribute(
    "aria-label",
    `Weights over time, stacked: ${oldestFirst.length} version${oldestFirst.length === 1 ? "" : "s"}${span}`,
  );

  const items = oldestFirst.map((entry, index) => {
    const item = document.createElement("li");
    const time = document.createElement("time");
    time.textContent = utc(entry.computed_at);
    const cause = document.createElement("span");
    cause.className = "cause";
    const changes = configChanges(oldestFirst[index - 1]?.config, entry.config);
    cause.textContent = describeCause(entry.cause) + (changes.length ? `; config changed: ${changes.join(", ")}` : "");
    const weights = document.createElement("span");
    weights.className = "muted";
    weights.textContent = agents
      .filter((agent) => agent in (entry.weights ?? {}))
      .map((agent) => `${agent} ${percent(entry.weights[agent])}`)
      .join(" \u00b7 ");
    item.append(time, cause, weights);
    return item;
  });
  items.reverse(); // newest first
  // The newest few in view; the rest one click away.
  for (const [index, item] of items.entries()) item.hidden = index >= SHOWN_CHANGES && !list.dataset.expanded;
  list.replaceChildren(...items);
  const more = list.nextElementSibling;
  if (more?.id === "history-more") {
    more.hidden = items.length <= SHOWN_CHANGES || Boolean(list.dataset.expanded);
    more.textContent = `Show all ${items.length} changes`;
    more.onclick = () => {
      list.dataset.expanded = "true";
      for (const item of list.children) item.hidden = false;
      more.hidden = true;
    };
  }
}

const SHOWN_CHANGES = 8;

export const PALETTE = ["#2f6fb0", "#e0a030", "#3a9a5b", "#c0504d", "#8064a2", "#4bacc6", "#9c6b30", "#7f7f7f"];
