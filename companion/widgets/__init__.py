"""Interactive figures of the chapters: one submodule per chapter.

Each widget is a thin ipywidgets UI over a pure compute function that lives beside it (and is
tested without a display). For the rendered book, where no kernel runs, each chapter widget
function returns a static explorer instead (``static=True``, or the environment variable
``COMPANION_STATIC_WIDGETS=1`` that the book build sets): its controls switch, in the browser,
between pictures precomputed over a small grid of their values (:mod:`companion.widgets._render`).
:func:`sharp_figures`, called in a chapter's setup cell, shows its figures at device-pixel ratio 2.
"""

from companion.widgets._render import STATIC_ENV, sharp_figures, static_pages

__all__ = ["static_pages", "sharp_figures", "STATIC_ENV"]
