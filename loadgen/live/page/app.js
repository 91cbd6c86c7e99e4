// loadgen live: the page. Plain JavaScript, no libraries; the charts are
// drawn here as SVG. State comes from the server as Server-Sent Events
// (/events); knobs and demos are POSTed with the session's token in the
// X-Live-Token header.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const WINDOW_S = 60; // seconds of history a chart shows

// Okabe–Ito colours (safe for the common colour-vision deficiencies), one
// per pane, each with its own dash pattern so that colour is never the
// only cue. Dark and light themes use the variant that contrasts best.
const PALETTE = {
  dark: ["#E69F00", "#56B4E9", "#2ECC9A", "#E08CC0"],
  light: ["#D55E00", "#0072B2", "#007A5A", "#AA4499"],
};
const DASH = ["", "14 6", "3 5", "14 5 3 5"];
const MARK = ["●", "■", "▲", "◆"];

const METRICS = [
  { key: "rps", title: "Answers per second", unit: "req/s", bound: "bound_rps", boundName: "Little's bound" },
  { key: "p50_ms", title: "p50 latency (this second)", unit: "ms", log: true, bound: "floor_ms", boundName: "the wait" },
  { key: "p99_ms", title: "p99 latency (this second)", unit: "ms", log: true, bound: "floor_ms", boundName: "the wait" },
  { key: "canary_p99_ms", title: "Canary p99 (bystanders; ≥: stuck so far)", unit: "ms", log: true },
  { key: "errors", title: "Errors per second", unit: "/s", minTop: 4 },
  { key: "threads", title: "OS threads (server tree)", unit: "", minTop: 4 },
  { key: "rss_mib", title: "Memory (RSS)", unit: "MiB" },
  { key: "cpu_pct", title: "CPU (100 % = one core)", unit: "%" },
  { key: "ctx_per_req", title: "Context switches per request", unit: "" },
];

const ROUTES = [
  ["plaintext", "/plaintext"], ["io", "/io (wait)"], ["cpu", "/cpu (work)"],
  ["fanout-seq", "/fanout seq"], ["fanout-par", "/fanout par"],
];

const live = {
  info: null, state: null, points: [], last: {}, lastLoaded: {}, demo: null, viewFrom: 0,
  theme: "dark", charts: [], editing: false,
};
window.live = live; // for the browser test and the curious

const $ = (sel, el = document) => el.querySelector(sel);
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids) if (k) e.append(k);
  return e;
}

// ---- talking to the server ------------------------------------------------

async function api(path, body) {
  const opt = body === undefined ? { headers: { "X-Live-Token": token } } : {
    method: "POST", body: JSON.stringify(body),
    headers: { "X-Live-Token": token, "Content-Type": "application/json" },
  };
  const r = await fetch(path, opt);
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}

function say(msg) { $("#msg").textContent = msg || ""; }

function connect() {
  const es = new EventSource("events?token=" + encodeURIComponent(token));
  es.addEventListener("open", () => setConn(true));
  es.addEventListener("error", () => setConn(false));
  es.addEventListener("state", (e) => onState(JSON.parse(e.data)));
  es.addEventListener("backlog", (e) => {
    live.points = JSON.parse(e.data) || [];
    for (const p of live.points) { live.last[p.pane] = p; if (p.load) live.lastLoaded[p.pane] = p; }
    renderNumbers(); scheduleDraw();
  });
  es.addEventListener("point", (e) => onPoint(JSON.parse(e.data)));
  es.addEventListener("demo", (e) => onDemo(JSON.parse(e.data)));
  es.addEventListener("log", (e) => log(JSON.parse(e.data)));
}

function setConn(ok) {
  const c = $("#conn");
  c.textContent = ok ? "live" : "disconnected: is loadgen live still running?";
  c.className = "pill " + (ok ? "ok" : "bad");
}

function log(line) {
  const l = $("#log");
  const t = new Date().toLocaleTimeString();
  l.textContent += t + "  " + line + "\n";
  const lines = l.textContent.split("\n");
  if (lines.length > 200) l.textContent = lines.slice(-200).join("\n");
  l.scrollTop = l.scrollHeight;
}

