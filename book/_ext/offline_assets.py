"""Sphinx extension: keep the built book offline.

Loaded from ``_config.yml`` (``sphinx.local_extensions``). It does two things:

1. jupyterquiz's inline JavaScript carries a fallback that, when it finds a half-loaded
   MathJax 3, injects ``https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js``. Each page's
   body is rewritten to load the vendored MathJax instead (a path relative to that page).
   sphinx-thebe (always loaded by Jupyter Book) puts ``THEBE_JS_URL = "https://unpkg.com/..."``
   in every page, used only by a Thebe launch button; with that button off the URL is emptied.
2. After the HTML build, every page is scanned for a script, stylesheet, font or import
   loaded from the network; each one found is a warning, so ``jupyter-book build -W`` fails.

It also repairs what the assembled pages get wrong:

3. Jupyter Book loads some extensions twice, so identical inline scripts (the Thebe settings,
   ``THEBE_JS_URL``, declared with ``const``) appear twice in a page's head and the second throws
   a SyntaxError: each page keeps the first copy of each.
4. The widget manager fetches its icon fonts from a path derived from its CDN; an inline script
   points it at the vendored copy (``vendor/html-manager/``), so no request fails.
5. The theme's first-visit colour mode is "auto" (not an empty string, a console error), and
   ``_static/quiz.js`` links each quiz box to its label and keeps its text when clicked again;
   the hide-input toggles and the colour-mode button are named by what they show;
   ``_static/maths.js`` shrinks a display equation wider than the column (down to 65 %);
   ``_static/widgets.js`` names each widget slider's handle after the widget's label.
6. The chapter notebooks the download button serves (``_sources/**/*.ipynb``) start with a
   Markdown cell saying that they need the companion package from the book's repository and how
   to run them (``make lab``, or ``pip install -e .``).
7. Chinese text is marked ``lang="zh-Hans"`` (a ``<span>`` around each run of CJK characters,
   outside scripts, styles and tags), so browsers pick the Simplified Chinese glyphs of the
   bundled font (``vendor/fonts/noto-sans-sc``) instead of Japanese forms.

The vendored files live in ``vendor/`` of the HTML output (``make vendor`` fetches them; the
``html_extra_path`` in ``_config.yml`` copies them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

LOCAL_MATHJAX = "vendor/mathjax/tex-mml-chtml.js"
THEBE_URL = re.compile(r"""THEBE_JS_URL\s*=\s*["'][^"']*["']""")
CDN_MATHJAX = re.compile(r"https?://cdn\.jsdelivr\.net/npm/mathjax@[0-9.]+/es5/[a-z-]+\.js")

# What counts as loading from the network: <script src=...>, <link href=...> for stylesheets,
# preloads and fonts, CSS @import / url() and JavaScript that sets a script's src to a URL.
REMOTE = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//[^"'>\s]*[^>]*>"""
    r"""|@import\s+(?:url\()?\s*["']?(?:https?:)?//"""
    r"""|\.src\s*=\s*["'](?:https?:)?//"""
    r"""|=\s*["'](?:https?:)?//[^"'\s]+\.(?:js|css)["']""",  # a remote script URL kept for later
    re.IGNORECASE,
)
# <link> to another site that loads nothing (rel=canonical, a plain hyperlink) is fine.
LINK_LOADS = re.compile(r"""\brel\s*=\s*["']?(?:stylesheet|preload|modulepreload|prefetch|icon)""", re.I)


def remote_loads(html: str) -> list[str]:
    """Return the snippets of ``html`` that would fetch a script, style or font from the network."""
    found = []
    for match in REMOTE.finditer(html):
        snippet = match.group(0)
        if snippet.lower().startswith("<link") and not LINK_LOADS.search(snippet):
            continue
        found.append(snippet[:160])
    return found


# jupyterquiz reads MathJax.version (after a timeout) to choose how to typeset a quiz; on a page
# whose deferred MathJax has not loaded yet, window.MathJax is still the configuration object, so
# version is undefined and version[0] throws (seen on long pages under load), and a half-started
# MathJax 3 makes it inject a second copy. Until MathJax is ready it now does nothing: MathJax's
# startup typesets the whole page, quizzes included.
QUIZ_MATHJAX_BRANCH = 'if (version[0] == "2")'
QUIZ_MATHJAX_GUARD = ('if (!version || (version[0] == "3" && !MathJax.typeset)) { /* MathJax not ready: '
                      'its startup typesets the page */ } else if (version[0] == "2")')


def guard_quiz_mathjax(body: str) -> str:
    """Make jupyterquiz's MathJax calls wait for a loaded MathJax (see QUIZ_MATHJAX_GUARD)."""
    return re.sub(r'(?<!else )if \(version\[0\] == "2"\)', lambda m: QUIZ_MATHJAX_GUARD, body)


