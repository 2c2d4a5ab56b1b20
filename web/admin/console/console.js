// Concierge staff console. Every value from the server is rendered with
// textContent or as an attribute value, never parsed as HTML, because
// shoppers write the conversation text.
"use strict";

const TOKEN_KEY = "concierge.admin.token";
const AGENT_KEY = "concierge.admin.agent";

const state = { cursor: "", pageCursors: [], current: "", stream: null };

function $(id) { return document.getElementById(id); }

// el builds an element; children that are strings become text nodes.
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "className") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

function clear(node) { node.replaceChildren(); }

function status(text, isError) {
  const node = $("status");
  node.textContent = text || "";
  node.className = isError ? "error" : "";
}

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

function agentName() { return $("agent-name").value.trim(); }

function formatTime(t) {
  if (!t || t.startsWith("0001-")) return "";
  return new Date(t).toLocaleString();
}

// api calls the admin API with the staff token and returns the decoded
// JSON body; it throws an Error with the server's message on failure.
async function api(method, path, body) {
  const init = { method, headers: { "Authorization": "Bearer " + token() } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (resp.status === 401) {
    signOut("The token was rejected. Sign in again.");
    throw new Error("unauthorized");
  }
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.error || ("request failed with status " + resp.status));
  return data;
}

// ---- sign in ----

function showApp(signedIn) {
  $("login").hidden = signedIn;
  $("tabs").hidden = !signedIn;
  if (signedIn) showTab("conversations");
  else for (const s of document.querySelectorAll(".tab, #transcript")) s.hidden = true;
}

async function signIn(event) {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token").value = "";
  try {
    await api("GET", "/api/admin/conversations?limit=1");
    $("login-error").textContent = "";
    showApp(true);
    loadList("");
  } catch (err) {
    $("login-error").textContent = err.message === "unauthorized" ? "That token is not valid." : err.message;
  }
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  stopStream();
  showApp(false);
  $("login-error").textContent = typeof message === "string" ? message : "";
}

// ---- tabs ----

function showTab(name) {
  for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== name;
  $("transcript").hidden = true;
  for (const b of document.querySelectorAll("#tabs [data-tab]")) {
    b.classList.toggle("active", b.dataset.tab === name);
  }
  if (name === "live") { loadLive(); startStream(); }
  if (name === "experiments") loadReport();
}

// ---- experiments ----

function percent(v) { return (100 * (v || 0)).toFixed(2) + "%"; }

function formatP(p) { return p === undefined || p === null ? "-" : p.toFixed(4); }

