// Material's search worker, with the query rewritten first so that formulas typed the way people
// type them find the entries: `x^T A x` and `xTAx` become `xtax`, `tr(AXB)` becomes `traxb`,
// `MC (81)` becomes `mc81`. The site's search index holds the same compacted keys for every entry
// (matref.site._search, whose `compact` this mirrors). Material's own worker is loaded unchanged;
// its URL comes in the query string, because its file name changes with every Material release.
"use strict";

function matrefCompact(text) {
  return text
    .replace(/\^\s*(?:\{\s*(?:T|\\top|\\intercal)\s*\}|T|\\top|\\intercal)/g, "t")
    .replace(/\\ln\b/g, "\\log")
    .replace(/\\(?:left|right|big|Big|bigg|Bigg|partial|frac|dfrac|tfrac|nabla|mathrm|mathbf|mathbb|operatorname|text|quad|qquad|displaystyle|limits)\b|\\[,;:! ]/g, " ")
    .replace(/\\/g, " ")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");
}

function matrefQuery(query) {
  var whole = matrefCompact(query);
  if (!whole) return query;
  if (/^[0-9]+$/.test(whole)) whole = "mc" + whole;  // a bare number is a Cookbook equation number
  var words = query.split(/\s+/)
    .map(function (w) { return w.toLowerCase().replace(/[^a-z0-9]/g, ""); })
    // a word inside the compacted whole (`cookbook` of `cookbook81`, `log` of `logdet`) only adds noise
    .filter(function (w) { return w.length >= 3 && whole.indexOf(w) < 0; });
  return [whole].concat(words).filter(function (w, i, all) { return all.indexOf(w) === i; }).join(" ");
}

// Registered before Material's worker, so this listener runs first and Material's sees the new query.
self.addEventListener("message", function (ev) {
  var msg = ev.data;
  // Material's message type 2 is a query (the others set up the index); leave the rest alone.
  if (msg && msg.type === 2 && typeof msg.data === "string") msg.data = matrefQuery(msg.data);
});

importScripts(new URL(self.location.href).searchParams.get("worker"));
