// Shared helpers of the dashboard pages: JSON fetches (same origin, so a bearer token or the load
// balancer's session cookie travels as the browser sends it) and safe text output.
"use strict";
async function getJson(url) {
  const r = await fetch(url, { headers: { "Accept": "application/json" } });
  if (!r.ok) throw new Error(url + ": HTTP " + r.status);
  return r.json();
}
// The page's first API requests start here, in <head>, while the chart library downloads and parses.
const PREFETCHED = {};
function prefetch(url) { PREFETCHED[url] = getJson(url); PREFETCHED[url].catch(() => {}); }
function fetched(url) { const p = PREFETCHED[url]; delete PREFETCHED[url]; return p || getJson(url); }
// The dashboard's filters live in its URL (?account=&region=&environment=&days=), so a view can be shared.
const FILTERS = ["account", "region", "environment"];
function filterParams(source) {
  const p = new URLSearchParams();
  FILTERS.forEach(k => { const v = source.get(k); if (v) p.set(k, v); });
  return p;
}
function trendUrl(source) {
  const p = filterParams(source);
  p.set("days", /^[0-9]{1,4}$/.test(source.get("days") || "") ? source.get("days") : "90");
  return "/api/compliance/history?" + p;
}
if (location.pathname === "/") {
  const url = new URLSearchParams(location.search);
  prefetch("/api/compliance?" + filterParams(url)); prefetch(trendUrl(url));
  prefetch("/api/windows"); prefetch("/api/runs?limit=20");
} else if (location.pathname.startsWith("/runs/")) {
  prefetch("/api/runs/" + encodeURIComponent(decodeURIComponent(location.pathname.slice("/runs/".length))));
}
function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}
function outcomes(counts) {
  return Object.entries(counts || {}).map(([k, v]) => k + " " + v).join(", ");
}