// ---- state ----------------------------------------------------------------

function onState(st) {
  live.state = st;
  if (st.demo) onDemo(st.demo);
  const n = (st.panes || []).length;
  if (n > 0 && !live.editing) {
    $("#npanes").value = String(n);
    buildPanes(n);
    st.panes.forEach((p) => setKnobs(p.idx, p.settings));
  }
  (st.panes || []).forEach((p) => {
    const card = $("#pane-" + p.idx);
    if (!card) return;
    const s = $(".status", card);
    s.textContent = p.status + (p.settings.load ? " · load on" : "") + (p.error ? ": " + p.error : "");
    s.className = "status" + (p.status === "error" ? " error" : "");
    $(".twin", card).textContent = (p.model || "") + (p.style ? " · " + p.style : "") + (p.twin ? " — like " + p.twin : "");
  });
  updateCap();
}

function onPoint(p) {
  live.points.push(p);
  if (live.points.length > 8000) live.points.splice(0, 4000);
  live.last[p.pane] = p;
  if (p.load) live.lastLoaded[p.pane] = p;
  renderNumbers();
  scheduleDraw();
}

function onDemo(d) {
  // A demo that starts clears the charts' view: they show from its start.
  const wasRunning = live.demo && live.demo.state === "running" && live.demo.id === d.id;
  if (d.state === "running" && !wasRunning) {
    live.viewFrom = live.points.length ? live.points[live.points.length - 1].t : 0;
    scheduleDraw();
  }
  live.demo = d;
  const b = $("#banner");
  b.dataset.state = d.state;
  b.dataset.demo = d.id;
  let title = `Claim ${d.claim} · ${d.title}`;
  if (d.state === "running") title += ` · running${d.phase ? " · " + d.phase : ""} · ${d.seconds} s`;
  else if (d.state !== "done") title += ` · ${d.state}`;
  $("#banner-title").textContent = title;
  $("#banner-claim").textContent = "“" + d.sentence + "”";
  $("#banner-result").textContent = d.state === "done" ? "Measured: " + d.result
    : d.error ? d.error : "measuring…";
  document.querySelectorAll("button.demo").forEach((x) => x.setAttribute("aria-pressed", String(x.dataset.id === d.id && d.state === "running")));
}

// ---- panes and knobs -------------------------------------------------------

function configByName(n) { return (live.info.configs || []).find((c) => c.name === n); }

function defaultSettings(i) {
  const names = ["eventloop-async", "blocking-os", "eventloop-pool", "prefork-1"];
  const have = (live.info.configs || []).map((c) => c.name);
  const config = have.includes(names[i]) ? names[i] : have[i % have.length];
  return { config, route: "io", ms: 50, work: 10000, calls: 3, conns: 100, rate: 0, handler: "", canary: true };
}

function buildPanes(n) {
  const box = $("#panes");
  while (box.children.length > n) box.lastChild.remove();
  for (let i = box.children.length; i < n; i++) box.append(paneCard(i));
  updateCap();
}