// barChart draws one bar per group with its 95% interval as a whisker,
// built with DOM calls so no server text is parsed as markup.
function barChart(container, groups, pick) {
  const ns = "http://www.w3.org/2000/svg";
  clear(container);
  if (!groups.length) { container.append(el("p", {}, "No data yet.")); return; }
  const width = 760, rowH = 34, left = 140, right = 230;
  const max = Math.max(0.0001, ...groups.map(g => pick(g).high || 0));
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${groups.length * rowH + 10}`);
  svg.setAttribute("role", "img");
  const scale = v => left + (width - left - right) * (v / max);
  groups.forEach((g, i) => {
    const r = pick(g), y = 8 + i * rowH;
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", 0); label.setAttribute("y", y + 17);
    label.textContent = g.name || "(none)";
    const bar = document.createElementNS(ns, "rect");
    bar.setAttribute("x", left); bar.setAttribute("y", y + 4);
    bar.setAttribute("width", Math.max(1, scale(r.value) - left)); bar.setAttribute("height", 18);
    bar.setAttribute("class", "bar");
    const whisker = document.createElementNS(ns, "line");
    whisker.setAttribute("x1", scale(r.low)); whisker.setAttribute("x2", scale(r.high));
    whisker.setAttribute("y1", y + 13); whisker.setAttribute("y2", y + 13);
    whisker.setAttribute("class", "whisker");
    const value = document.createElementNS(ns, "text");
    value.setAttribute("x", width - right + 8); value.setAttribute("y", y + 17);
    value.textContent = `${percent(r.value)} [${percent(r.low)}, ${percent(r.high)}]`;
    svg.append(label, bar, whisker, value);
  });
  container.append(svg);
}

function reportTable(table, groups, withTests) {
  const head = ["Name", "Conversations", "Impressions", "Clicks", "Redemptions", "Conversions",
    "Revenue", "CTR [95% CI]", "Conversion [95% CI]"];
  if (withTests) head.push("CTR p", "Conversion p");
  clear(table.tHead);
  table.tHead.append(el("tr", {}, ...head.map(h => el("th", {}, h))));
  const body = table.tBodies[0];
  clear(body);
  for (const g of groups) {
    const cells = [g.name || "(none)", g.conversations, g.impressions, g.clicks, g.redemptions,
      g.conversions, (g.revenue || 0).toFixed(2),
      `${percent(g.ctr.value)} [${percent(g.ctr.low)}, ${percent(g.ctr.high)}]`,
      `${percent(g.conversion_rate.value)} [${percent(g.conversion_rate.low)}, ${percent(g.conversion_rate.high)}]`];
    if (withTests) cells.push(formatP(g.ctr_p_value), formatP(g.conversion_p_value));
    body.append(el("tr", {}, ...cells.map(c => el("td", {}, String(c)))));
  }
}

async function loadReport() {
  const epsilon = $("report-epsilon").value || "0";
  $("report-status").textContent = "Loading…";
  try {
    const r = await api("GET", "/api/admin/reports/experiments?epsilon=" + encodeURIComponent(epsilon));
    const variants = r.variants || [], offers = r.offers || [];
    let summary = r.experiment ? `Experiment ${r.experiment}, control ${r.control || "-"}.` : "No experiment configured.";
    summary += r.epsilon ? ` Counts carry Laplace noise with epsilon ${r.epsilon}.` : " Exact counts.";
    $("report-summary").textContent = summary;
    barChart($("chart-ctr"), variants, g => g.ctr);
    barChart($("chart-conversion"), variants, g => g.conversion_rate);
    reportTable($("report-variants"), variants, true);
    reportTable($("report-offers"), offers, false);
    $("report-status").textContent = "";
  } catch (err) {
    $("report-status").textContent = err.message;
  }
}

// ---- conversation list ----

function filterParams() {
  const params = new URLSearchParams();
  for (const input of $("filters").elements) {
    if (!input.name || !input.value) continue;
    params.set(input.name, input.value);
  }
  return params;
}

async function loadList(cursor) {
  const params = filterParams();
  params.set("limit", "50");
  if (cursor) params.set("cursor", cursor);
  try {
    const data = await api("GET", "/api/admin/conversations?" + params);
    renderList(data.conversations);
    state.cursor = data.next_cursor;
    $("next-page").disabled = !data.next_cursor;
    $("list-status").textContent = data.conversations.length + " conversations";
    status("");
  } catch (err) {
    status(err.message, true);
  }
}

function renderList(rows) {
  const body = $("list").tBodies[0];
  clear(body);
  for (const c of rows) {
    body.append(el("tr", { onclick: () => openTranscript(c.user_id) },
      el("td", {}, formatTime(c.updated)),
      el("td", {}, c.user_id),
      el("td", {}, c.messages),
      el("td", { className: "text" }, c.last_text),
      el("td", {}, c.scenario_labels.join(", ")),
      el("td", {}, c.intents.join(", ")),
      el("td", {}, c.emotions.join(", ")),
      el("td", {}, c.offers.join(", ")),
      el("td", {}, c.handed_over ? "staff" : "")));
  }
}

// ---- transcript ----

async function openTranscript(userID) {
  try {
    const data = await api("GET", "/api/admin/conversations/" + encodeURIComponent(userID));
    state.current = userID;
    for (const s of document.querySelectorAll(".tab")) s.hidden = true;
    $("transcript").hidden = false;
    renderTranscript(data);
    status("");
  } catch (err) {
    status(err.message, true);
  }
}

function renderTranscript(data) {
  const p = data.profile;
  $("transcript-title").textContent = "Conversation of " + data.user_id;
  const profile = $("profile");
  clear(profile);
  const facts = [
    ["Conversation", data.conversation_id], ["First seen", formatTime(p.first_seen)],
    ["Last seen", formatTime(p.last_seen)], ["Visits", p.visits], ["Turns", p.turns],
    ["Locale", p.locale || ""], ["Country", p.country || ""], ["Segment", p.segment || ""],
    ["Purchases", p.purchases || 0], ["Revenue", p.revenue || 0],
    ["Owner", p.handed_over ? "staff since " + formatTime(p.handed_over_at) : "bot"],
  ];
  for (const [term, value] of facts) profile.append(el("dt", {}, term), el("dd", {}, String(value)));

  const list = $("messages");
  clear(list);
  for (const m of data.messages) list.append(renderMessage(m));

  const events = $("events");
  clear(events);
  for (const e of data.events) {
    const parts = [formatTime(e.time), e.type, e.product_id, e.offer_id, e.value ? "value " + e.value : "",
      e.rating ? "rating " + e.rating : ""].filter(Boolean);
    events.append(el("li", {}, parts.join(" · ")));
  }
}

function renderMessage(m) {
  let thumbs = "";
  if (m.feedback > 0) thumbs = " 👍";
  if (m.feedback < 0) thumbs = " 👎";
  const item = el("li", { className: m.role },
    el("div", { className: "meta" }, "#" + m.seq + " · " + m.role + " · " + formatTime(m.time) + thumbs),
    el("div", { className: "body" }, m.text));
  if (m.turn) item.append(renderDecision(m.turn));
  for (const a of m.annotations) {
    item.append(el("div", { className: "annotation" },
      [a.label, a.note].filter(Boolean).join(": ") + " — " + (a.author || "staff") + ", " + formatTime(a.time)));
  }
  item.append(annotationForm(m.seq));
  return item;
}

function renderDecision(t) {
  const rows = [
    ["Scenario", t.scenario_label], ["Intent", t.intent], ["Emotion", t.emotion],
    ["Segment", t.segment], ["Variant", t.variant], ["Offer", t.offer_id],
    ["Model", t.fallback ? "offline fallback (" + (t.fallback_reason || "unknown") + ")" : [t.provider, t.model].filter(Boolean).join(" / ")],
    ["Tokens", (t.tokens_in || 0) + " in, " + (t.tokens_out || 0) + " out"],
    ["Latency", "first token " + (t.first_token_ms || 0) + " ms, total " + (t.total_ms || 0) + " ms"],
  ];
  const table = el("table", {});
  for (const [k, v] of rows) table.append(el("tr", {}, el("th", {}, k), el("td", {}, v || "")));
  for (const p of t.products || []) {
    table.append(el("tr", {}, el("th", {}, "Product"), el("td", {}, p.id + " (score " + p.score.toFixed(3) + ")")));
  }
  const details = t.details || {};
  if (details.scenario && details.scenario.reasons) {
    table.append(el("tr", {}, el("th", {}, "Reasons"), el("td", {}, details.scenario.reasons.join("; "))));
  }
  if (details.offer_reason) {
    table.append(el("tr", {}, el("th", {}, "Why this offer"), el("td", {}, details.offer_reason)));
  }
  return el("details", {}, el("summary", {}, "Decision " + t.turn_id), table,
    el("pre", {}, JSON.stringify(details, null, 2)));
}

function annotationForm(seq) {
  const label = el("input", { placeholder: "label", maxlength: "64" });
  const note = el("input", { placeholder: "note", maxlength: "2000" });
  const form = el("form", { className: "annotate-form" }, label, " ", note, " ", el("button", { type: "submit" }, "Annotate"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/api/admin/conversations/" + encodeURIComponent(state.current) + "/annotations",
        { seq, label: label.value, note: note.value, author: agentName() });
      openTranscript(state.current);
    } catch (err) {
      status(err.message, true);
    }
  });
  return form;
}

function requireAgent() {
  if (agentName()) return true;
  status("Enter your name at the top first: shoppers see it.", true);
  $("agent-name").focus();
  return false;
}

async function conversationAction(action, body) {
  try {
    const data = await api("POST", "/api/admin/conversations/" + encodeURIComponent(state.current) + "/" + action, body);
    status(action + " done; " + data.connections + " open connection(s) notified");
    openTranscript(state.current);
  } catch (err) {
    status(err.message, true);
  }
}

async function sendAgentMessage(event) {
  event.preventDefault();
  const text = $("agent-text").value.trim();
  if (!text || !requireAgent()) return;
  await conversationAction("messages", { agent: agentName(), text });
  $("agent-text").value = "";
}

async function eraseUser() {
  if (!confirm("Erase every stored message, event and profile of " + state.current + "? This cannot be undone.")) return;
  try {
    await api("DELETE", "/api/admin/users/" + encodeURIComponent(state.current));
    status("Erased " + state.current);
    showTab("conversations");
    loadList("");
  } catch (err) {
    status(err.message, true);
  }
}

// ---- live view ----

async function loadLive() {
  try {
    const data = await api("GET", "/api/admin/live");
    const body = $("live-list").tBodies[0];
    clear(body);
    for (const c of data.conversations) {
      body.append(el("tr", { onclick: () => openTranscript(c.user_id) },
        el("td", {}, c.user_id), el("td", {}, c.connected ? "yes" : "no"),
        el("td", {}, c.handed_over ? "staff" : "bot"),
        el("td", {}, formatTime(c.updated || c.last_seen)), el("td", { className: "text" }, c.last_text || "")));
    }
  } catch (err) {
    status(err.message, true);
  }
}

function stopStream() {
  if (state.stream) state.stream.abort();
  state.stream = null;
}

// startStream reads the Server-Sent Events of /api/admin/events with fetch,
// because EventSource cannot send the Authorization header.
async function startStream() {
  if (state.stream) return;
  const controller = new AbortController();
  state.stream = controller;
  $("live-status").textContent = "connecting…";
  try {
    const resp = await fetch("/api/admin/events", { headers: { "Authorization": "Bearer " + token() }, signal: controller.signal });
    if (!resp.ok) throw new Error("event stream failed with status " + resp.status);
    $("live-status").textContent = "receiving new messages";
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        handleEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
    $("live-status").textContent = "stream ended; press Refresh";
  } catch (err) {
    if (!controller.signal.aborted) $("live-status").textContent = err.message;
  }
  if (state.stream === controller) state.stream = null;
}

function handleEvent(block) {
  const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
  if (!data) return;
  const ev = JSON.parse(data);
  let line;
  if (ev.type === "message") line = ev.user_id + " · " + ev.role + (ev.agent ? " " + ev.agent : "") + " #" + ev.seq + ": " + ev.text;
  else if (ev.type === "handover") line = ev.user_id + " · now answered by " + (ev.state === "agent" ? "staff " + (ev.agent || "") : "the bot");
  else line = ev.user_id + " · " + ev.type;
  const feed = $("feed");
  feed.prepend(el("li", { onclick: () => openTranscript(ev.user_id) }, formatTime(ev.time) + " " + line));
  while (feed.children.length > 200) feed.lastChild.remove();
  if (ev.user_id === state.current && !$("transcript").hidden) openTranscript(state.current);
}

// ---- export and catalog ----

async function exportAs(format) {
  const params = filterParams();
  params.set("format", format);
  $("export-status").textContent = "exporting…";
  try {
    const resp = await fetch("/api/admin/export?" + params, { headers: { "Authorization": "Bearer " + token() } });
    if (!resp.ok) throw new Error((await resp.json().catch(() => ({}))).error || "export failed");
    const blob = await resp.blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: "conversations." + format });
    link.click();
    URL.revokeObjectURL(link.href);
    $("export-status").textContent = "done";
  } catch (err) {
    $("export-status").textContent = err.message;
  }
}

async function uploadCatalog(event) {
  event.preventDefault();
  const file = $("catalog-file").files[0];
  if (!file) return;
  const params = new URLSearchParams({ name: file.name, prune: String($("catalog-prune").checked) });
  if ($("catalog-format").value) params.set("format", $("catalog-format").value);
  $("catalog-result").textContent = "uploading…";
  try {
    const resp = await fetch("/api/admin/catalog?" + params, { method: "POST", body: file, headers: { "Authorization": "Bearer " + token() } });
    const data = await resp.json().catch(() => ({}));
    $("catalog-result").textContent = resp.ok ? JSON.stringify(data, null, 2) : (data.error || "upload failed");
  } catch (err) {
    $("catalog-result").textContent = err.message;
  }
}

// ---- wiring ----

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut(""));
  $("agent-name").value = localStorage.getItem(AGENT_KEY) || "";
  $("agent-name").addEventListener("change", () => localStorage.setItem(AGENT_KEY, agentName()));
  for (const b of document.querySelectorAll("#tabs [data-tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("report-form").addEventListener("submit", e => { e.preventDefault(); loadReport(); });
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); loadList(""); });
  $("first-page").addEventListener("click", () => loadList(""));
  $("next-page").addEventListener("click", () => loadList(state.cursor));
  $("transcript-close").addEventListener("click", () => showTab("conversations"));
  $("takeover").addEventListener("click", () => { if (requireAgent()) conversationAction("takeover", { agent: agentName() }); });
  $("handback").addEventListener("click", () => conversationAction("handback"));
  $("erase").addEventListener("click", eraseUser);
  $("agent-form").addEventListener("submit", sendAgentMessage);
  $("live-refresh").addEventListener("click", () => { loadLive(); startStream(); });
  $("export-jsonl").addEventListener("click", () => exportAs("jsonl"));
  $("export-csv").addEventListener("click", () => exportAs("csv"));
  $("catalog-form").addEventListener("submit", uploadCatalog);
  if (token()) { showApp(true); loadList(""); } else showApp(false);
});
