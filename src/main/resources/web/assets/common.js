// Shared helpers of the dashboard pages: JSON fetches (same origin, so a bearer token or the load
// balancer's session cookie travels as the browser sends it) and safe text output.
"use strict";
async function getJson(url) {
  const r = await fetch(url, { headers: { "Accept": "application/json" } });
  if (!r.ok) throw new Error(url + ": HTTP " + r.status);
  return r.json();
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
