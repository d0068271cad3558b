"""The built book loads nothing from the network, and its local assets are all there.

Scans every page of ``_build/html`` (no browser needed): no ``<script src>``, stylesheet,
preload, icon, CSS ``@import`` or scripted ``.src =`` that points at ``http(s)://`` or ``//host``;
every local script and stylesheet a page names exists; pages with maths load the vendored
MathJax 3. The scanner itself is tested on a table of snippets first, so it can fail.

Without a built book these tests skip (plain ``pytest``); ``make test`` sets
``BOOK_TESTS_REQUIRED=1`` and then they fail instead. ``BOOK_HTML`` selects another build folder.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
BOOK_HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
REQUIRED = os.environ.get("BOOK_TESTS_REQUIRED") == "1"
LOCAL_MATHJAX = "vendor/mathjax/tex-mml-chtml.js"
VENDORED = ["vendor/mathjax/tex-mml-chtml.js", "vendor/requirejs/require.js",
            "vendor/html-manager/embed-amd.js"]
LOADING_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "shortcut", "manifest"}


def unavailable(reason: str) -> None:
    """Skip in a plain pytest run; fail under ``make test`` (BOOK_TESTS_REQUIRED=1)."""
    if REQUIRED:
        pytest.fail(f"{reason} (BOOK_TESTS_REQUIRED=1, as in `make test`)")
    pytest.skip(reason)


def built_pages() -> list[Path]:
    if not (BOOK_HTML / "index.html").is_file():
        unavailable(f"no built book at {BOOK_HTML} (run `make book`)")
    # vendor/: the vendored packages; _static/, _sources/: theme templates and page sources.
    return sorted(p for p in BOOK_HTML.rglob("*.html")
                  if p.relative_to(BOOK_HTML).parts[0] not in {"vendor", "_static", "_sources"})


def is_remote(url: str) -> bool:
    return bool(re.match(r"\s*(?:https?:)?//", url or "", re.IGNORECASE))


def remote_loads(html: str) -> list[str]:
    """What in ``html`` would fetch a script, style, font or icon from the network."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for tag in soup.find_all("script", src=True):
        if is_remote(tag["src"]):
            found.append(f"<script src={tag['src']}>")
    for tag in soup.find_all("link", href=True):
        rels = {r.lower() for r in tag.get("rel", [])}
        if rels & LOADING_RELS and is_remote(tag["href"]):
            found.append(f"<link rel={'/'.join(sorted(rels))} href={tag['href']}>")
    for tag in soup.find_all(["style", "script"]):
        text = tag.string or ""
        found += [f"<{tag.name}>: {m.group(0)}" for m in re.finditer(
            r"""@import\s+(?:url\()?\s*["']?(?:https?:)?//[^\s"')]+"""
            r"""|url\(\s*["']?(?:https?:)?//[^\s"')]+"""
            r"""|\.src\s*=\s*["'](?:https?:)?//[^"']+"""
            r"""|=\s*["'](?:https?:)?//[^"'\s]+\.(?:js|css)["']""", text, re.IGNORECASE)]
    for tag in soup.find_all(style=True):
        if re.search(r"url\(\s*[\"']?(?:https?:)?//", tag["style"], re.IGNORECASE):
            found.append(f"style={tag['style'][:80]}")
    return found


# The scanner must flag every load from the network, and only those.
SNIPPETS = [
    pytest.param('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>', 1, id="cdn-script"),
    pytest.param('<script src="//cdnjs.cloudflare.com/require.min.js"></script>', 1, id="scheme-relative-script"),
    pytest.param('<link rel="stylesheet" href="http://fonts.googleapis.com/css?family=Lato">', 1, id="remote-css"),
    pytest.param('<link rel="preload" as="font" href="https://x.org/f.woff2">', 1, id="remote-font-preload"),
    pytest.param("<style>@import url('https://fonts.googleapis.com/css2?family=Roboto');</style>", 1, id="css-import"),
    pytest.param("<style>@font-face{src:url(https://x.org/f.woff2)}</style>", 1, id="css-font-url"),
    pytest.param("<script>s.src = 'https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js';</script>", 1, id="scripted-src"),
    pytest.param('<div style="background:url(https://x.org/a.png)"></div>', 1, id="inline-style-url"),
    pytest.param('<script>const THEBE_JS_URL = "https://unpkg.com/thebe@0.8.2/lib/index.js";</script>', 1,
                 id="remote-script-url-for-later"),
    pytest.param('<script src="../_static/../vendor/mathjax/tex-mml-chtml.js"></script>', 0, id="local-script"),
    pytest.param('<link rel="stylesheet" href="../_static/styles/theme.css">', 0, id="local-css"),
    pytest.param('<a href="https://doi.org/10.1007/978-3-319-24574-4_28">paper</a>', 0, id="hyperlink-ok"),
    pytest.param('<link rel="canonical" href="https://example.org/book/">', 0, id="canonical-ok"),
    pytest.param("<script>s.src = '../vendor/mathjax/tex-mml-chtml.js';</script>", 0, id="scripted-local"),
    pytest.param("<p>see https://example.org for url(https://x) in prose</p>", 0, id="prose-ok"),
    pytest.param('<script>const THEBE_JS_URL = ""; const sel = ".thebe,.cell";</script>', 0, id="thebe-url-emptied"),
]