def _localise_body(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                   doctree: Any) -> None:
    body = context.get("body")
    if body and CDN_MATHJAX.search(body):
        local = context["pathto"](LOCAL_MATHJAX, 1)
        body = context["body"] = CDN_MATHJAX.sub(local, body)
    if body and QUIZ_MATHJAX_BRANCH in body:
        context["body"] = guard_quiz_mathjax(body)


def _empty_thebe_url(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                     doctree: Any) -> None:
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {}) or {}
    if launch.get("thebe"):
        return  # a Thebe button is wanted: it needs the URL (and the network)
    scripts = context.get("script_files")
    if not scripts:
        return
    emptied = []
    for js in scripts:
        body = getattr(js, "attributes", {}).get("body") or ""
        if "THEBE_JS_URL" in body:
            attributes = dict(js.attributes, body=THEBE_URL.sub('THEBE_JS_URL = ""', body))
            js = type(js)(js.filename, priority=js.priority, **attributes)
        emptied.append(js)
    context["script_files"] = emptied


INLINE_SCRIPT = re.compile(r"<script>(?:(?!</script>).)*</script>", re.DOTALL)


def dedupe_inline_scripts(html: str) -> str:
    """Keep the first of identical inline ``<script>…</script>`` blocks in the page's head."""
    head_end = html.find("</head>")
    if head_end < 0:
        return html
    head, seen = html[:head_end], set()

    def once(match: re.Match) -> str:
        block = match.group(0)
        if block in seen:
            return ""
        seen.add(block)
        return block

    return INLINE_SCRIPT.sub(once, head) + html[head_end:]


# Where the widget manager finds its fonts: the vendored copy, relative to the book's root
# (Sphinx writes the page's relative root into <html data-content_root>).
# The bundled widget modules also derive their stylesheets' font URLs from their RequireJS module
# ids (``@jupyter-widgets/...`` relative to the page): a RequireJS configuration set before
# require.js loads (a global ``require`` object) maps those ids into the same vendored folder.
WIDGET_ASSETS = (
    "window.__jupyter_widgets_assets_path__ = new URL("
    "(document.documentElement.dataset.content_root || './') + 'vendor/html-manager/', "
    "document.baseURI).href;"
    "if (typeof window.require === 'undefined') { window.require = {paths: {"
    "'@jupyter-widgets/html-manager/dist': window.__jupyter_widgets_assets_path__ + '.', "
    "'@jupyter-widgets': window.__jupyter_widgets_assets_path__ + '.'}}; }"
)

CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
                 r"\uf900-\ufaff\uff00-\uffef]+")
ZH_MARK = "<!-- zh-Hans marked -->"
RAW_TEXT = {"script", "style", "textarea", "title", "svg", "math", "mjx-container", "option"}
TAG = re.compile(r"<(/?)([a-zA-Z][\w:-]*)[^>]*?(/?)>|<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>", re.DOTALL)


def mark_chinese(html: str) -> str:
    """Wrap each run of CJK characters in page text in ``<span lang="zh-Hans">``.

    Text inside tags' attributes, scripts, styles, titles and MathJax output is left alone, and a
    page already marked is returned unchanged.
    """
    if ZH_MARK in html or not CJK.search(html):
        return html
    out, pos, raw = [], 0, []
    for match in TAG.finditer(html):
        text = html[pos:match.start()]
        out.append(text if raw else CJK.sub(lambda m: f'<span lang="zh-Hans">{m.group(0)}</span>', text))
        out.append(match.group(0))
        closing, name = match.group(1), (match.group(2) or "").lower()
        if name in RAW_TEXT and not match.group(3):
            if closing and raw and raw[-1] == name:
                raw.pop()
            elif not closing:
                raw.append(name)
        pos = match.end()
    tail = html[pos:]
    out.append(tail if raw else CJK.sub(lambda m: f'<span lang="zh-Hans">{m.group(0)}</span>', tail))
    marked = "".join(out)
    if marked == html:
        return html
    return marked.replace("</body>", ZH_MARK + "</body>", 1)


RUN_NOTE = ('<div class="run-chapter admonition note"><p>This chapter is a notebook that runs from top to '
            'bottom every time the book is built. To run it yourself, change it and check your answers to its '
            'exercises, see <a href="{href}">Run the chapters yourself</a>.</p></div>')


def _run_this_chapter(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                      doctree: Any) -> None:
    """Every chapter page starts with a line saying how to run it (the page book/run explains)."""
    if not pagename.startswith("notebooks/") or "body" not in context or "book/run" not in app.env.all_docs:
        return
    note = RUN_NOTE.format(href=context["pathto"]("book/run"))
    body = context["body"]
    heading_end = body.find("</h1>")
    context["body"] = (body[:heading_end + 5] + note + body[heading_end + 5:]) if heading_end >= 0 else note + body


