// The overview: compliance charts and their trend (ECharts from the WebJar), windows and recent runs, with
// filters kept in the URL.
"use strict";
const charts = {};
const COLORS = { COMPLIANT: "#2e7d32", NON_COMPLIANT: "#c62828" };

function chart(id) {
  if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
  return charts[id];
}

function stacked(id, groups) {
  const names = Object.keys(groups);
  chart(id).setOption({
    animation: false, tooltip: { trigger: "axis" }, legend: { top: 0 },
    grid: { left: 110, right: 20, top: 30, bottom: 20 },
    xAxis: { type: "value" }, yAxis: { type: "category", data: names },
    series: [
      { name: "COMPLIANT", type: "bar", stack: "s", color: COLORS.COMPLIANT, data: names.map(n => groups[n].compliant) },
      { name: "NON_COMPLIANT", type: "bar", stack: "s", color: COLORS.NON_COMPLIANT, data: names.map(n => groups[n].nonCompliant) }
    ]
  }, true);
}

function fillSelect(name, values, current) {
  const select = document.querySelector("select[name=" + name + "]");
  select.length = 1;
  values.forEach(v => select.add(new Option(v, v, false, v === current)));
  // a shared link's value the latest report does not know still shows as chosen
  if (current && !values.includes(current)) select.add(new Option(current, current, false, true));
}

// the filters: from the URL when the page opens, then from the form (and written back to the URL)
function formParams() {
  return new URLSearchParams(new FormData(document.getElementById("filters")));
}

async function loadCompliance(source) {
  const params = filterParams(source);
  const c = await fetched("/api/compliance?" + params);
  fillSelect("account", c.accounts, params.get("account"));
  fillSelect("region", c.regions, params.get("region"));
  fillSelect("environment", c.environments, params.get("environment"));
  document.getElementById("published").textContent = c.reportPublishedAt ? "report of " + c.reportPublishedAt : "no report run yet";
  document.getElementById("total").textContent = c.instances;
  document.getElementById("compliant").textContent = c.byStatus.COMPLIANT || 0;
  document.getElementById("noncompliant").textContent = c.byStatus.NON_COMPLIANT || 0;
  chart("chart-platform").setOption({
    animation: false, tooltip: {}, xAxis: { type: "category", data: Object.keys(c.byPlatform) }, yAxis: { type: "value" },
    series: [{ name: "instances", type: "bar", data: Object.values(c.byPlatform), label: { show: true, position: "top" } }]
  }, true);
  chart("chart-status").setOption({
    animation: false, tooltip: { trigger: "item" }, legend: { bottom: 0 },
    series: [{ name: "status", type: "pie", radius: ["45%", "70%"], label: { formatter: "{b}: {c}" },
      data: Object.entries(c.byStatus).map(([name, value]) => ({ name, value, itemStyle: { color: COLORS[name] } })) }]
  }, true);
  stacked("chart-account", c.byAccount);
  stacked("chart-environment", c.byEnvironment);
  stacked("chart-region", c.byRegion);
  document.body.dataset.complianceLoaded = "true";
}

// % compliant at each report run of the period, under the same filters
async function loadTrend(source) {
  const t = await fetched(trendUrl(source));
  const points = t.points.filter(p => p.percentCompliant != null);
  document.getElementById("trend-empty").hidden = t.points.length > 0;
  chart("chart-trend").setOption({
    animation: false,
    tooltip: { trigger: "axis", valueFormatter: v => v + " %" },
    grid: { left: 50, right: 20, top: 20, bottom: 30 },
    xAxis: { type: "time" }, yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value} %" } },
    series: [{ name: "% compliant", type: "line", showSymbol: true, color: COLORS.COMPLIANT,
      data: points.map(p => [p.at, p.percentCompliant]) }]
  }, true);
  document.body.dataset.trendPoints = String(points.length);
}

function applyUrlFilters(url) {
  const form = document.getElementById("filters");
  if (url.get("days")) form.elements.days.value = url.get("days");
}

async function loadWindows() {
  const w = await fetched("/api/windows");
  const body = document.querySelector("#windows tbody");
  body.replaceChildren();
  w.items.forEach(x => {
    const tr = body.insertRow();
    cell(tr, x.name); cell(tr, x.account || "organization"); cell(tr, x.schedule); cell(tr, x.nextOpening || "none");
  });
}

// each report Stored with its rows, or Failed with the engine's reason
async function loadReports() {
  const r = await fetched("/api/reports?limit=10");
  const body = document.querySelector("#reports tbody");
  body.replaceChildren();
  r.items.forEach(x => {
    const tr = body.insertRow();
    cell(tr, x.reportId); cell(tr, x.status, "status-" + x.status); cell(tr, x.publishedAt || "");
    const list = document.createElement("ul");
    x.reports.forEach(p => {
      const li = document.createElement("li");
      li.className = "status-" + p.status;
      li.textContent = p.status === "Failed" ? p.name + ": Failed: " + p.reason : p.name + ": " + p.rows + " rows";
      list.appendChild(li);
    });
    cell(tr, "").appendChild(list);
  });
}

let runsCursor = null;
// an ended run's figures: instance outcomes, and AutoScaling groups on their own
function runOutcomes(f) {
  const groups = outcomes(f.groups);
  return outcomes(f.instances) + (groups ? "; groups: " + groups : "");
}

async function loadRuns(more) {
  const r = await fetched("/api/runs?limit=20" + (more && runsCursor ? "&cursor=" + encodeURIComponent(runsCursor) : ""));
  const body = document.querySelector("#runs tbody");
  if (!more) body.replaceChildren();
  r.items.forEach(x => {
    const tr = body.insertRow();
    const a = document.createElement("a");
    a.href = "/runs/" + encodeURIComponent(x.runId);
    a.textContent = x.runId;
    cell(tr, "").appendChild(a);
    cell(tr, x.window); cell(tr, x.status, "status-" + x.status); cell(tr, x.occurrence); cell(tr, x.figures ? runOutcomes(x.figures) : "");
  });
  runsCursor = r.nextCursor;
  document.getElementById("more-runs").hidden = !runsCursor;
}

document.getElementById("filters").addEventListener("change", () => {
  const p = formParams();
  const shared = filterParams(p);
  if (p.get("days") !== "90") shared.set("days", p.get("days"));
  history.replaceState(null, "", shared.toString() ? "?" + shared : location.pathname);
  Promise.all([loadCompliance(p), loadTrend(p)]).catch(e => { document.body.dataset.error = e.message; console.error(e); });
});
document.getElementById("more-runs").addEventListener("click", () => loadRuns(true));
window.addEventListener("resize", () => Object.values(charts).forEach(c => c.resize()));
const opened = new URLSearchParams(location.search);
applyUrlFilters(opened);
Promise.all([loadCompliance(opened), loadTrend(opened), loadWindows(), loadReports(), loadRuns(false)])
  .then(() => { window.__loadedAt = performance.now(); document.body.dataset.loaded = "true"; })
  .catch(e => { document.body.dataset.error = e.message; console.error(e); });
