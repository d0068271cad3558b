/* Display equations on narrow screens (phones): MathJax 3 does not break lines, so an equation
   wider than the column is shrunk to fit, down to 65 % of its size; one still wider then scrolls
   sideways in its own box (book.css), never the page. Runs after MathJax has typeset the page
   and again when the window is resized (or a phone is turned). Loaded by book/_ext/offline_assets.py. */
(function () {
  "use strict";
  var SMALLEST = 0.65;

  function fit() {
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (eq) {
      if (!eq.dataset.bookFontSize) { eq.dataset.bookFontSize = eq.style.fontSize || "100%"; }
      eq.style.fontSize = eq.dataset.bookFontSize;          // measure at the natural size
      var room = eq.clientWidth, need = eq.scrollWidth;
      if (room > 0 && need > room + 1) {
        var scale = Math.max(SMALLEST, room / need * 0.98);
        eq.style.fontSize = "calc(" + eq.dataset.bookFontSize + " * " + scale.toFixed(3) + ")";
      }
    });
  }

  function start() {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) {
      mj.startup.promise.then(fit);
    } else {
      fit();
    }
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(fit, 150);
    });
  }

  if (document.readyState === "complete") { start(); } else { window.addEventListener("load", start); }
})();
