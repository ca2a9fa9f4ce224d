// The loan-officer page: plain DOM, no dependencies, no data of its own (everything comes
// from the scoring API under officer/, with the officer's token when signed in).
"use strict";

const API = "officer/";
const SVG = "http://www.w3.org/2000/svg";
const state = { schema: [], examples: [], original: null, reference: null, token: null, auth: {} };
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ small DOM helpers
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : String(c));
  return node;
}
function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}
const pct = (p) => (100 * p).toFixed(2) + "%";
const signed = (x, digits) => (x >= 0 ? "+" : "\u2212") + Math.abs(x).toFixed(digits);
const show = (v) => (v === null || v === undefined ? "missing"
  : typeof v === "number" && !Number.isInteger(v) ? String(Number(v.toPrecision(6))) : String(v));

function table(id, caption, head, rows) {
  const t = el("table", { id });
  t.append(el("caption", {}, caption));
  t.append(el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))));
  const body = el("tbody");
  for (const r of rows) {
    body.append(el("tr", {}, ...r.map((c, i) => (i === 0 ? el("th", { scope: "row" }, c)
      : el("td", typeof c === "number" || /^[+\u2212-]?[\d.,]+%?$/.test(String(c)) ? { class: "num" } : {}, c)))));
  }
  t.append(body);
  return el("div", { class: "scroll", role: "region", "aria-label": caption, tabindex: "0" }, t);
}

// -------------------------------------------------------------------------- banner
function banner(message) {
  const b = $("banner");
  b.textContent = message;
  b.hidden = !message;
}
window.addEventListener("error", (e) => banner("Something went wrong in the page: " + e.message));
window.addEventListener("unhandledrejection", (e) =>
  banner("Something went wrong in the page: " + ((e.reason && e.reason.message) || e.reason)));

