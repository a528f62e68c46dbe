// The Reference index: each row carries its formula as TeX (data-tex, and data-tex-numerator where the
// numerator layout reads differently) and this renders it with the site's KaTeX, in the reader's layout,
// when the row comes near the screen. Prerendered, the index's formulas were megabytes of HTML; as TeX
// they are a few dozen kilobytes, and a reader who looks at one family renders a few dozen formulas.
// Loaded by the index page alone, after katex.min.js (both deferred).
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".matref-index__formula[data-tex]");
  if (!boxes.length || !window.katex || !window.IntersectionObserver) return;

  var near = new Set();      // boxes within the observer's margin of the screen
  var rendered = new Set();  // boxes holding a formula
  var current = layout();    // the layout of the formulas rendered so far

  function layout() {
    return document.body.classList.contains("matref-numerator") ? "numerator" : "denominator";
  }

  function render(box) {
    var tex = (layout() === "numerator" && box.dataset.texNumerator) || box.dataset.tex;
    var shown = box.querySelector(".katex");
    if (shown && shown.getAttribute("aria-label") === tex) return;  // already this layout's form
    // throwOnError: false shows a formula KaTeX cannot parse as red source text (.katex-error), which
    // the browser test looks for, instead of an empty box.
    katex.render(tex, box, {displayMode: true, throwOnError: false, output: "html"});
    // As on the prerendered pages: the HTML alone, labelled with its TeX for screen readers.
    var k = box.querySelector(".katex");
    if (k) {
      k.setAttribute("role", "img");
      k.setAttribute("aria-label", tex);
    }
    rendered.add(box);
  }

  // A margin of half a screen above and below renders rows just before they scroll into view.
  var observer = new IntersectionObserver(function (changes) {
    changes.forEach(function (c) {
      if (c.isIntersecting) {
        near.add(c.target);
        render(c.target);
      } else {
        near.delete(c.target);
      }
    });
  }, {rootMargin: "50% 0px"});
  boxes.forEach(function (box) { observer.observe(box); });

  // The layout is the class on <body>, set by matref.js from the switch or from another tab. A switch
  // re-renders only the rows near the screen; rows further away that show the other layout's form
  // are emptied, and rendered again when they come near, so no formula of the wrong layout remains.
  new MutationObserver(function () {
    if (layout() === current) return;  // another class on <body> changed
    current = layout();
    rendered.forEach(function (box) {
      if (near.has(box)) {
        render(box);
      } else if (box.dataset.texNumerator) {
        box.textContent = "";
        rendered.delete(box);
      }
    });
  }).observe(document.body, {attributes: true, attributeFilter: ["class"]});
})();