@pytest.mark.parametrize("html, n_remote", SNIPPETS)
def test_remote_load_scanner(html, n_remote):
    assert len(remote_loads(html)) == n_remote, remote_loads(html)


def _sphinx_scanner():
    spec = importlib.util.spec_from_file_location("offline_assets", ROOT / "book" / "_ext" / "offline_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("html, n_remote", [p for p in SNIPPETS if p.id not in {"inline-style-url", "css-font-url"}])
def test_build_time_scanner_agrees(html, n_remote):
    """book/_ext/offline_assets.py (run by every `jupyter-book build`) flags the same snippets."""
    assert bool(_sphinx_scanner().remote_loads(html)) == bool(n_remote)


def test_jupyterquiz_cdn_fallback_is_rewritten():
    """jupyterquiz's inline MathJax fallback points at the vendored copy after the build hook."""
    hook = _sphinx_scanner()
    body = "<script>script.src = 'https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js';</script>"
    context = {"body": body, "pathto": lambda target, resource: "../" + target}
    hook._localise_body(None, "notebooks/x", "page.html", context, None)
    assert context["body"] == "<script>script.src = '../vendor/mathjax/tex-mml-chtml.js';</script>"
    assert not remote_loads(context["body"])


def test_no_page_loads_from_the_network():
    problems = [f"{page.relative_to(BOOK_HTML)}: {snippet}"
                for page in built_pages()
                for snippet in remote_loads(page.read_text(encoding="utf-8", errors="replace"))]
    assert not problems, "pages that load from the network:\n" + "\n".join(problems)


def test_vendored_javascript_is_in_the_build():
    built_pages()
    missing = [name for name in VENDORED if not (BOOK_HTML / name).is_file()]
    assert not missing, f"missing from {BOOK_HTML}: {missing} (run `make vendor`, then rebuild)"


def test_local_scripts_and_styles_exist():
    """Every local script and stylesheet a page names resolves (relative paths from subfolders too)."""
    broken = []
    for page in built_pages():
        soup = BeautifulSoup(page.read_text(encoding="utf-8", errors="replace"), "html.parser")
        urls = [t["src"] for t in soup.find_all("script", src=True)]
        urls += [t["href"] for t in soup.find_all("link", href=True)
                 if {r.lower() for r in t.get("rel", [])} & {"stylesheet", "preload"}]
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:
                continue
            if not (page.parent / unquote(parts.path)).resolve().is_file():
                broken.append(f"{page.relative_to(BOOK_HTML)} -> {url}")
    assert not broken, "local assets that do not exist:\n" + "\n".join(broken)


def test_pages_with_maths_load_the_vendored_mathjax():
    with_maths = 0
    for page in built_pages():
        soup = BeautifulSoup(page.read_text(encoding="utf-8", errors="replace"), "html.parser")
        if not soup.select(".math"):
            continue
        with_maths += 1
        srcs = [t["src"] for t in soup.find_all("script", src=True)]
        mathjax = [s for s in srcs if "mathjax" in s.lower()]
        assert mathjax, f"{page.relative_to(BOOK_HTML)} has maths but loads no MathJax"
        target = (page.parent / urlsplit(mathjax[0]).path).resolve()
        assert target == (BOOK_HTML / LOCAL_MATHJAX).resolve(), f"{page.relative_to(BOOK_HTML)}: {mathjax}"
    assert with_maths, "no page of the book has maths; the MathJax set-up is untested"


def test_no_stylesheet_fetches_from_the_network():
    """Theme, extension and vendored CSS: no @import or url() (fonts, images) from the network."""
    built_pages()
    remote = re.compile(r"""(?:@import\s+(?:url\()?|url\()\s*["']?(?:https?:)?//[^\s"')]+""", re.IGNORECASE)
    found = [f"{css.relative_to(BOOK_HTML)}: {m.group(0)}"
             for css in sorted(BOOK_HTML.rglob("*.css"))
             for m in remote.finditer(css.read_text(encoding="utf-8", errors="replace"))]
    assert not found, "stylesheets that fetch from the network:\n" + "\n".join(found)
