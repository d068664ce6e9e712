// The weights document (README, "The weights document") as a person reads it: a bar chart, a
// table with each agent's weight and why, and the facts around them (as of, stale, exposure,
// warnings).
import { fixed, percent } from "./decimal.js";
import { utc } from "./time.js";

const $ = (id) => document.getElementById(id);

/** The agents in the document's config order (then any others), as the CLI lists them. */
export function agentOrder(document) {
  const configured = Array.isArray(document.config?.agent_ids) ? document.config.agent_ids : [];
  const present = Object.keys(document.weights ?? {});
  return [...configured.filter((a) => present.includes(a)), ...present.filter((a) => !configured.includes(a))];
}

export function renderWeights(document, chart) {
  const agents = agentOrder(document);
  $("as-of").textContent = utc(document.journal_as_of);
  $("computed-at").textContent = utc(document.computed_at);
  $("config-source").textContent = document.config_source ?? "\u2013";
  const hasExposure = typeof document.exposure === "string";
  $("exposure-fact").hidden = !hasExposure;
  if (hasExposure) $("exposure").textContent = `${percent(document.exposure)} of the capital`;

  const stale = document.stale === true;
  $("stale").hidden = !stale;
  if (stale) {
    const since = document.stale_since ? ` since ${utc(document.stale_since)}` : "";
    $("stale-detail").textContent =
      `a later run failed${since}${document.stale_reason ? ` (${document.stale_reason})` : ""}; ` +
      "these weights may miss recent closes until the next close or request rebuilds them.";
  }

  const warnings = Array.isArray(document.warnings) ? document.warnings : [];
  const list = $("warnings");
  list.replaceChildren(...warnings.map((text) => {
    const item = window.document.createElement("li");
    item.textContent = `Warning: ${text}`;
    return item;
  }));
  list.hidden = warnings.length === 0;

  let thin = false;
  const rows = agents.map((agent) => {
    const detail = document.agents?.[agent] ?? {};
    const explanation = detail.explanation ?? {};
    thin ||= explanation.thin_evidence === true;
    const row = window.document.createElement("tr");
    row.dataset.agent = agent;
    const method = detail.score_method ? ` (${detail.score_method})` : "";
    const cells = [
      ["Agent", agent, ""],
      ["Weight", percent(document.weights[agent]), "num"],
      [`Score${method}`, fixed(detail.score ?? detail.sharpe), "num"],
      ["Status", explanation.status ?? detail.status ?? "\u2013", ""],
      ["Why", explanation.reason ?? detail.weight_reason ?? "\u2013", ""],
      ["Trades used / rejected", `${detail.trades_used ?? "\u2013"} / ${detail.trades_rejected ?? "\u2013"}${explanation.thin_evidence ? " *" : ""}`, "num"],
    ];
    for (const [label, text, cls] of cells) {
      const cell = window.document.createElement(label === "Agent" ? "th" : "td");
      if (label === "Agent") cell.scope = "row";
      cell.dataset.label = label;
      cell.dataset.column = label.split(" ")[0].toLowerCase();
      cell.textContent = text;
      if (cls) cell.className = cls;
      row.append(cell);
    }
    return row;
  });
  $("weights-table").tBodies[0].replaceChildren(...rows);
  $("thin-note").hidden = !thin;

  // Drawing only: the bars' lengths are the only floats on the page.
  chart.data.labels = agents;
  chart.data.datasets[0].data = agents.map((agent) => Number(document.weights[agent]) * 100);
  chart.update();
  chart.canvas.setAttribute(
    "aria-label",
    `Weights by agent: ${agents.map((agent) => `${agent} ${percent(document.weights[agent])}`).join(", ")}`,
  );
}
