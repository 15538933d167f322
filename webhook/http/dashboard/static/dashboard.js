// skyforge.labs dashboard: plain JS, no dependencies. Every request carries the token the
// user entered (sessionStorage: gone when the tab closes). SSE is read with fetch() so the
// token travels in the Authorization header, never in a URL.
"use strict";

const KEY = "skyforge.token";
const ROLES = ["viewer", "operator", "admin"];
const ACTIVE = new Set(["queued", "running"]);
const state = { token: sessionStorage.getItem(KEY) || "", role: null, overview: null,
                run: null, runStream: null, runStatus: null };

const $ = (id) => document.getElementById(id);

function show(text, info) {
  const box = $("message");
  box.textContent = text || "";
  box.hidden = !text;
  box.className = info ? "info" : "";
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (state.token) h.Authorization = "Bearer " + state.token;
  return h;
}

async function api(method, path, body) {
  const init = { method, headers: headers(body ? { "Content-Type": "application/json" } : {}) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const resp = await fetch(path, init);
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (!resp.ok) {
    const err = new Error((data && data.error) || (resp.status + " " + resp.statusText));
    err.status = resp.status;
    throw err;
  }
  return data;
}

// Read a text/event-stream with fetch; reconnects with Last-Event-ID until stopped or 'end'.
function stream(path, onEvent, onState) {
  const ctl = new AbortController();
  let lastId = null;
  let ended = false;
  (async () => {
    while (!ctl.signal.aborted && !ended) {
      try {
        const h = headers({ Accept: "text/event-stream" });
        if (lastId !== null) h["Last-Event-ID"] = lastId;
        const resp = await fetch(path, { headers: h, signal: ctl.signal });
        if (!resp.ok) {
          let msg = resp.status + "";
          try { msg = (await resp.json()).error; } catch (e) { /* not JSON */ }
          onState && onState(false, msg, resp.status);
          if (resp.status === 401 || resp.status === 403 || resp.status === 404) return;
          throw new Error(msg);
        }
        onState && onState(true);
        const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            const ev = { event: "message", data: "" };
            for (const line of block.split("\n")) {
              if (!line || line.startsWith(":")) continue;
              const i = line.indexOf(":");
              const field = i < 0 ? line : line.slice(0, i);
              const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
              if (field === "data") ev.data += (ev.data ? "\n" : "") + val;
              else if (field === "event") ev.event = val;
              else if (field === "id") lastId = val;
            }
            if (!ev.data) continue;
            if (ev.event === "end") ended = true;
            onEvent(ev.event, JSON.parse(ev.data));
          }
        }
      } catch (e) {
        if (ctl.signal.aborted) return;
      }
      onState && onState(false);
      if (!ended && !ctl.signal.aborted) await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return ctl;
}

function fmtTime(iso) { return iso ? new Date(iso).toLocaleTimeString() : ""; }
function duration(run) {
  const start = run.started_at || run.claimed_at;
  if (!start) return "";
  const end = run.finished_at ? new Date(run.finished_at) : new Date();
  return ((end - new Date(start)) / 1000).toFixed(1) + " s";
}
function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}
function canOperate() { return state.role && ROLES.indexOf(state.role) >= 1; }

function renderOverview(snap) {
  state.overview = snap;
  const s = snap.status;
  $("queue-depth").textContent = s.queue_depth;
  $("running").textContent = Object.values(s.running || {}).reduce((a, b) => a + b, 0);
  $("workers-alive").textContent = s.workers_alive;
  $("free-slots").textContent = s.free_slots;
  $("busy").textContent = s.busy ? "yes" : "no";
  $("busy").className = s.busy ? "yes" : "no";
  $("runs-total").textContent = "(" + snap.total + ")";
  const body = $("runs").tBodies[0];
  body.textContent = "";
  for (const run of snap.runs) {
    const tr = document.createElement("tr");
    tr.dataset.runId = run.id;
    tr.dataset.status = run.status;
    if (state.run === run.id) tr.className = "selected";
    cell(tr, run.id.slice(0, 12)).title = run.id;
    cell(tr, run.playbook);
    cell(tr, run.status, "status status-" + run.status);
    cell(tr, fmtTime(run.created_at));
    cell(tr, duration(run));
    cell(tr, run.worker || "");
    tr.addEventListener("click", () => { location.hash = "run=" + run.id; });
    body.appendChild(tr);
    if (state.run === run.id) setRunStatus(run);
  }
  const wbody = $("workers").tBodies[0];
  wbody.textContent = "";
  for (const w of s.workers) {
    const tr = document.createElement("tr");
    [w.id, w.host, w.pid, w.alive ? "yes" : "no", w.busy_slots + "/" + w.slots,
     w.heartbeat_age + " s", (w.current_runs || []).join(", ")].forEach((v) => cell(tr, v));
    wbody.appendChild(tr);
  }
}

function setLive(on) {
  $("live").textContent = on ? "on" : "off";
  $("live").className = on ? "on" : "off";
}

function setRunStatus(run) {
  state.runStatus = run.status;
  $("run-status").textContent = run.status + (run.cleanup_running ? " (clean-up running)" : "");
  $("run-status").className = "status status-" + run.status;
  $("run-status").dataset.status = run.status;
  $("run-playbook").textContent = run.playbook;
  $("run-times").textContent = (run.started_at ? "started " + fmtTime(run.started_at) : "") +
    (run.finished_at ? ", finished " + fmtTime(run.finished_at) + " (" + duration(run) + ")" : "");
  $("cancel").hidden = !(canOperate() && ACTIVE.has(run.status) && !run.cancel_requested_at);
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;  // colour codes: the page shows plain text

function appendLog(text, cls) {
  text = text.replace(ANSI, "");
  const log = $("log");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const span = document.createElement("span");
  if (cls) span.className = cls;
  span.textContent = text.endsWith("\n") ? text : text + "\n";
  log.appendChild(span);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

async function refreshRun(id) {
  try { setRunStatus(await api("GET", "/api/v1/runs/" + encodeURIComponent(id))); }
  catch (e) { show(e.message); }
}

async function openRun(id) {
  if (state.runStream) state.runStream.abort();
  state.run = id;
  $("run-view").hidden = false;
  $("run-id").textContent = id;
  $("log").textContent = "";
  $("cancel").hidden = true;
  for (const tr of $("runs").tBodies[0].rows) {
    tr.className = tr.dataset.runId === id ? "selected" : "";
  }
  await refreshRun(id);
  state.runStream = stream("/api/v1/runs/" + encodeURIComponent(id) + "/events", (type, ev) => {
    if (type === "end") { refreshRun(id); return; }
    if (ev.type && ev.type.indexOf(".") >= 0) {
      const extra = ev.data && ev.data.status ? " " + ev.data.status : "";
      appendLog("── " + ev.type + extra, "lifecycle");
      refreshRun(id);
    } else if (ev.data && ev.data.stdout) {
      appendLog(ev.data.stdout);
    }
  }, (ok, msg) => { if (!ok && msg) show(msg); });
}

function closeRun() {
  if (state.runStream) state.runStream.abort();
  state.run = null;
  $("run-view").hidden = true;
  if (location.hash) history.replaceState(null, "", location.pathname);
}

function route() {
  const m = /^#run=([0-9a-zA-Z_-]{1,64})$/.exec(location.hash);
  if (m && state.token !== null) openRun(m[1]);
}

async function loadCatalog() {
  const select = $("playbook");
  select.textContent = "";
  const data = await api("GET", "/dashboard/catalog");
  for (const item of data.items) {
    const opt = document.createElement("option");
    opt.value = item.name;
    opt.textContent = item.name + (item.description ? " — " + item.description : "");
    select.appendChild(opt);
  }
}

async function login() {
  show("");
  if (state.overviewStream) state.overviewStream.abort();
  try {
    const me = await api("GET", "/api/v1/auth/whoami");
    state.role = me.role;
    $("whoami").textContent = me.name + " (" + me.role + ")";
  } catch (e) {
    state.role = null;
    $("whoami").textContent = "";
    show(e.status === 401 ? "Enter a valid API token: " + e.message : e.message);
    setLive(false);
    return;
  }
  $("submit").hidden = !canOperate();
  if (canOperate()) { try { await loadCatalog(); } catch (e) { show(e.message); } }
  state.overviewStream = stream("/dashboard/stream", (type, snap) => {
    if (type === "snapshot") renderOverview(snap);
  }, (ok, msg) => { setLive(ok); if (!ok && msg) show(msg); });
  route();
}

document.addEventListener("DOMContentLoaded", () => {
  $("token").value = state.token;
  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token").value.trim();
    sessionStorage.setItem(KEY, state.token);
    login();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    location.reload();
  });
  $("submit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    let vars;
    try { vars = JSON.parse($("vars").value || "{}"); }
    catch (err) { show("Vars must be JSON: " + err.message); return; }
    try {
      const run = await api("POST", "/api/v1/runs", { playbook: $("playbook").value, vars });
      show("Run " + run.id + " queued.", true);
      location.hash = "run=" + run.id;
    } catch (err) { show(err.message); }
  });
  $("cancel").addEventListener("click", async () => {
    if (!state.run) return;
    try {
      const run = await api("POST", "/api/v1/runs/" + encodeURIComponent(state.run) + "/cancel");
      show("Cancel " + run.cancel + " for run " + run.id + ".", true);
      setRunStatus(run);
    } catch (err) { show(err.message); }
  });
  $("close-run").addEventListener("click", closeRun);
  window.addEventListener("hashchange", route);
  login();
});