function paneCard(i) {
  const colour = () => PALETTE[live.theme][i];
  const card = el("div", { class: "pane", id: "pane-" + i });
  card.style.borderColor = colour();
  const h = el("h3", {}, swatch(i, 54), el("span", { text: `Pane ${i + 1} ${MARK[i]}` }), el("span", { class: "status", text: "not started" }));
  const cfg = el("select", { name: "config", "aria-label": `pane ${i + 1} configuration` });
  const twins = el("optgroup", { label: "twins (Go)" }), stacks = el("optgroup", { label: "real stacks" });
  for (const c of live.info.configs || []) {
    (c.kind === "stack" ? stacks : twins).append(el("option", { value: c.name, text: c.name }));
  }
  cfg.append(twins);
  if (stacks.children.length) cfg.append(stacks);
  const route = el("select", { name: "route" });
  for (const [v, t] of ROUTES) route.append(el("option", { value: v, text: t }));
  const num = (name, min, max, step) => el("input", { type: "number", name, min, max, step: step || 1 });
  const model = el("select", { name: "model" }, el("option", { value: "closed", text: "closed loop (c connections)" }), el("option", { value: "open", text: "open loop (a rate)" }));
  const handler = el("select", { name: "handler" }, el("option", { value: "", text: "its own" }));
  for (const hs of live.info.handlers || []) handler.append(el("option", { value: hs, text: hs === "inline" ? "inline (blocking in the loop)" : hs }));
  const canary = el("input", { type: "checkbox", name: "canary" });
  const rows = [
    ["configuration", cfg], ["route", route], ["wait ms", num("ms", 0, 5000)], ["work", num("work", 0, 200000, 1000)],
    ["calls", num("calls", 1, 10)], ["load model", model], ["connections", num("conns", 1, live.info.max_conns)],
    ["rate /s", num("rate", 1, 200000, 100)], ["handler style", handler], ["canary", canary],
  ];
  const knobs = el("div", { class: "knobs" });
  for (const [label, input] of rows) {
    const id = `p${i}-${input.name}`;
    input.id = id;
    knobs.append(el("label", { for: id, text: label }), input);
    input.addEventListener("focus", () => { live.editing = true; });
    input.addEventListener("change", () => { live.editing = true; syncEnabled(i); updateCap(); });
  }
  const nums = el("div", { class: "nums" });
  for (const m of [["rps", "req/s"], ["p50_ms", "p50"], ["p99_ms", "p99"], ["canary_p99_ms", "canary p99"], ["errors", "errors/s"],
    ["threads", "threads"], ["rss_mib", "RSS MiB"], ["cpu_pct", "CPU %"], ["ctx_per_req", "ctx sw/req"]]) {
    nums.append(el("div", { class: "num" }, el("div", { class: "k", text: m[1] }), el("div", { class: "v", "data-k": m[0], text: "–" })));
  }
  card.append(h, el("div", { class: "twin" }), knobs, nums);
  setKnobs(i, defaultSettings(i), card);
  return card;
}

// swatch draws a pane's line sample: its colour and its dash pattern.
function swatch(i, w) {
  const ns = "http://www.w3.org/2000/svg";
  const s = document.createElementNS(ns, "svg");
  s.setAttribute("width", w); s.setAttribute("height", 14); s.setAttribute("class", "swatch");
  s.setAttribute("data-pane", i);
  const l = document.createElementNS(ns, "line");
  l.setAttribute("x1", 2); l.setAttribute("x2", w - 2); l.setAttribute("y1", 7); l.setAttribute("y2", 7);
  l.setAttribute("stroke", PALETTE[live.theme][i]); l.setAttribute("stroke-width", 4);
  if (DASH[i]) l.setAttribute("stroke-dasharray", DASH[i]);
  s.append(l);
  return s;
}

function field(i, name, card) { return $(`[name=${name}]`, card || $("#pane-" + i)); }

function setKnobs(i, s, card) {
  card = card || $("#pane-" + i);
  if (!card) return;
  field(i, "config", card).value = s.config;
  field(i, "route", card).value = s.route || "plaintext";
  field(i, "ms", card).value = s.ms || 50;
  field(i, "work", card).value = s.work || 10000;
  field(i, "calls", card).value = s.calls || 3;
  field(i, "model", card).value = s.rate > 0 ? "open" : "closed";
  field(i, "conns", card).value = s.conns || 10;
  field(i, "rate", card).value = s.rate > 0 ? s.rate : 1000;
  field(i, "handler", card).value = s.handler || "";
  field(i, "canary", card).checked = !!s.canary;
  card.dataset.cpus = s.cpus || "";
  syncEnabled(i, card);
}

function syncEnabled(i, card) {
  card = card || $("#pane-" + i);
  const route = field(i, "route", card).value;
  const c = configByName(field(i, "config", card).value) || {};
  field(i, "ms", card).disabled = !(route === "io" || route.startsWith("fanout"));
  field(i, "work", card).disabled = route !== "cpu";
  field(i, "calls", card).disabled = !route.startsWith("fanout");
  field(i, "rate", card).disabled = field(i, "model", card).value !== "open";
  const paths = { "plaintext": "/plaintext", "io": "/io", "cpu": "/cpu", "fanout-seq": "/fanout", "fanout-par": "/fanout" };
  for (const o of field(i, "route", card).options) o.disabled = !!(c.routes && c.routes.length && !c.routes.includes(paths[o.value]));
  field(i, "handler", card).disabled = !c.handler;
  if (!c.handler) field(i, "handler", card).value = "";
  $("label[for=p" + i + "-conns]", card).textContent = field(i, "model", card).value === "open" ? "max connections" : "connections";
}

