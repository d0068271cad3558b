/* Names for the sliders of the chapters' widgets (ipywidgets draws them with noUiSlider).

   A slider's handle is the element with role="slider" that a keyboard or screen reader uses, but
   ipywidgets puts the control's description in a separate <label> beside it, so the handle has no
   accessible name. This gives each handle the text of its widget's label (aria-label). Widgets are
   drawn after the page has loaded (by the widget manager, from the saved widget state), so new
   handles are named as they appear. Loaded on every page by book/_ext/offline_assets.py; it does
   nothing where there is no widget. */
(function () {
  "use strict";

  function nameHandles(root) {
    root.querySelectorAll('[role="slider"]:not([aria-label]):not([aria-labelledby])').forEach(function (handle) {
      var widget = handle.closest(".widget-slider, .widget-hslider, .widget-vslider, .jupyter-widgets");
      var label = widget ? widget.querySelector("label.widget-label, .widget-label") : null;
      var text = label ? label.textContent.trim() : "";
      handle.setAttribute("aria-label", text || "slider");
    });
  }

  function start() {
    nameHandles(document);
    new MutationObserver(function () { nameHandles(document); })
      .observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
