/* The book's repairs of jupyterquiz's answer boxes (jupyterquiz 2.9.6 draws them at page load).

   - Each numeric box gets its label linked (<label for=...>), so screen readers name it, and its
     feedback is a polite live region, so the verdict is read out.
   - Clicking back into a box no longer erases what the reader typed: jupyterquiz's focus handler
     (value = "") is dropped by replacing the box with a copy that keeps the quiz's own keypress
     check. Instead the text is selected on focus, and typing replaces it.

   Loaded on every page by book/_ext/offline_assets.py; it does nothing where there is no quiz. */
(function () {
  "use strict";

  function mendBox(input) {
    if (input.dataset.bookMended) return;
    var box = input.cloneNode(true);            // a copy has none of the original's listeners
    box.onkeypress = input.onkeypress;          // jupyterquiz's check (Enter) and character filter
    box.onpaste = input.onpaste;
    box.dataset.bookMended = "1";
    box.setAttribute("autocomplete", "off");
    var focusedByPointer = false;
    box.addEventListener("focus", function () { box.select(); focusedByPointer = true; });
    box.addEventListener("mouseup", function (event) {
      if (focusedByPointer) { event.preventDefault(); }  // keep the selection the click would undo
      focusedByPointer = false;
    });
    box.addEventListener("keydown", function (event) {
      // A character typed over the whole selected answer replaces it: clear it first, so that
      // jupyterquiz's character filter judges the new text, not the old one ("-" needs an empty box).
      if (event.key && event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey
          && box.value && box.selectionStart === 0 && box.selectionEnd === box.value.length) {
        box.value = "";
      }
    });
    input.replaceWith(box);
    var label = box.previousElementSibling;
    if (label && label.tagName === "LABEL" && !label.htmlFor) { label.htmlFor = box.id; }
  }

  function mendFeedback(root) {
    root.querySelectorAll("div.Quiz .Feedback").forEach(function (fb) {
      if (!fb.hasAttribute("aria-live")) { fb.setAttribute("aria-live", "polite"); }
    });
  }

  function mend(root) {
    root.querySelectorAll("input.Input-text").forEach(mendBox);
    mendFeedback(root);
  }

  function start() {
    mend(document);
    new MutationObserver(function (records) {
      for (var i = 0; i < records.length; i++) {
        if (records[i].addedNodes.length) { mend(document); return; }
      }
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