function readKnobs(i) {
  const card = $("#pane-" + i);
  const v = (n) => Number(field(i, n, card).value);
  return {
    config: field(i, "config", card).value, route: field(i, "route", card).value,
    ms: v("ms"), work: v("work"), calls: v("calls"), conns: v("conns"),
    rate: field(i, "model", card).value === "open" ? v("rate") : 0,
    handler: field(i, "handler", card).value, canary: field(i, "canary", card).checked,
    cpus: card.dataset.cpus || "", load: true,
  };
}

function updateCap() {
  if (!live.info) return;
  let total = 0;
  document.querySelectorAll(".pane").forEach((_, i) => {
    const s = readKnobs(i);
    total += s.conns + (s.canary ? 2 : 0);
  });
  const line = $("#capline");
  line.textContent = `connections in all: ${total} of at most ${live.info.max_conns} (the nofile cap; one process holds every pane's connections)`;
  line.style.color = total > live.info.max_conns ? "var(--bad)" : "";
}

// ---- numbers ---------------------------------------------------------------

function fmtMs(v) {
  if (v === null || v === undefined) return "–";
  if (v >= 1000) return (v / 1000).toFixed(2) + " s";
  if (v >= 10) return v.toFixed(0) + " ms";
  return v.toFixed(1) + " ms";
}
function fmtNum(v, digits) {
  if (v === null || v === undefined) return "–";
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return v.toFixed(digits === undefined ? 0 : digits);
}
function fmtMetric(k, v) {
  if (k.endsWith("_ms")) return fmtMs(v);
  if (k === "ctx_per_req") return fmtNum(v, 2);
  if (k === "rss_mib" || k === "cpu_pct") return fmtNum(v, 0);
  return fmtNum(v);
}

// Numbers that only mean something under load; while a pane idles they
// show its last second under load, dimmed.
const LOAD_KEYS = new Set(["rps", "p50_ms", "p99_ms", "errors", "ctx_per_req"]);

function renderNumbers() {
  document.querySelectorAll(".pane").forEach((card, i) => {
    const p = live.last[i];
    const held = p && !p.load && live.lastLoaded[i] && live.lastLoaded[i].config === p.config ? live.lastLoaded[i] : null;
    card.querySelectorAll(".num .v").forEach((v) => {
      const k = v.dataset.k;
      const src = held && LOAD_KEYS.has(k) ? held : p;
      v.textContent = src ? (k === "canary_p99_ms" && src.canary_stalled ? "≥ " : "") + fmtMetric(k, src[k]) : "–";
      v.classList.toggle("held", src === held && !!held);
      v.title = src === held && held ? "the last second under load" : "";
      if (src && src[k] !== null && src[k] !== undefined) v.dataset.value = src[k]; else delete v.dataset.value;
    });
  });
}

// ---- charts (own SVG code) ------------------------------------------------

function buildCharts() {
  const box = $("#charts");
  box.textContent = "";
  live.charts = METRICS.map((m) => {
    const holder = el("div", { class: "chart", id: "chart-" + m.key });
    const svgBtn = el("button", { type: "button", text: "SVG", title: "download this chart as SVG" });
    const pngBtn = el("button", { type: "button", text: "PNG", title: "download this chart as PNG" });
    holder.append(el("div", { class: "head" }, el("b", { text: m.title }), el("span", { class: "sp" }), svgBtn, pngBtn), el("div", { class: "plot" }));
    svgBtn.addEventListener("click", () => download(m.key + ".svg", new Blob([chartSVG(m, true)], { type: "image/svg+xml" })));
    pngBtn.addEventListener("click", () => exportPNG(m));
    box.append(holder);
    return { m, holder };
  });
}

let drawPending = false;
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; drawCharts(); });
}

