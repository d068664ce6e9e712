// Maestro's dashboard: sign in, then follow users/{uid}/maestro/weights and its history live
// (onSnapshot), and change the config through the calculate_agent_weights callable.
import { onAuthStateChanged, signInWithEmailAndPassword, signOut } from "firebase/auth";
import { collection, doc, limit, onSnapshot, orderBy, query } from "firebase/firestore";
import { httpsCallable } from "firebase/functions";
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip,
} from "chart.js";

import { buildConfigForm, clearErrors, fillConfigForm, setStatus, showFieldError } from "./config-form.js";
import { CALLABLE, connect, onEmulators } from "./firebase.js";
import { PALETTE, renderHistory } from "./history.js";
import { renderWeights } from "./weights.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);
Chart.defaults.animation = false; // deterministic pictures, and no motion for nothing
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

const HISTORY_LIMIT = 50;
const $ = (id) => document.getElementById(id);

/** Show exactly one of `ids`. */
function only(ids, visible) {
  for (const id of ids) $(id).hidden = id !== visible;
}
const PAGE = ["loading", "signed-out", "dashboard"];
const WEIGHTS = ["weights-loading", "weights-empty", "weights-denied", "weights-error", "weights-ready"];
const HISTORY = ["history-loading", "history-empty", "history-error", "history-ready"];

function percentAxis(extra = {}) {
  return { min: 0, max: 100, ticks: { callback: (value) => `${value}%` }, ...extra };
}

function weightsChart() {
  return new Chart($("weights-chart"), {
    type: "bar",
    data: { labels: [], datasets: [{ label: "Weight", data: [], backgroundColor: PALETTE }] },
    options: {
      indexAxis: "y", maintainAspectRatio: false, responsive: true,
      scales: { x: percentAxis() },
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `${c.parsed.x.toFixed(2)}%` } } },
    },
  });
}

