// One run: its summary, account-regions, instances and each AutoScaling group's AMI pipeline steps.
"use strict";
const runId = decodeURIComponent(location.pathname.replace(/^\/runs\//, "")) || new URLSearchParams(location.search).get("id");
let targetsCursor = null;
const OUTCOME_COLORS = { Success: "#2e7d32", Failed: "#c62828", TimedOut: "#8e0000", Undeliverable: "#ad1457", Cancelled: "#ef6c00",
  Skipped: "#9e9e9e", InProgress: "#1565c0", Pending: "#90caf9" };
const INSTANCE_ROWS = 1000;
let pendingInstances = [];

function showInstances() {
  const ibody = document.querySelector("#instances tbody");
  const rows = document.createDocumentFragment();
  pendingInstances.splice(0, INSTANCE_ROWS).forEach(([t, i]) => {
    const r = document.createElement("tr");
    r.dataset.instanceId = i.instanceId;
    cell(r, i.instanceId); cell(r, t.account); cell(r, t.region); cell(r, i.status, "status-" + i.status); cell(r, i.reason);
    cell(r, i.commandId ? i.commandId + " (" + i.document + ")" : ""); cell(r, i.startedAt); cell(r, i.endedAt);
    cell(r, i.patches ? Object.entries(i.patches).map(([k, v]) => k + " " + v).join(", ")
      : i.patchState === "unknown" ? "unknown (" + i.patchStateReason + ")" : "");
    const out = cell(r, "");
    if (i.outputTail) {
      // the last 40 lines of what the command printed, and where SSM wrote all of it
      const d = document.createElement("details");
      const sm = document.createElement("summary"); sm.textContent = "last lines of the output";
      const pre = document.createElement("pre"); pre.className = "output-tail"; pre.textContent = i.outputTail;
      d.append(sm, pre); out.appendChild(d);
    }
    if (i.outputUnavailable) out.append("output unavailable: " + i.outputUnavailable);
    if (i.outputLocation) { const c = document.createElement("code"); c.textContent = i.outputLocation; out.append(c); }
    // pre-signed links (valid an hour) to each file of the full output
    (i.outputLinks || []).forEach(l => {
      const a = document.createElement("a"); a.href = l.url; a.textContent = l.name; a.className = "output-link";
      a.rel = "noopener"; a.target = "_blank"; out.append(" ", a);
    });
    rows.appendChild(r);
  });
  ibody.appendChild(rows);
  const more = document.getElementById("more-instances");
  more.hidden = pendingInstances.length === 0;
  more.textContent = "Show " + Math.min(INSTANCE_ROWS, pendingInstances.length) + " more of " + pendingInstances.length + " instances";
}

function summary(run) {
  document.getElementById("run-id").textContent = run.runId;
  const dl = document.querySelector("#run-summary dl");
  dl.replaceChildren();
  ["status", "window", "occurrence", "createdAt", "finishedAt", "lastStart", "reason", "requester", "approver"].forEach(k => {
    if (run[k] == null) return;
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = run[k];
    if (k === "status") dd.className = "status-" + run[k];
    dl.append(dt, dd);
  });
  // every figure from the run's one model (the same the mail, Slack and 'runs show' print)
  const f = run.figures;
  const line = m => Object.keys(m).sort().map(k => k + " " + m[k]).join(", ");
  [["account-regions", f.accountRegionsDone + " of " + f.accountRegionsTotal + " done"],
   ["instances", line(f.instances) || "none"],
   ["AutoScaling groups", line(f.groups) || "none"]].forEach(([k, v]) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v; dd.dataset.figure = k;
    dl.append(dt, dd);
  });
  const counts = Object.entries(f.instances);
  echarts.init(document.getElementById("chart-outcomes")).setOption({
    animation: false, tooltip: { trigger: "item" }, legend: { right: 0, orient: "vertical" },
    series: [{ name: "instances", type: "pie", radius: ["40%", "70%"], label: { formatter: "{b}: {c}" },
      data: counts.map(([name, value]) => ({ name, value, itemStyle: { color: OUTCOME_COLORS[name] } })) }]
  });
}

function targets(run, more) {
  const tbody = document.querySelector("#targets tbody");
  const ibody = document.querySelector("#instances tbody");
  if (!more) { tbody.replaceChildren(); ibody.replaceChildren(); }
  run.targets.forEach(t => {
    const tr = tbody.insertRow();
    cell(tr, t.account); cell(tr, t.region); cell(tr, t.state, "status-" + t.state); cell(tr, t.reason); cell(tr, t.instances.length);
    t.instances.forEach(i => pendingInstances.push([t, i]));
  });
  if (ibody.rows.length < INSTANCE_ROWS) showInstances();
  else document.getElementById("more-instances").hidden = false;
  targetsCursor = run.nextCursor;
  document.getElementById("more-instances").addEventListener("click", () => showInstances());
document.getElementById("more-targets").hidden = !targetsCursor;
}

// each AutoScaling group: what its build made, then its pipeline steps with times and status
function groups(run) {
  const box = document.getElementById("groups");
  box.replaceChildren();
  run.groups.forEach(g => {
    const div = document.createElement("div");
    div.className = "group"; div.dataset.group = g.group;
    const h = document.createElement("h3");
    h.textContent = g.group + " — " + g.account + "/" + g.region + " — ";
    const st = document.createElement("span"); st.className = "status-" + g.state; st.textContent = g.state;
    h.appendChild(st);
    div.appendChild(h);
    const facts = [];
    if (g.failedStep) facts.push("failed at " + g.failedStep + ": " + g.reason);
    else if (g.reason) facts.push(g.reason);
    if (g.sourceImage) facts.push("image " + g.sourceImage + " → " + (g.image || "…"));
    if (g.newVersion) facts.push(g.launchTemplate + " version " + g.sourceVersion + " → " + g.newVersion);
    if (g.warning) facts.push("warning: " + g.warning);
    if (g.cleanupProblems) facts.push("cleanup problems: " + g.cleanupProblems);
    if (facts.length) { const p = document.createElement("p"); p.className = "group-facts"; p.textContent = facts.join(" · "); div.appendChild(p); }
    if (g.steps.length) {
      const t = document.createElement("table"); t.className = "pipeline";
      const head = t.createTHead().insertRow();
      ["Step", "Status", "Started", "Ended", "Progress", "Details"].forEach(x => { const th = document.createElement("th"); th.textContent = x; head.appendChild(th); });
      const body = t.createTBody();
      g.steps.forEach(s => {
        const tr = body.insertRow(); tr.dataset.step = s.name; tr.dataset.status = s.status;
        cell(tr, s.name); cell(tr, s.status, "status-" + s.status); cell(tr, s.startedAt); cell(tr, s.endedAt);
        cell(tr, s.percent == null ? "" : s.percent + " %"); cell(tr, s.detail);
      });
      div.appendChild(t);
    }
    box.appendChild(div);
  });
  document.getElementById("no-groups").hidden = run.groups.length > 0;
}

async function load(more) {
  const url = "/api/runs/" + encodeURIComponent(runId) + (more && targetsCursor ? "?cursor=" + encodeURIComponent(targetsCursor) : "");
  const run = await fetched(url);
  if (!more) { summary(run); groups(run); }
  targets(run, more);
}

document.getElementById("more-instances").addEventListener("click", () => showInstances());
document.getElementById("more-targets").addEventListener("click", () => load(true));
load(false).then(() => { window.__loadedAt = performance.now(); document.body.dataset.loaded = "true"; })
  .catch(e => { document.body.dataset.error = e.message; console.error(e); });
