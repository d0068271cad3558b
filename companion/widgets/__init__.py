"""Interactive figures of the chapters: one submodule per chapter.

Each widget is a thin ipywidgets UI over a pure compute function that lives beside it (and is
tested without a display); each has a static twin (a figure grid) for the rendered book, where no
kernel runs.
"""