function drawCharts() {
  for (const c of live.charts) {
    const plot = $(".plot", c.holder);
    plot.innerHTML = chartSVG(c.m, false);
  }
}

function esc(s) { return String(s).replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]); }

function niceStep(span, n) {
  const raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const f of [1, 2, 2.5, 5, 10]) if (raw <= f * mag) return f * mag;
  return 10 * mag;
}

// chartSVG returns one chart as a standalone SVG document: every colour
// and size is an attribute, so the exported file looks like the page.
function chartSVG(m, standalone) {
  const W = 720, H = 270, L = 74, R = 14, T = 14, B = 40;
  const dark = live.theme === "dark";
  const bg = dark ? "#111" : "#fff", fg = dark ? "#fff" : "#000", grid = dark ? "#444" : "#ccc";
  const npanes = document.querySelectorAll(".pane").length || 1;
  const tlast = live.points.length ? live.points[live.points.length - 1].t : 0;
  const tfirst = live.points.length ? live.points[0].t : 0;
  // The window scrolls once it is full; until then the data fills it.
  const tmin = Math.max(tfirst - 1, tlast - WINDOW_S, live.viewFrom || 0);
  const span = Math.max(tlast - tmin, 20);
  const series = [], bounds = [];
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < npanes; i++) {
    const pts = [], bpts = [];
    let prev = null;
    for (const p of live.points) {
      if (p.pane !== i || p.t < tmin) continue;
      // A new configuration, or a gap, starts a new line.
      if (prev && (prev.config !== p.config || p.t - prev.t > 2.5)) { pts.push(null); bpts.push(null); }
      prev = p;
      let v = p[m.key];
      if (m.key === "rps" || m.key === "errors" || m.key === "p50_ms" || m.key === "p99_ms" || m.key === "ctx_per_req") {
        if (!p.load) v = m.key === "rps" || m.key === "errors" ? 0 : null;
      }
      if (v !== null && v !== undefined && !(m.log && v <= 0)) { pts.push([p.t, v]); lo = Math.min(lo, v); hi = Math.max(hi, v); }
      const b = m.bound ? p[m.bound] : null;
      if (b !== null && b !== undefined && p.load && !(m.log && b <= 0)) { bpts.push([p.t, b]); lo = Math.min(lo, b); hi = Math.max(hi, b); }
      else if (bpts.length && bpts[bpts.length - 1] !== null) bpts.push(null);
    }
    series.push(pts); bounds.push(bpts);
  }
  if (!isFinite(lo)) { lo = m.log ? 1 : 0; hi = m.log ? 100 : 1; }
  let y0, y1, ticks = [];
  if (m.log) {
    y0 = Math.pow(10, Math.floor(Math.log10(lo))); y1 = Math.pow(10, Math.ceil(Math.log10(hi * 1.05)));
    if (y1 <= y0) y1 = y0 * 10;
    for (let v = y0; v <= y1 * 1.001; v *= 10) ticks.push(v);
  } else {
    y0 = 0; y1 = Math.max(hi * 1.1, m.minTop || 1);
    const st = niceStep(y1 - y0, 4);
    y1 = Math.ceil(y1 / st) * st;
    for (let v = 0; v <= y1 + st / 2; v += st) ticks.push(v);
  }
  const x = (t) => L + (W - L - R) * (t - tmin) / span;
  const y = (v) => m.log ? T + (H - T - B) * (1 - (Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)))
    : T + (H - T - B) * (1 - (v - y0) / (y1 - y0));
  const fmtTick = (v) => m.unit === "ms" ? (v >= 1000 ? v / 1000 + " s" : v >= 1 ? v + " ms" : v.toFixed(1) + " ms")
    : fmtNum(v, v % 1 ? (v * 10) % 1 ? 2 : 1 : 0);
  let s = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" class="chart-svg" role="img" aria-label="${esc(m.title)}" font-family="DejaVu Sans, Arial, sans-serif">`;
  s += `<rect x="0" y="0" width="${W}" height="${H}" fill="${bg}"/>`;
  if (standalone) s += `<text x="${L}" y="${T + 4}" fill="${fg}" font-size="15" font-weight="bold">${esc(m.title)}</text>`;
  for (const v of ticks) {
    const yy = y(v).toFixed(1);
    s += `<line x1="${L}" x2="${W - R}" y1="${yy}" y2="${yy}" stroke="${grid}" stroke-width="1"/>`;
    s += `<text x="${L - 6}" y="${yy}" fill="${fg}" font-size="15" text-anchor="end" dominant-baseline="middle">${esc(fmtTick(v))}</text>`;
  }
  const tstep = span > 40 ? 10 : 5;
  for (let t = Math.ceil(tmin / tstep) * tstep; t <= tmin + span; t += tstep) {
    const xx = x(t).toFixed(1);
    s += `<line x1="${xx}" x2="${xx}" y1="${T}" y2="${H - B}" stroke="${grid}" stroke-width="1"/>`;
    s += `<text x="${xx}" y="${H - B + 18}" fill="${fg}" font-size="14" text-anchor="middle">${t} s</text>`;
  }
  s += `<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="${fg}" stroke-width="1.5"/>`;
  s += `<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="${fg}" stroke-width="1.5"/>`;
  const pal = PALETTE[live.theme];
  let npts = 0;
  for (let i = 0; i < npanes; i++) {
    for (const seg of segments(bounds[i])) {
      s += `<path d="${stepPath(seg, x, y)}" fill="none" stroke="${pal[i]}" stroke-width="2" stroke-dasharray="2 5" stroke-linecap="round" opacity="0.9" class="bound" data-pane="${i}"/>`;
    }
    let lastPt = null;
    for (const seg of segments(series[i])) {
      npts += seg.length;
      const poly = seg.map(([t, v]) => x(t).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
      s += `<polyline points="${poly}" fill="none" stroke="${pal[i]}" stroke-width="3.5" stroke-linejoin="round"${DASH[i] ? ` stroke-dasharray="${DASH[i]}"` : ""} class="series" data-pane="${i}" data-n="${seg.length}"/>`;
      if (seg.length === 1) s += `<circle cx="${x(seg[0][0]).toFixed(1)}" cy="${y(seg[0][1]).toFixed(1)}" r="2.5" fill="${pal[i]}"/>`;
      lastPt = seg[seg.length - 1];
    }
    if (lastPt) s += marker(i, x(lastPt[0]), y(lastPt[1]), pal[i]);
  }
  // legend
  let lx = L + 8;
  const ly = H - 8;
  for (let i = 0; i < npanes; i++) {
    const name = (live.state && live.state.panes && live.state.panes[i]) ? live.state.panes[i].config : "pane " + (i + 1);
    s += `<line x1="${lx}" x2="${lx + 34}" y1="${ly - 5}" y2="${ly - 5}" stroke="${pal[i]}" stroke-width="3.5"${DASH[i] ? ` stroke-dasharray="${DASH[i]}"` : ""}/>`;
    s += marker(i, lx + 17, ly - 5, pal[i]);
    const label = `${i + 1} ${name}`;
    s += `<text x="${lx + 40}" y="${ly}" fill="${fg}" font-size="13">${esc(label)}</text>`;
    lx += 52 + label.length * 7.4;
  }
  if (m.bound && bounds.some((b) => b.length)) {
    s += `<text x="${W - R}" y="${ly}" fill="${fg}" font-size="13" text-anchor="end">dotted: ${esc(m.boundName)}</text>`;
  }
  s = s.replace('class="chart-svg"', `class="chart-svg" data-points="${npts}"`);
  return s + "</svg>";
}