function historyChart() {
  return new Chart($("history-chart"), {
    type: "bar",
    data: { labels: [], datasets: [] },
    options: {
      maintainAspectRatio: false, responsive: true,
      scales: {
        x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 6 } },
        y: percentAxis({ stacked: true }),
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
}

function denialText(error, uid, own) {
  if (error?.code !== "permission-denied") return null;
  return own
    ? "Firestore's security rules refused this read."
    : `You are signed in as someone else: the weights of user ${uid} can be read only by that ` +
      "user, and Firestore's security rules refused this page's request. Nothing of theirs is shown.";
}

async function main() {
  const { auth, db, functions } = await connect();
  $("env-badge").hidden = !onEmulators;
  const calculate = httpsCallable(functions, CALLABLE);
  const charts = { weights: weightsChart(), history: historyChart() };
  const form = $("config-form");
  let unsubscribe = [];
  let currentConfig = null;
  let formDirty = false;

  buildConfigForm(form, async (config) => {
    clearErrors(form);
    const save = $("config-save");
    save.disabled = true;
    setStatus(form, "Saving\u2026", "");
    try {
      const { data } = await calculate({ config });
      currentConfig = data.config ?? config;
      formDirty = false;
      fillConfigForm(form, currentConfig);
      setStatus(form, "Saved. The weights were recomputed with this config.", "ok");
    } catch (error) {
      // The JS SDK (12.x) appends the HTTP status, " [400]", to the callable's own message.
      const message = (error?.message ?? String(error)).replace(/ \[\d{3}\]$/, "");
      if (!(error?.code === "functions/invalid-argument" && showFieldError(form, message))) {
        setStatus(form, `Not saved: ${message}`, "bad");
      } else {
        setStatus(form, "Not saved: one field is invalid (see above). Nothing was changed.", "bad");
      }
    } finally {
      save.disabled = false;
    }
  });
  form.addEventListener("input", () => { formDirty = true; });
  $("config-reset").addEventListener("click", () => { formDirty = false; fillConfigForm(form, currentConfig); });

  $("refresh").addEventListener("click", async () => {
    $("refresh").disabled = true;
    try { await calculate({}); } catch { /* the stale notice stays; the next close rebuilds */ }
    $("refresh").disabled = false;
  });

  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("sign-in-error");
    error.hidden = true;
    $("sign-in").disabled = true;
    try {
      await signInWithEmailAndPassword(auth, $("email").value.trim(), $("password").value);
    } catch (failure) {
      error.textContent = /invalid-credential|wrong-password|user-not-found|invalid-email/.test(failure?.code ?? "")
        ? "That email and password do not match an account."
        : `Could not sign in: ${failure?.message ?? failure}`;
      error.hidden = false;
    } finally {
      $("sign-in").disabled = false;
    }
  });
  $("sign-out").addEventListener("click", () => signOut(auth));

  const updateOnline = () => { $("offline").hidden = navigator.onLine; };
  window.addEventListener("online", updateOnline);
  window.addEventListener("offline", updateOnline);
  updateOnline();

  onAuthStateChanged(auth, (user) => {
    for (const stop of unsubscribe) stop();
    unsubscribe = [];
    if (!user) {
      $("account").hidden = true;
      only(PAGE, "signed-out");
      return;
    }
    $("account-email").textContent = user.email ?? user.uid;
    $("account").hidden = false;
    only(PAGE, "dashboard");
    only(WEIGHTS, "weights-loading");
    only(HISTORY, "history-loading");
    $("live").hidden = true;

    // ?user=UID shows that user's weights, which only their owner may read.
    const asked = new URLSearchParams(location.search).get("user");
    const uid = asked || user.uid;
    const own = uid === user.uid;
    $("viewing").hidden = own;
    $("viewing").textContent = own ? "" : `Asked for the weights of user ${uid}.`;
    $("config-panel").hidden = !own;
    $("history-panel").hidden = !own;
    if (own) {
      delete $("history-list").dataset.expanded;
      currentConfig = null;
      formDirty = false;
      fillConfigForm(form, null);
    }

    const weightsRef = doc(db, "users", uid, "maestro", "weights");
    unsubscribe.push(onSnapshot(weightsRef, { includeMetadataChanges: true }, (snapshot) => {
      $("live").hidden = snapshot.metadata.fromCache;
      if (!snapshot.exists()) {
        if (!snapshot.metadata.fromCache) only(WEIGHTS, "weights-empty");
        return;
      }
      const data = snapshot.data();
      renderWeights(data, charts.weights);
      only(WEIGHTS, "weights-ready");
      // A new effective config refills the form, unless the user is editing it.
      if (own && data.config && JSON.stringify(data.config) !== JSON.stringify(currentConfig)) {
        currentConfig = data.config;
        if (!formDirty) fillConfigForm(form, currentConfig);
      }
    }, (error) => {
      $("live").hidden = true;
      const denied = denialText(error, uid, own);
      if (denied) {
        $("weights-denied-detail").textContent = denied;
        only(WEIGHTS, "weights-denied");
      } else {
        $("weights-error-detail").textContent = error?.message ?? String(error);
        only(WEIGHTS, "weights-error");
      }
    }));

    if (own) {
      const history = query(
        collection(db, "users", uid, "maestro", "weights", "history"),
        orderBy("computed_at", "desc"),
        limit(HISTORY_LIMIT),
      );
      unsubscribe.push(onSnapshot(history, (snapshot) => {
        if (snapshot.empty) {
          only(HISTORY, "history-empty");
          return;
        }
        renderHistory(snapshot.docs.map((d) => d.data()), charts.history, $("history-list"));
        only(HISTORY, "history-ready");
      }, (error) => {
        $("history-error-detail").textContent = error?.code === "permission-denied"
          ? "Firestore's security rules refused to read the audit trail."
          : error?.message ?? String(error);
        only(HISTORY, "history-error");
      }));
    }
  });
}

main().catch((error) => {
  $("loading").innerHTML = "";
  const text = document.createElement("p");
  text.className = "denied";
  text.textContent = `Maestro could not start: ${error?.message ?? error}`;
  $("loading").append(text);
});
