// matref's page behaviour: the layout switch, the rows' panels (code fetched on first open) and copy
// buttons for that code. Wide formulas need no script: the stylesheet shows that they scroll.
(function () {
  "use strict";
  var KEY = "matref.layout";
  var DIALECT_KEY = "matref.dialect";

  // The layout is a class on <body>: the page holds every formula in both layouts and the stylesheet
  // hides one set, so switching costs one style recalculation and touches nothing else in the page.
  // (An inline script right after <body> applies the saved choice before anything is painted.)
  function saved() {
    try { return localStorage.getItem(KEY) === "numerator" ? "numerator" : "denominator"; } catch (e) { return "denominator"; }
  }
  function syncRadios(layout) {
    document.querySelectorAll('input[name="matref-layout"]').forEach(function (r) { r.checked = r.value === layout; });
  }
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (!t || t.name !== "matref-layout") return;
    document.body.classList.toggle("matref-numerator", t.value === "numerator");
    try { localStorage.setItem(KEY, t.value); } catch (e) { /* private mode: the choice lasts for the page */ }
    syncRadios(t.value);
  });
  // Another tab changed the layout: follow it.
  window.addEventListener("storage", function (ev) {
    if (ev.key !== KEY) return;
    document.body.classList.toggle("matref-numerator", saved() === "numerator");
    syncRadios(saved());
  });

  // Code tabs: one panel per group shows, the dialect the reader last picked (remembered site-wide)
  // or, where an entry has no code in that dialect, the group's first tab.
  function savedDialect() {
    try { return localStorage.getItem(DIALECT_KEY); } catch (e) { return null; }
  }
  function showDialect(group, lang) {
    var panels = group.querySelectorAll(".matref-snippet");
    var pick = null;
    panels.forEach(function (p) { if (p.dataset.lang === lang) pick = p; });
    if (!pick) pick = panels[0];
    panels.forEach(function (p) { p.hidden = p !== pick; });
    group.querySelectorAll(".matref-tab").forEach(function (t) {
      t.setAttribute("aria-selected", pick && t.dataset.lang === pick.dataset.lang ? "true" : "false");
    });
  }
  function showDialects(root, lang) {
    root.querySelectorAll(".matref-snippets").forEach(function (g) { showDialect(g, lang); });
  }

  function loadCode(box) {
    if (box.dataset.loaded) return;
    box.dataset.loaded = "1";
    fetch(box.dataset.src).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    }).then(function (text) {
      var note = box.querySelector(".matref-code__note");
      box.innerHTML = (note ? note.outerHTML : "") + text;
      showDialects(box, savedDialect());
    }).catch(function (err) {
      box.dataset.loaded = "";
      box.insertAdjacentHTML("beforeend", '<p class="matref-code__error">Could not load the code (' + err.message + ").</p>");
    });
  }

  document.addEventListener("click", function (ev) {
    var more = ev.target.closest && ev.target.closest("button.matref-more");
    if (more) {
      var panel = document.getElementById(more.getAttribute("aria-controls"));
      var open = more.getAttribute("aria-expanded") !== "true";
      more.setAttribute("aria-expanded", open ? "true" : "false");
      panel.hidden = !open;
      if (open) {
        panel.querySelectorAll(".matref-code[data-src]").forEach(loadCode);
      }
      return;
    }
    var tab = ev.target.closest && ev.target.closest("button.matref-tab");
    if (tab) {
      try { localStorage.setItem(DIALECT_KEY, tab.dataset.lang); } catch (e) { /* private mode */ }
      showDialects(document, tab.dataset.lang);
      return;
    }
    var copy = ev.target.closest && ev.target.closest("button.matref-copy");
    if (copy) {
      var code = copy.closest(".matref-snippet").querySelector("code").innerText.replace(/\n+$/, "");
      navigator.clipboard.writeText(code).then(function () {
        copy.textContent = "copied";
        setTimeout(function () { copy.textContent = "copy"; }, 1500);
      });
    }
  });

  // A permalink to an entry opens its row's panel when the link asks for it (#id--more).
  function openFromHash() {
    var m = /^#(.+)--more$/.exec(location.hash);
    var btn = m && document.querySelector('button.matref-more[aria-controls="' + CSS.escape(m[1]) + '--more"]');
    if (btn && btn.getAttribute("aria-expanded") !== "true") btn.click();
  }

  // A large family's entries are on several pages (its parts). A permalink from before the split,
  // reference/<family>/#id, reaches the family's first page: send it on to the page the entry is on.
  function followElsewhere() {
    var id = decodeURIComponent(location.hash.slice(1)).replace(/--more$/, "");
    var map = document.getElementById("matref-elsewhere");
    if (!id || !map || document.getElementById(id)) return false;
    var page = JSON.parse(map.textContent)[id];
    if (page) location.replace("../" + page + "/" + location.hash);
    return Boolean(page);
  }

  document.addEventListener("DOMContentLoaded", function () {
    syncRadios(saved());
    if (!followElsewhere()) openFromHash();
  });
  window.addEventListener("hashchange", function () {
    if (!followElsewhere()) openFromHash();
  });
})();