// segments splits a series at its nulls (gaps, configuration changes).
function segments(pts) {
  const out = [];
  let cur = [];
  for (const p of pts) {
    if (p === null) { if (cur.length) out.push(cur); cur = []; } else cur.push(p);
  }
  if (cur.length) out.push(cur);
  return out;
}

function stepPath(pts, x, y) {
  let d = "";
  pts.forEach(([t, v], k) => {
    const xx = x(Math.max(t - 1, pts[0][0] - 1)).toFixed(1), yy = y(v).toFixed(1);
    d += (k === 0 ? "M" : "L") + xx + "," + yy + "L" + x(t).toFixed(1) + "," + yy;
  });
  return d;
}

// marker shapes repeat the pane's identity without colour.
function marker(i, cx, cy, colour) {
  const r = 6;
  switch (i) {
    case 0: return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${r}" fill="${colour}"/>`;
    case 1: return `<rect x="${(cx - r).toFixed(1)}" y="${(cy - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="${colour}"/>`;
    case 2: return `<polygon points="${cx.toFixed(1)},${(cy - r - 1).toFixed(1)} ${(cx + r + 1).toFixed(1)},${(cy + r).toFixed(1)} ${(cx - r - 1).toFixed(1)},${(cy + r).toFixed(1)}" fill="${colour}"/>`;
    default: return `<polygon points="${cx.toFixed(1)},${(cy - r - 1).toFixed(1)} ${(cx + r + 1).toFixed(1)},${cy.toFixed(1)} ${cx.toFixed(1)},${(cy + r + 1).toFixed(1)} ${(cx - r - 1).toFixed(1)},${cy.toFixed(1)}" fill="${colour}"/>`;
  }
}

