// The graph_agents web view: starts runs, reads their events over SSE (fetch, so a
// bearer token can be sent; reconnects resume with Last-Event-ID), and answers approvals.
// Everything is rendered with textContent: model output is never parsed as HTML.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) { sessionStorage.setItem("graph_agents_token", fromHash); history.replaceState(null, "", location.pathname); }
  const token = sessionStorage.getItem("graph_agents_token");
  window.addEventListener("hashchange", () => {
    if (new URLSearchParams(location.hash.slice(1)).get("token")) location.reload();
  });
  let kind = "network";
  let current = null; // {runId, lastId, abort}

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    if (token) h.Authorization = "Bearer " + token;
    return h;
  }
  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function setStatus(status) { $("status").textContent = status; $("status").dataset.status = status; }
  function showError(message) { $("error").textContent = message || ""; }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method, headers: headers(body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || ("HTTP " + response.status));
    return data;
  }

  function lane(key) {
    const id = "lane-" + (key || "main");
    let node = document.querySelector('[data-lane="' + CSS.escape(key) + '"]');
    if (!node) {
      node = el("section", undefined, "lane");
      node.dataset.lane = key; node.id = id;
      node.appendChild(el("h3", key || "main"));
      node.appendChild(el("div", "", "text"));
      $("lanes").appendChild(node);
    }
    return node;
  }

  function reset() {
    for (const id of ["path", "lanes", "tools", "events"]) $(id).replaceChildren();
    $("output").textContent = "—"; $("output").className = "muted";
    renderApprovals([]);
  }

  function renderApprovals(pending) {
    const box = $("approvals");
    box.replaceChildren();
    if (!pending.length) { box.appendChild(el("p", "none pending", "muted")); return; }
    for (const request of pending) {
      const card = el("div", undefined, "approval");
      card.dataset.request = request.id;
      card.appendChild(el("b", request.action || request.tool));
      if (request.details) card.appendChild(el("div", request.details));
      card.appendChild(el("pre", JSON.stringify(request.arguments, null, 1)));
      const feedback = el("input"); feedback.type = "text"; feedback.placeholder = "feedback (optional)";
      card.appendChild(feedback);
      const approve = el("button", "Approve", "approve");
      const reject = el("button", "Reject", "reject");
      const answer = async (yes) => {
        approve.disabled = reject.disabled = true;
        try {
          await api("POST", "/runs/" + current.runId + "/approve",
            { decisions: { [request.id]: { approve: yes, feedback: feedback.value || null } } });
          card.remove();
        } catch (err) { showError(err.message); approve.disabled = reject.disabled = false; }
      };
      approve.onclick = () => answer(true);
      reject.onclick = () => answer(false);
      const row = el("p"); row.style.display = "flex"; row.style.gap = ".5rem";
      row.append(approve, reject); card.appendChild(row);
      box.appendChild(card);
    }
  }

  const pendingRequests = [];
  function handle(event) {
    const data = event.data || {};
    const log = $("events");
    log.appendChild(el("li", event.seq + " " + event.type + (event.agent ? " " + event.agent : "") + (event.path.length ? " [" + event.path.join("/") + "]" : "")));
    while (log.children.length > 200) log.firstChild.remove();
    const key = event.path.join("/");
    switch (event.type) {
      case "run.started": setStatus("running"); pendingRequests.length = 0; renderApprovals([]); break;
      case "agent.started": $("path").appendChild(el("li", event.agent)); lane(key).querySelector("h3").textContent = (key ? key + " · " : "") + event.agent; break;
      case "message.delta": lane(key).querySelector(".text").append(data.delta); break;
      case "message.completed": {
        const text = lane(key).querySelector(".text");
        if (!text.textContent && data.content) text.append(data.content);
        text.append("\n");
        break;
      }
      case "tool.started": $("tools").appendChild(el("li", "→ " + data.tool + " " + JSON.stringify(data.arguments))); break;
      case "tool.completed": $("tools").appendChild(el("li", (data.error ? "✗ " : "← ") + data.tool + ": " + data.result)); break;
      case "state.updated": {
        const state = JSON.parse($("state").textContent || "{}");
        Object.assign(state, data.values || {});
        for (const gone of data.deleted || []) delete state[gone];
        $("state").textContent = JSON.stringify(state, null, 2);
        break;
      }
      case "approval.requested": pendingRequests.push(data); renderApprovals(pendingRequests); break;
      case "run.completed":
        if (data.stop_reason === "interrupted") { setStatus("interrupted"); break; }
        setStatus("completed");
        $("output").className = "";
        $("output").textContent = typeof data.output === "string" ? data.output : JSON.stringify(data.output, null, 2);
        refreshThread();
        break;
      case "run.failed": setStatus("failed"); showError(data.error_type + ": " + data.error); break;
    }
  }

  async function refreshThread() {
    if (!current) return;
    try {
      const thread = await api("GET", "/threads/" + encodeURIComponent(current.threadId));
      $("state").textContent = JSON.stringify(thread.state, null, 2);
    } catch (err) { /* the thread may be gone from an in-memory store */ }
  }

  async function follow(run) {
    let retries = 0;
    while (current === run) {
      const h = headers({ Accept: "text/event-stream" });
      if (run.lastId !== null) h["Last-Event-ID"] = String(run.lastId);
      try {
        const response = await fetch("/runs/" + run.runId + "/events", { headers: h, signal: run.abort.signal });
        if (!response.ok) throw new Error("HTTP " + response.status);
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return; // the run completed or failed
          buffer += decoder.decode(value, { stream: true });
          const blocks = buffer.split(/\r?\n\r?\n/);
          buffer = blocks.pop();
          for (const block of blocks) {
            let id = null, data = "";
            for (const line of block.split(/\r?\n/)) {
              if (line.startsWith("id:")) id = line.slice(3).trim();
              else if (line.startsWith("data:")) data += line.slice(5).replace(/^ /, "");
            }
            if (!data) continue;
            run.lastId = id === null ? run.lastId : Number(id);
            retries = 0;
            handle(JSON.parse(data));
          }
        }
      } catch (err) {
        if (run.abort.signal.aborted) return;
        if (++retries > 20) { showError("Lost the event stream: " + err.message); return; }
        await new Promise((r) => setTimeout(r, Math.min(250 * retries, 3000)));
      }
    }
  }

  $("start").addEventListener("submit", async (e) => {
    e.preventDefault();
    showError("");
    const text = $("query").value.trim();
    if (!text) { showError("Type a request first."); return; }
    let body;
    if (kind === "workflow") {
      try { body = { inputs: JSON.parse(text) }; } catch (err) { showError("A workflow takes its inputs as a JSON object."); return; }
    } else body = { query: text };
    const threadId = $("thread-id").value.trim();
    if (threadId) body.thread_id = threadId;
    const userId = $("user-id").value.trim();
    if (userId) body.user_id = userId;
    if (current) current.abort.abort();
    reset();
    $("run").disabled = true;
    try {
      const run = await api("POST", "/runs", body);
      current = { runId: run.run_id, threadId: run.thread_id, lastId: null, abort: new AbortController() };
      $("thread").textContent = "thread " + run.thread_id;
      $("thread-id").value = run.thread_id;
      await follow(current);
    } catch (err) { showError(err.message); setStatus("failed"); }
    finally { $("run").disabled = false; }
  });

  api("GET", "/info").then((info) => {
    kind = info.kind;
    $("title").textContent = "graph_agents · " + info.kind + " " + info.name;
    if (kind === "workflow") $("query").placeholder = '{"topic": "AI safety"}';
  }).catch((err) => showError(token ? err.message : "This server needs a token: open /#token=<token>."));
})();