THEME_ICON = re.compile(r'<i class="theme-switch ([^>]*?)\s+title="[^"]*">')


def accessible_names(html: str) -> str:
    """Give controls the accessible name their visible text shows (axe-core label-content-name-mismatch).

    myst-nb's hide-input toggles are ``<summary aria-label="Toggle hidden content">`` around the
    visible words "Show code cell source": without the aria-label the visible words are the name.
    The theme's colour-mode button is named "Color mode" while its icons carry titles: the icons
    are made decorative (aria-hidden, no title; the button's tooltip still says "Color mode").
    """
    html = html.replace('<summary aria-label="Toggle hidden content">', "<summary>")
    return THEME_ICON.sub(lambda m: '<i aria-hidden="true" class="theme-switch ' + m.group(1) + ">", html)


def _theme_mode(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                doctree: Any) -> None:
    """A first visit (no mode stored yet) starts in "auto" mode: the theme's template falls back to
    an empty ``default_mode``, which its script reports as a console error ("invalid theme mode")."""
    context.setdefault("default_mode", "auto")


RUN_CELL_ID = "book-run-this-notebook"


def run_note_markdown(repository: str = "") -> str:
    """The first cell of a downloaded chapter notebook: what it needs and how to run it."""
    where = (f"the book's repository, <{repository}>" if repository
             else "the book's repository (its address is on the published book's home page)")
    return ("**Running this notebook.** This chapter imports the book's companion package "
            f"(`companion`), which comes with {where}; the notebook alone is not enough.\n\n"
            "- In a clone of the repository: `make lab` (it installs everything into `.venv`, "
            "then opens JupyterLab on `notebooks/`), open this chapter there and run all cells from the top.\n"
            "- Or, in a Python 3.11+ environment of your own: `pip install -r requirements.txt` and "
            "`pip install -e .` from the repository's folder, then run this notebook.\n\n"
            "The book's page *Run the chapters yourself* says more.")


def add_run_note(notebook: dict, repository: str = "") -> dict:
    """Return `notebook` (nbformat 4 JSON) with the run note as its first cell (once)."""
    cells = notebook.get("cells", [])
    if cells and cells[0].get("id") == RUN_CELL_ID:
        return notebook
    cell = {"cell_type": "markdown", "id": RUN_CELL_ID, "metadata": {},
            "source": run_note_markdown(repository).splitlines(keepends=True)}
    if (notebook.get("nbformat"), notebook.get("nbformat_minor", 0)) < (4, 5):
        del cell["id"]
        if cells and cells[0].get("metadata", {}).get("book_run_note"):
            return notebook
        cell["metadata"] = {"book_run_note": True}
    return dict(notebook, cells=[cell] + cells)


def _note_downloads(app: Sphinx, outdir: Path) -> None:
    """The chapter notebooks the download button serves (_sources/**.ipynb) say what they need."""
    import json

    repository = (app.config.html_theme_options or {}).get("repository_url", "") or ""
    for path in sorted((outdir / "_sources").rglob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        noted = add_run_note(notebook, repository)
        if noted is not notebook:
            path.write_text(json.dumps(noted, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _finish_pages(app: Sphinx, exception: Exception | None) -> None:
    """One pass over the written pages: repair each (scripts once, Chinese marked), then scan it."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    if not (outdir / LOCAL_MATHJAX).is_file():
        logger.warning("offline: %s is missing from the build; run `make vendor`", LOCAL_MATHJAX)
    _note_downloads(app, outdir)
    for page in sorted(outdir.rglob("*.html")):
        if page.relative_to(outdir).parts[0] in {"vendor", "_static", "_sources"}:
            continue
        html = page.read_text(encoding="utf-8", errors="surrogateescape")
        repaired = mark_chinese(accessible_names(dedupe_inline_scripts(html)))
        if repaired != html:
            page.write_text(repaired, encoding="utf-8", errors="surrogateescape")
        for snippet in remote_loads(repaired):
            logger.warning("offline: %s loads from the network: %s",
                           page.relative_to(outdir).as_posix(), snippet)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _localise_body)
    app.connect("html-page-context", _empty_thebe_url)
    app.connect("html-page-context", _run_this_chapter)
    app.connect("html-page-context", _theme_mode)
    app.add_js_file("quiz.js", defer="defer")  # book/_static/quiz.js: labelled quiz boxes that keep their text
    app.add_js_file("maths.js", defer="defer")  # book/_static/maths.js: wide equations shrink to fit a phone
    app.add_js_file("widgets.js", defer="defer")  # book/_static/widgets.js: widget sliders named by their labels
    app.add_js_file(None, body=WIDGET_ASSETS, priority=100)
    app.connect("build-finished", _finish_pages)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