function download(name, blob) {
  const a = el("a", { download: name });
  a.href = URL.createObjectURL(blob);
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

function exportPNG(m) {
  const svg = chartSVG(m, true);
  const img = new Image();
  const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
  img.onload = () => {
    const scale = 2; // slides want pixels
    const c = document.createElement("canvas");
    c.width = img.width * scale; c.height = img.height * scale;
    const g = c.getContext("2d");
    g.scale(scale, scale);
    g.drawImage(img, 0, 0);
    URL.revokeObjectURL(url);
    c.toBlob((b) => download(m.key + ".png", b), "image/png");
  };
  img.src = url;
}

// ---- controls --------------------------------------------------------------

async function applyPanes() {
  live.editing = false;
  const n = Number($("#npanes").value);
  const panes = [];
  for (let i = 0; i < n; i++) panes.push(readKnobs(i));
  say("starting…");
  try { await api("api/panes", { panes }); say(""); } catch (e) { say(e.message); }
}

async function runDemo(id) {
  say("");
  live.editing = false;
  try { await api("api/demo", { id, seconds: Number($("#demo-secs").value) }); } catch (e) { say(e.message); }
}

function applyTheme() {
  document.body.className = live.theme;
  $("#theme").textContent = live.theme === "dark" ? "Light theme" : "Dark theme";
  document.querySelectorAll(".pane").forEach((card, i) => {
    card.style.borderColor = PALETTE[live.theme][i];
    const sw = $("svg.swatch", card);
    if (sw) sw.replaceWith(swatch(i, 54));
  });
  scheduleDraw();
}

async function main() {
  if (!token) { say("This page needs the token: open the URL that loadgen live printed."); return; }
  $("#export-json").href = "api/session.json?token=" + encodeURIComponent(token);
  try { live.info = await api("api/info"); } catch (e) { say(e.message); return; }
  const secs = $("#demo-secs");
  for (const v of [6, 10, 20, 30, 60]) secs.append(el("option", { value: v, text: v, selected: v === live.info.demo_seconds }));
  if (![6, 10, 20, 30, 60].includes(live.info.demo_seconds)) secs.append(el("option", { value: live.info.demo_seconds, text: live.info.demo_seconds, selected: true }));
  const db = $("#demo-buttons");
  for (const d of live.info.demos) {
    const b = el("button", { type: "button", class: "demo", "data-id": d.id, title: d.sentence, "aria-pressed": "false" });
    b.append(el("b", { text: d.claim + " " }), d.title);
    b.addEventListener("click", () => runDemo(d.id));
    db.append(b);
  }
  buildPanes(Number($("#npanes").value));
  buildCharts();
  $("#npanes").addEventListener("change", () => { live.editing = true; buildPanes(Number($("#npanes").value)); scheduleDraw(); });
  $("#apply").addEventListener("click", applyPanes);
  $("#stop").addEventListener("click", async () => { try { await api("api/stop", {}); } catch (e) { say(e.message); } });
  $("#theme").addEventListener("click", () => { live.theme = live.theme === "dark" ? "light" : "dark"; applyTheme(); });
  drawCharts();
  connect();
}

main();