// ------------------------------------------------------------------------------ API
class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail && body.detail[0] && body.detail[0].msg) || "HTTP " + status);
    this.status = status;
    this.body = body;
  }
}
async function call(path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (state.token) headers.Authorization = "Bearer " + state.token;
  let response;
  try {
    response = await fetch(API + path, { method: body === undefined ? "GET" : "POST", headers,
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    banner("The scoring service cannot be reached (" + err.message + "). Check the connection and try again.");
    throw new ApiError(0, null);
  }
  let data = null;
  try { data = await response.json(); } catch (err) { data = null; }
  if (response.status === 503) {
    const why = data && data.detail && data.detail[0] ? data.detail[0].msg : "no reason given";
    banner("The scoring service is unavailable: " + why + ". Your inputs are kept; try again in a minute.");
  } else if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem("officer-token");
    state.token = null;
    banner("Your session has expired or you are not signed in. Sign in again to continue.");
    showSignIn();
  } else if (response.status >= 500) {
    banner("The scoring service failed (HTTP " + response.status + "). Try again later.");
  }
  if (!response.ok) throw new ApiError(response.status, data);
  if (path !== "examples" && path !== "reference") banner("");  // the model answered
  return data;
}

// ------------------------------------------------------------------------ fields form
function buildFields(schema) {
  const box = $("fields");
  box.replaceChildren();
  for (const f of schema) {
    const id = "f-" + f.name;
    const input = f.type === "category" ? el("select", { id, name: f.name })
      : el("input", { id, name: f.name, type: "text", inputmode: "decimal", autocomplete: "off" });
    if (f.type === "category") {
      if (f.nullable) input.append(el("option", { value: "" }, "(missing)"));
      for (const c of f.categories) input.append(el("option", { value: c }, c));
    }
    input.setAttribute("aria-describedby", id + "-error");
    const range = f.type === "category" ? "" : " (" + f.type + ", " + show(f.minimum) + " to " + show(f.maximum) + ")";
    box.append(el("div", { class: "field" }, el("label", { for: id }, f.name + range), input,
      el("span", { id: id + "-error", class: "error" })));
  }
}
function fillFields(app) {
  for (const f of state.schema) {
    const v = app[f.name];
    $("f-" + f.name).value = v === null || v === undefined ? "" : String(v);
  }
}
function readFields() {
  const app = {};
  for (const f of state.schema) {
    const raw = $("f-" + f.name).value.trim();
    if (raw === "") app[f.name] = null;
    else if (f.type === "category") app[f.name] = raw;
    else app[f.name] = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return app;
}
function clearErrors() {
  for (const node of document.querySelectorAll(".error")) node.textContent = "";
  for (const node of document.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}
// Show each 4xx error next to its field: prefix "" (the applicant) or "b." (second applicant).
function showErrors(err, target) {
  const detail = (err.body && err.body.detail) || [{ field: "body", msg: err.message }];
  let first = null;
  const elsewhere = [];
  for (const item of detail) {
    let field = item.field || "body";
    if (field.startsWith("a.")) field = field.slice(2);
    const input = field.startsWith("b.") ? null : $("f-" + field);
    if (input && target !== "b") {
      input.setAttribute("aria-invalid", "true");
      $("f-" + field + "-error").textContent = item.msg;
      first = first || input;
    } else {
      elsewhere.push((field === "body" ? "" : field + ": ") + item.msg);
    }
  }
  if (elsewhere.length) $(target === "b" ? "json-b-error" : "json-a-error").textContent = elsewhere.join("; ");
  if (first) { $("fields-box").open = true; first.focus(); }
  return detail.length;
}

// --------------------------------------------------------------------------- charts
function gauge(p, threshold) {
  const w = 600, h = 70, x = (v) => 10 + v * (w - 20);
  const label = "Estimated probability of default " + pct(p) + " against the decision threshold of " + pct(threshold) + " probability";
  const s = svgEl("svg", { viewBox: `0 0 ${w} ${h}`, class: "chart", role: "img", "aria-label": label });
  s.append(svgEl("title", {}, label));
  s.append(svgEl("rect", { x: 10, y: 20, width: w - 20, height: 16, fill: "#ffffff", stroke: "#4a4a4a" }));
  s.append(svgEl("rect", { x: 10, y: 20, width: Math.max(1, p * (w - 20)), height: 16,
    fill: p >= threshold ? "#b71c1c" : "#1b5e20" }));
  s.append(svgEl("line", { x1: x(threshold), x2: x(threshold), y1: 12, y2: 44, stroke: "#1a1a1a",
    "stroke-width": 3, "stroke-dasharray": "4 2" }));
  s.append(svgEl("text", { x: x(threshold), y: 10, "text-anchor": "middle", "font-size": 12, fill: "#1a1a1a" },
    "threshold " + pct(threshold)));
  s.append(svgEl("text", { x: Math.min(x(p), w - 60), y: 60, "font-size": 12, fill: "#1a1a1a" }, "\u25B2 " + pct(p)));
  return s;
}
// A label as lines of at most `width` characters, broken between words (a longer word
// stands alone on its line): the whole text is always shown.
function wrap(text, width) {
  const lines = [];
  let line = "";
  for (const word of String(text).split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) { lines.push(line); line = word; }
    else line = line ? line + " " + word : word;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [""];
}
// Horizontal waterfall: each bar starts where the previous ended (log-odds). Labels wrap
// onto as many lines as they need; each row is as tall as its label.
function waterfall(items, title) {
  const lineH = 15, w = 660, left = 270, chars = 34, pad = 10;
  const wrapped = items.map((it) => wrap(it.label, chars));
  const heights = wrapped.map((lines) => Math.max(18, lines.length * lineH) + pad);
  const tops = [];
  let y0 = 4;
  for (const h of heights) { tops.push(y0); y0 += h; }
  const h = y0 + 26;
  let cum = 0, lo = 0, hi = 0;
  const spans = items.map((it) => { const a = cum; cum += it.value; lo = Math.min(lo, a, cum); hi = Math.max(hi, a, cum); return [a, cum]; });
  const span = hi - lo || 1, x = (v) => left + ((v - lo) / span) * (w - left - 70);
  const s = svgEl("svg", { viewBox: `0 0 ${w} ${h}`, class: "chart", role: "img", "aria-label": title + " (the table below lists the same values)" });
  s.append(svgEl("title", {}, title));
  s.append(svgEl("line", { x1: x(0), x2: x(0), y1: 0, y2: h - 22, stroke: "#4a4a4a" }));
  items.forEach((it, i) => {
    const [a, b] = spans[i], y = tops[i], up = it.value > 0;
    const bar = Math.min(heights[i] - pad, 18), barY = y + (heights[i] - pad - bar) / 2;
    const label = svgEl("text", { x: 2, y: y + 12, "font-size": 12, fill: "#1a1a1a", class: "bar-label" });
    wrapped[i].forEach((line, k) => label.append(svgEl("tspan", { x: 2, dy: k === 0 ? 0 : lineH }, line)));
    s.append(label);
    s.append(svgEl("rect", { x: Math.min(x(a), x(b)), y: barY, width: Math.max(1, Math.abs(x(b) - x(a))), height: bar,
      fill: up ? "#b71c1c" : "#1b5e20" }));
    s.append(svgEl("text", { x: Math.max(x(a), x(b)) + 4, y: barY + 13, "font-size": 12, fill: "#1a1a1a" },
      (up ? "\u25B2 " : "\u25BC ") + signed(it.value, 3)));
  });
  s.append(svgEl("text", { x: left, y: h - 6, "font-size": 12, fill: "#1a1a1a" },
    "\u25B2 raises risk, \u25BC lowers risk (log-odds)"));
  return s;
}

// ------------------------------------------------------------------- reference bins
// Why a field has no bin to show: the reason in plain words.
function noBin(ref, entry) {
  if (!ref) return "training reference not available";
  if (!entry) return "this field is not among the training reference bins";
  return "too few training applicants with this value to show (fewer than " + ref.min_bin_rows + ")";
}
function binText(hit) { return hit.label + ", " + hit.bin.rows + " applicants"; }
function findBin(entry, value) {
  if (!entry) return null;
  if (value === null || value === undefined) return entry.missing ? { label: "missing", bin: entry.missing } : null;
  for (let i = 0; i < entry.bins.length; i++) {
    const b = entry.bins[i];
    const hit = entry.kind === "category" ? (b.category === value || (b.categories || []).includes(value))
      : (b.low === null || value >= b.low) && (b.high === null || value < b.high);
    if (hit) {
      const label = entry.kind === "category" ? (b.category === null ? "other categories" : b.category)
        : (b.low === null ? "below " + b.high : b.high === null ? b.low + " or more" : b.low + " to under " + b.high);
      return { label: label + " (bin " + (i + 1) + " of " + entry.bins.length + ")", bin: b };
    }
  }
  return null;
}
async function reference() {
  if (!state.reference) {
    try { state.reference = await call("reference"); } catch (err) { return null; }
  }
  return state.reference;
}

// --------------------------------------------------------------------------- results
function reasonLabel(r) { return r.statement || r.feature; }
function decisionLine(p) {
  const approve = p.decision === "approve";
  return el("p", { class: "decision " + p.decision, id: "decision" },
    (approve ? "\u2714 Approve" : "\u2716 Decline") + " \u2014 " + (approve ? "below" : "at or above") + " the threshold");
}
async function renderPrediction(p, app) {
  const out = $("result");
  const card = el("div", { class: "card" }, el("h3", { tabindex: "-1", id: "result-heading" }, "Decision for applicant " + p.client_id));
  card.append(decisionLine(p));
  card.append(el("p", {}, "Estimated probability of default (calibrated on training data): ",
    el("strong", { id: "probability" }, pct(p.probability_default)),
    "; decision threshold: ", el("span", { id: "threshold" }, pct(p.threshold)), " probability of default"));
  card.append(gauge(p.probability_default, p.threshold));
  card.append(el("p", {}, "Model version: ", el("span", { id: "model-version" }, p.model_version)));
  if (state.original && state.original.prediction !== p) {
    const o = state.original, d = p.probability_default - o.prediction.probability_default;
    const changed = state.schema.filter((f) => o.app[f.name] !== app[f.name])
      .map((f) => f.name + " " + show(o.app[f.name]) + " \u2192 " + show(app[f.name]));
    card.append(el("div", { class: "changed", id: "change" },
      el("p", {}, "Change against the original: ", el("strong", { id: "change-points" }, signed(100 * d, 2) + " percentage points"),
        " (" + pct(o.prediction.probability_default) + " \u2192 " + pct(p.probability_default) + "); decision " +
        (o.prediction.decision === p.decision ? "unchanged (" + p.decision + ")" : "changed from " + o.prediction.decision + " to " + p.decision) + "."),
      el("p", {}, "Fields changed: " + (changed.length ? changed.join("; ") : "none"))));
  }
  const ref = await reference();
  card.append(el("h3", {}, "Main reasons"));
  card.append(waterfall(p.reasons.map((r) => ({ label: reasonLabel(r), value: r.contribution })), "Reasons, largest first"));
  card.append(table("reasons", "Reasons with the applicant's place in the training population",
    ["Reason", "Value", "Effect (log-odds)", "Direction", "Applicant's bin in the training reference", "Default rate in that bin"],
    p.reasons.map((r) => {
      const dir = r.direction === "increases_risk" ? "\u25B2 raises risk" : "\u25BC lowers risk";
      const fields = r.fields || [r.feature];
      const values = r.values || { [r.feature]: r.value };
      if (fields.length === 1) {
        const entry = ref ? ref.features[fields[0]] : null, hit = entry ? findBin(entry, values[fields[0]]) : null;
        return [reasonLabel(r), show(values[fields[0]]), signed(r.contribution, 4), dir,
          hit ? binText(hit) : "not shown: " + noBin(ref, entry), hit ? pct(hit.bin.default_rate) : "\u2014"];
      }
      return [reasonLabel(r), groupFields(r, fields, values, ref), signed(r.contribution, 4), dir,
        groupReference(fields, values, ref), "\u2014"];
    })));
  if (ref) card.append(el("p", { class: "hint" }, "Reference: " + ref.rows + " training applicants, overall default rate " + pct(ref.default_rate) + "; every bin holds at least " + ref.min_bin_rows + "."));
  out.replaceChildren(card);
  $("result-heading").focus();
}

// A grouped reason's fields and values, each with its training bin, behind a disclosure.
function groupFields(r, fields, values, ref) {
  const list = el("ul", { class: "group-fields" });
  for (const f of fields) {
    const entry = ref ? ref.features[f] : null, hit = entry ? findBin(entry, values[f]) : null;
    list.append(el("li", {}, el("strong", {}, f), " " + show(values[f]) + " \u2014 " +
      (hit ? "training bin " + binText(hit) + ", default rate " + pct(hit.bin.default_rate) : "no bin shown: " + noBin(ref, entry))));
  }
  return el("details", { class: "group" }, el("summary", {}, fields.length + " fields and their values"), list);
}
// The reference column of a grouped reason: a comparison where the fields have bins, else why not.
function groupReference(fields, values, ref) {
  if (!ref) return "Not compared: the training reference is not available.";
  const hits = fields.map((f) => ref.features[f] ? findBin(ref.features[f], values[f]) : null).filter(Boolean);
  if (!hits.length) return "Not compared: a group of " + fields.length + " fields has no single training bin, and none of its fields has a bin to show.";
  const rates = hits.map((h) => h.bin.default_rate);
  return "A group of " + fields.length + " fields has no single training bin; its fields' bins have default rates from " +
    pct(Math.min(...rates)) + " to " + pct(Math.max(...rates)) + " (" + hits.length + " of " + fields.length + " fields shown under the value).";
}

async function score() {
  clearErrors();
  if (!state.schema.length) await loadSchema();
  if (!state.schema.length) return;
  const app = readFields();
  const button = $("score");
  button.disabled = true;
  try {
    const p = await call("predict", app);
    if (!state.original) state.original = { app, prediction: p };
    await renderPrediction(p, app);
  } catch (err) {
    if (err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 403) {
      const n = showErrors(err, "a");
      $("result").replaceChildren(el("p", { class: "error", role: "alert", id: "result-error" },
        n + " problem(s) in the application: see the messages next to the fields."));
    }
  } finally { button.disabled = false; }
}

async function compareTwo() {
  clearErrors();
  if (!state.schema.length) await loadSchema();
  let b;
  try { b = JSON.parse($("json-b").value); } catch (err) {
    $("json-b-error").textContent = "The second applicant is not valid JSON: " + err.message;
    $("json-b").focus();
    return;
  }
  const button = $("compare");
  button.disabled = true;
  try {
    const c = await call("compare", { a: readFields(), b });
    renderComparison(c);
  } catch (err) {
    if (err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 403) {
      const detail = (err.body && err.body.detail) || [];
      const bErrors = detail.filter((d) => (d.field || "").startsWith("b."));
      const aErrors = detail.filter((d) => !(d.field || "").startsWith("b."));
      if (aErrors.length) showErrors({ body: { detail: aErrors }, message: err.message }, "a");
      if (bErrors.length) showErrors({ body: { detail: bErrors }, message: err.message }, "b");
      $("comparison").replaceChildren(el("p", { class: "error", role: "alert" }, detail.length + " problem(s): see the messages next to the fields."));
    }
  } finally { button.disabled = false; }
}

function renderComparison(c) {
  const card = el("div", { class: "card" }, el("h3", { tabindex: "-1", id: "comparison-heading" },
    "Applicant " + c.a.client_id + " (A) against applicant " + c.b.client_id + " (B)"));
  const dec = (p) => (p.decision === "approve" ? "\u2714 approve" : "\u2716 decline");
  card.append(table("compare-summary", "Both decisions", ["Measure", "A", "B", "B \u2212 A"], [
    ["Estimated probability of default", pct(c.a.probability_default), pct(c.b.probability_default), signed(100 * c.probability_difference, 2) + " pts"],
    ["Decision", dec(c.a), dec(c.b), c.a.decision === c.b.decision ? "same" : "different"],
    ["Log-odds", c.margin_a.toFixed(4), c.margin_b.toFixed(4), signed(c.margin_difference, 4)],
  ]));
  const top = c.groups.slice(0, 10), rest = c.groups.slice(10);
  const restSum = rest.reduce((s, g) => s + g.delta, 0);
  const items = top.map((g) => ({ label: g.label, value: g.delta }));
  if (rest.length) items.push({ label: rest.length + " other groups", value: restSum });
  card.append(el("h3", {}, "What explains the gap"));
  card.append(waterfall(items, "Change in contribution from A to B, by reason group"));
  const rows = top.map((g) => [g.label, signed(g.contribution_a, 4), signed(g.contribution_b, 4), signed(g.delta, 4)]);
  if (rest.length) rows.push([rest.length + " other groups", "", "", signed(restSum, 4)]);
  rows.push(["Total (= log-odds difference)", "", "", signed(c.groups.reduce((s, g) => s + g.delta, 0), 4)]);
  card.append(table("groups", "Reason groups, largest change first", ["Reason group", "A", "B", "Change"], rows));
  card.append(el("h3", {}, "Fields that differ (" + c.differing_fields.length + ")"));
  card.append(table("differing", "Fields whose values differ", ["Field", "A", "B"],
    c.differing_fields.map((d) => [d.field, show(d.a), show(d.b)])));
  $("comparison").replaceChildren(card);
  $("comparison-heading").focus();
}

// -------------------------------------------------------------------- loading inputs
function loadApplication(app) {
  clearErrors();
  fillFields(app);
  state.original = null;
  $("result").replaceChildren(el("p", {}, "Application " + show(app.SK_ID_CURR) + " loaded: choose \u201cScore this application\u201d."));
}
function useJson() {
  clearErrors();
  let app;
  try { app = JSON.parse($("json-a").value); } catch (err) {
    $("json-a-error").textContent = "This is not valid JSON: " + err.message;
    $("json-a").focus();
    return;
  }
  if (!app || typeof app !== "object" || Array.isArray(app)) {
    $("json-a-error").textContent = "Expected one application: a JSON object of fields.";
    return;
  }
  const unknown = Object.keys(app).filter((k) => !state.schema.some((f) => f.name === k));
  if (unknown.length) { $("json-a-error").textContent = "Unknown field(s): " + unknown.slice(0, 5).join(", "); return; }
  loadApplication(app);
}
function readFile(input, textarea, then) {
  const file = input.files && input.files[0];
  if (!file) return;
  file.text().then((text) => { $(textarea).value = text; if (then) then(); });
}
async function loadSchema() {
  try {
    const card = await call("model");
    state.schema = card.schema;
    buildFields(state.schema);
  } catch (err) { /* the banner says why */ }
}
async function loadExamples() {
  try { state.examples = (await call("examples")).examples; } catch (err) { state.examples = []; }
  for (const id of ["example-a", "example-b"]) {
    $(id).replaceChildren(...state.examples.map((e, i) => el("option", { value: String(i) }, e.name)));
  }
  if (state.examples.length > 1) $("example-b").value = "1";
}

// ------------------------------------------------------------------------------ sign-in
function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function redirectUri() { return location.origin + location.pathname; }
function showSignIn() {
  if (!state.auth.domain) return;
  $("signin").hidden = false;
}
async function signIn(event) {
  event.preventDefault();
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem("officer-verifier", verifier);
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const q = new URLSearchParams({ response_type: "code", client_id: state.auth.client_id, redirect_uri: redirectUri(),
    scope: "openid email", code_challenge_method: "S256", code_challenge: challenge });
  location.assign(state.auth.domain + "/oauth2/authorize?" + q);
}
async function finishSignIn() {
  const code = new URLSearchParams(location.search).get("code");
  if (!code) return;
  history.replaceState(null, "", redirectUri());
  const body = new URLSearchParams({ grant_type: "authorization_code", client_id: state.auth.client_id, code,
    redirect_uri: redirectUri(), code_verifier: sessionStorage.getItem("officer-verifier") || "" });
  const response = await fetch(state.auth.domain + "/oauth2/token", { method: "POST", body,
    headers: { "Content-Type": "application/x-www-form-urlencoded" } });
  if (!response.ok) { banner("Sign-in failed (HTTP " + response.status + "). Try again."); return; }
  state.token = (await response.json()).access_token;
  sessionStorage.setItem("officer-token", state.token);
}

// --------------------------------------------------------------------------------- start
async function start() {
  try { state.auth = JSON.parse(document.querySelector('meta[name="officer-auth"]').content || "{}"); } catch (err) { state.auth = {}; }
  $("signin-link").addEventListener("click", signIn);
  $("load-a").addEventListener("click", () => { const e = state.examples[Number($("example-a").value)]; if (e) loadApplication(e.application); });
  $("load-b").addEventListener("click", () => { const e = state.examples[Number($("example-b").value)]; if (e) $("json-b").value = JSON.stringify(e.application, null, 1); });
  $("use-json-a").addEventListener("click", useJson);
  $("file-a").addEventListener("change", () => readFile($("file-a"), "json-a", useJson));
  $("file-b").addEventListener("change", () => readFile($("file-b"), "json-b"));
  $("score").addEventListener("click", score);
  $("compare").addEventListener("click", compareTwo);
  if (state.auth.domain) {
    await finishSignIn();
    state.token = state.token || sessionStorage.getItem("officer-token");
    if (!state.token) { showSignIn(); return; }
  }
  await loadSchema();
  await loadExamples();
  if (state.examples.length && state.schema.length) {
    loadApplication(state.examples[0].application);
    $("json-b").value = JSON.stringify(state.examples[Math.min(1, state.examples.length - 1)].application, null, 1);
  }
  document.body.dataset.ready = "true";
}
start().catch((err) => banner("The page could not start: " + err.message));
