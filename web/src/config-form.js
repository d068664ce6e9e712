// The config form: one field per option of functions/maestro/config.py (README, "Config"),
// sent whole through the callable as {"config": {...}}. The callable is the one validator: an
// invalid field comes back as INVALID_ARGUMENT "config.<field>: <problem>", shown next to that
// field, and nothing is saved. Decimals are sent as the strings typed; an empty field is left
// out, so that the option takes its default.

const CHOICES = {
  return_transform: ["simple", "log"],
  return_basis: ["notional", "allocated"],
  score: ["sharpe", "sortino", "psr"],
  allocator: ["softmax", "inverse_volatility", "hrp"],
};

export const FIELDS = [
  { name: "agent_ids", kind: "list", group: "seed", label: "Agents", help: "comma-separated agent ids", placeholder: "WhaleFlowAgent, SentimentAgent, GammaScalper, SectorRotation" },
  { name: "lookback_trades", kind: "int", group: "seed", label: "Lookback (trades)", help: "each agent's last N closed trades, 2 to 1000", placeholder: "100" },
  { name: "risk_free_rate", kind: "decimal", group: "seed", label: "Risk-free rate", help: "annual fraction (0.04 is 4 % a year)", placeholder: "0.04" },
  { name: "min_floor_weight", kind: "decimal", group: "seed", label: "Floor weight", help: "the least weight an agent gets", placeholder: "0.05" },
  { name: "enforce_performance", kind: "bool", group: "seed", label: "Enforce performance", help: "agents that do not perform get 0 instead of the floor" },
  { name: "score", kind: "choice", group: "v2", label: "Score", help: "how agents are scored" },
  { name: "allocator", kind: "choice", group: "v2", label: "Allocator", help: "how performers share their budget" },
  { name: "return_transform", kind: "choice", group: "v2", label: "Return transform" },
  { name: "return_basis", kind: "choice", group: "v2", label: "Return basis", help: "allocated needs allocated_capital in the journal" },
  { name: "half_life_trades", kind: "int", group: "v2", label: "Half-life (trades)", help: "empty: every trade counts the same", placeholder: "none", nullable: true },
  { name: "min_confidence", kind: "decimal", group: "v2", label: "Minimum confidence", help: "performers need PSR at least this, in (0, 1)", placeholder: "none", nullable: true },
  { name: "drawdown_penalty", kind: "decimal", group: "v2", label: "Drawdown penalty", help: "decimal >= 0", placeholder: "0" },
  { name: "temperature", kind: "decimal", group: "v2", label: "Temperature", help: "softmax temperature, > 0", placeholder: "1" },
  { name: "max_weight", kind: "decimal", group: "v2", label: "Maximum weight", help: "a cap in (0, 1]", placeholder: "none", nullable: true },
  { name: "kelly_scale", kind: "decimal", group: "v2", label: "Kelly scale", help: "advisory only, in (0, 1]", placeholder: "0.5" },
  { name: "analysis_lookbacks", kind: "int-list", group: "v2", label: "Analysis lookbacks", help: "up to 4 shorter lookbacks, comma-separated", placeholder: "none" },
  { name: "target_volatility", kind: "decimal", group: "v2", label: "Target volatility", help: "annual (0.1 is 10 % a year); sets an exposure", placeholder: "none", nullable: true },
  { name: "max_exposure", kind: "decimal", group: "v2", label: "Maximum exposure", help: "needs a target volatility", placeholder: "1" },
];

const GROUPS = { seed: "Weighting", v2: "Engine v2 (optional)" };
const INTEGER = /^[+-]?\d+$/;

/** Build the form's fields into `form`; `onSubmit(config)` is called with the payload. */
export function buildConfigForm(form, onSubmit) {
  form.replaceChildren();
  for (const [group, legendText] of Object.entries(GROUPS)) {
    const fieldset = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = legendText;
    const grid = document.createElement("div");
    grid.className = "config-grid";
    fieldset.append(legend, grid);
    for (const field of FIELDS.filter((f) => f.group === group)) grid.append(fieldRow(field));
    form.append(fieldset);
  }
  const actions = document.createElement("div");
  actions.className = "form-actions";
  actions.innerHTML = `
    <button id="config-save" type="submit">Save and reweight</button>
    <button id="config-reset" type="button" class="secondary">Reset to the current config</button>
    <p id="config-status" class="form-status" role="status"></p>`;
  form.append(actions);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onSubmit(readConfig(form));
  });
}

