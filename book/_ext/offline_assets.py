"""Sphinx extension: keep the built book offline.

Loaded from ``_config.yml`` (``sphinx.local_extensions``). It does two things:

1. jupyterquiz's inline JavaScript carries a fallback that, when it finds a half-loaded
   MathJax 3, injects ``https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js``. Each page's
   body is rewritten to load the vendored MathJax instead (a path relative to that page).
   sphinx-thebe (always loaded by Jupyter Book) puts ``THEBE_JS_URL = "https://unpkg.com/..."``
   in every page, used only by a Thebe launch button; with that button off the URL is emptied.
2. After the HTML build, every page is scanned for a script, stylesheet, font or import
   loaded from the network; each one found is a warning, so ``jupyter-book build -W`` fails.

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


def _localise_body(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                   doctree: Any) -> None:
    body = context.get("body")
    if body and CDN_MATHJAX.search(body):
        local = context["pathto"](LOCAL_MATHJAX, 1)
        context["body"] = CDN_MATHJAX.sub(local, body)


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


def _scan_output(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    if not (outdir / LOCAL_MATHJAX).is_file():
        logger.warning("offline: %s is missing from the build; run `make vendor`", LOCAL_MATHJAX)
    for page in sorted(outdir.rglob("*.html")):
        if page.relative_to(outdir).parts[0] in {"vendor", "_static", "_sources"}:
            continue
        for snippet in remote_loads(page.read_text(encoding="utf-8", errors="replace")):
            logger.warning("offline: %s loads from the network: %s",
                           page.relative_to(outdir).as_posix(), snippet)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _localise_body)
    app.connect("html-page-context", _empty_thebe_url)
    app.connect("build-finished", _scan_output)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
