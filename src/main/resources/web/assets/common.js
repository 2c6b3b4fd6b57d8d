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
if (location.pathname === "/") {
  prefetch("/api/compliance?"); prefetch("/api/windows"); prefetch("/api/runs?limit=20");
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