function fieldRow(field) {
  const id = `config-${field.name}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.dataset.field = field.name;
  let input;
  if (field.kind === "bool") {
    input = document.createElement("input");
    input.type = "checkbox";
    label.classList.add("check-row");
  } else if (field.kind === "choice") {
    input = document.createElement("select");
    for (const value of CHOICES[field.name]) input.add(new Option(value, value));
  } else {
    input = document.createElement("input");
    input.type = "text";
    input.inputMode = field.kind === "int" || field.kind === "int-list" ? "numeric" : field.kind === "decimal" ? "decimal" : "text";
    input.placeholder = field.placeholder ?? "";
    input.autocomplete = "off";
    input.spellcheck = false;
  }
  input.id = id;
  input.name = field.name;
  const title = document.createElement("span");
  title.textContent = `${field.label} `;
  const code = document.createElement("code");
  code.className = "field-help";
  code.textContent = field.name;
  title.append(code);
  const error = document.createElement("p");
  error.className = "field-error";
  error.id = `${id}-error`;
  error.setAttribute("role", "alert");
  error.hidden = true;
  input.setAttribute("aria-describedby", error.id);
  if (field.kind === "bool") {
    const row = document.createElement("span");
    row.className = "check";
    row.append(input, title);
    label.append(row);
  } else {
    label.append(title, input);
  }
  if (field.help) {
    const help = document.createElement("span");
    help.className = "field-help";
    help.textContent = field.help;
    label.append(help);
  }
  label.append(error);
  return label;
}

/** Show `config` (the weights document's effective config: decimals as strings) in the form. */
export function fillConfigForm(form, config) {
  for (const field of FIELDS) {
    const input = form.elements.namedItem(field.name);
    const value = config ? config[field.name] : undefined;
    if (field.kind === "bool") input.checked = value === true;
    else if (field.kind === "choice") input.value = value ?? CHOICES[field.name][0];
    else if (value === undefined || value === null) input.value = "";
    else if (Array.isArray(value)) input.value = value.join(", ");
    else input.value = String(value);
  }
  clearFieldErrors(form);
}

function splitList(text) {
  return text.split(/[,\n]/).map((item) => item.trim()).filter((item) => item !== "");
}

/** An integer typed as one becomes a JSON number; anything else goes as typed, for the
 * callable to name what is wrong with it. */
function integer(text) {
  return INTEGER.test(text) ? Number(text) : text;
}

/** The payload for {"config": ...}: every field that is not empty. */
export function readConfig(form) {
  const config = {};
  for (const field of FIELDS) {
    const input = form.elements.namedItem(field.name);
    if (field.kind === "bool") {
      config[field.name] = input.checked;
      continue;
    }
    if (field.kind === "choice") {
      config[field.name] = input.value;
      continue;
    }
    const text = input.value.trim();
    if (text === "") continue; // the default
    if (field.kind === "list") config[field.name] = splitList(text);
    else if (field.kind === "int-list") config[field.name] = splitList(text).map(integer);
    else if (field.kind === "int") config[field.name] = integer(text);
    else config[field.name] = text; // a decimal stays the string typed
  }
  return config;
}

function clearFieldErrors(form) {
  for (const error of form.querySelectorAll(".field-error")) {
    error.hidden = true;
    error.textContent = "";
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** Before a new attempt: no field error, no status. */
export function clearErrors(form) {
  clearFieldErrors(form);
  setStatus(form, "", "");
}

export function setStatus(form, text, kind) {
  const status = form.querySelector("#config-status");
  status.textContent = text;
  status.className = `form-status ${kind}`;
}

/** Put the callable's message next to the field it names; false when it names none of them. */
export function showFieldError(form, message) {
  const match = /^config\.([a-z_]+):/.exec(message);
  const name = match ? match[1] : null;
  if (!name || !FIELDS.some((field) => field.name === name)) return false;
  const input = form.elements.namedItem(name);
  const error = form.querySelector(`#config-${name}-error`);
  error.textContent = message;
  error.hidden = false;
  input.setAttribute("aria-invalid", "true");
  input.focus();
  return true;
}
