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
import json
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


# ---- repairs made to every built page (book/_ext/offline_assets.py) --------------------------

def _extension():
    spec = importlib.util.spec_from_file_location("offline_assets", ROOT / "book" / "_ext" / "offline_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("html, expected", [
    ("<body><p>卷积 kernel</p></body>", '<body><p><span lang="zh-Hans">卷积</span> kernel</p><!-- zh-Hans marked --></body>'),
    ('<body><p title="卷积">x</p></body>', '<body><p title="卷积">x</p></body>'),            # attributes untouched
    ("<body><script>var s = '卷积';</script></body>", "<body><script>var s = '卷积';</script></body>"),
    ("<head><title>卷积</title></head><body>a</body>", "<head><title>卷积</title></head><body>a</body>"),
    ("<body><p>no Chinese</p></body>", "<body><p>no Chinese</p></body>"),
    ("<body><h1>Pooling（池化，降采样）</h1></body>",
     '<body><h1>Pooling<span lang="zh-Hans">（池化，降采样）</span></h1><!-- zh-Hans marked --></body>'),
])
def test_chinese_runs_are_marked_zh_hans(html, expected):
    mark = _extension().mark_chinese
    assert mark(html) == expected
    assert mark(mark(html)) == mark(html)        # a rebuilt page is not marked twice


def test_identical_inline_scripts_in_the_head_are_kept_once():
    dedupe = _extension().dedupe_inline_scripts
    html = ('<head><script>const A = 1;</script><script src="x.js"></script><script>const A = 1;</script>'
            '<script>const B = 2;</script></head><body><script>const A = 1;</script></body>')
    assert dedupe(html) == ('<head><script>const A = 1;</script><script src="x.js"></script>'
                            '<script>const B = 2;</script></head><body><script>const A = 1;</script></body>')


def test_controls_are_named_by_what_they_show():
    names = _extension().accessible_names
    html = ('<summary aria-label="Toggle hidden content">\n<p class="collapsed">Show code cell source</p>'
            '<button aria-label="Color mode"><i class="theme-switch fa-solid fa-sun fa-lg" data-mode="light" '
            'title="Light"></i></button>')
    assert names(html) == ('<summary>\n<p class="collapsed">Show code cell source</p><button aria-label="Color mode">'
                           '<i aria-hidden="true" class="theme-switch fa-solid fa-sun fa-lg" data-mode="light"></i></button>')
    assert names(names(html)) == names(html)


def test_downloaded_notebook_says_what_it_needs_first():
    ext = _extension()
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# Title"]}]}
    noted = ext.add_run_note(notebook, "https://example.org/book")
    first = "".join(noted["cells"][0]["source"])
    assert noted["cells"][1:] == notebook["cells"]
    assert "companion" in first and "make lab" in first and "pip install -e ." in first
    assert "https://example.org/book" in first
    assert ext.add_run_note(noted) is noted                       # once
    assert "repository" in "".join(ext.add_run_note(notebook)["cells"][0]["source"])
    import nbformat
    nbformat.validate(nbformat.from_dict(noted))


def test_built_download_notebooks_start_with_the_run_note():
    sources = sorted((BOOK_HTML / "_sources").rglob("*.ipynb")) if BOOK_HTML.is_dir() else []
    if not sources:
        unavailable("no downloadable notebooks in the build")
    for path in sources:
        first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
        assert "make lab" in "".join(first["source"]), path.name


def test_quiz_scripts_wait_for_mathjax():
    guard = _extension().guard_quiz_mathjax
    js = 'var version = MathJax.version; if (version[0] == "2") { a(); } else if (version[0] == "3") { b(); }'
    guarded = guard(js)
    assert guarded.startswith('var version = MathJax.version; if (!version || (version[0] == "3" && !MathJax.typeset))')
    assert guarded.endswith('else if (version[0] == "2") { a(); } else if (version[0] == "3") { b(); }')
    assert guard(guarded) == guarded                                  # once
    for page in built_pages():
        html = page.read_text(encoding="utf-8", errors="replace")
        assert html.count('if (version[0] == "2")') == html.count('else if (version[0] == "2")'), page.name


def test_no_page_shows_an_unanswered_exercise_check():
    """An exercise's check cell (``my_answer = None`` then ``print(check(...))``) is tagged
    remove-output: the page shows no "No answer yet" verdict (issue 17)."""
    shown = [page.name for page in built_pages()
             if "No answer yet" in page.read_text(encoding="utf-8", errors="replace")]
    assert not shown, f"pages showing '✘ No answer yet': {shown} (tag the check cells remove-output)"


def test_no_page_declares_an_inline_script_twice():
    for page in built_pages():
        html = page.read_text(encoding="utf-8", errors="replace")
        head = html[:html.find("</head>")]
        blocks = re.findall(r"<script>(?:(?!</script>).)*</script>", head, re.DOTALL)
        assert len(blocks) == len(set(blocks)), f"{page.name}: an inline script appears twice"
        assert head.count("THEBE_JS_URL =") <= 1


def test_chinese_text_is_marked_and_the_bundled_font_is_loaded():
    cjk = re.compile(r"[\u4e00-\u9fff]")
    pages_with_chinese = 0
    for page in built_pages():
        soup = BeautifulSoup(page.read_text(encoding="utf-8", errors="replace"), "html.parser")
        body = soup.body
        if body is None:
            continue
        for tag in body.find_all(["script", "style"]):
            tag.decompose()
        text_nodes = [t for t in body.find_all(string=cjk)]
        if not text_nodes:
            continue
        pages_with_chinese += 1
        unmarked = [t for t in text_nodes if not any(p.get("lang") == "zh-Hans" for p in t.parents if p.name)]
        assert not unmarked, f"{page.name}: Chinese text without lang=zh-Hans: {unmarked[0][:40]!r}"
        fonts = [l["href"] for l in soup.find_all("link", rel="stylesheet") if "noto-sans-sc" in l.get("href", "")]
        assert fonts, f"{page.name}: shows Chinese but does not load the bundled Noto Sans SC"
    assert pages_with_chinese >= 5


def test_the_bundled_font_files_are_all_there():
    css = BOOK_HTML / "vendor" / "fonts" / "noto-sans-sc" / "400.css"
    if not css.is_file():
        unavailable(f"no vendored font CSS at {css} (run `make vendor`, then build)")
    urls = re.findall(r"url\(([^)]+)\)", css.read_text())
    assert len(urls) > 50 and all(u.endswith(".woff2") for u in urls)
    missing = [u for u in urls if not (css.parent / u).is_file()]
    assert not missing, missing[:3]
    assert (css.parent / "LICENSE").is_file()


def test_widget_pages_point_the_widget_manager_at_its_vendored_fonts():
    pages = [p for p in built_pages() if "embed-amd.js" in p.read_text(encoding="utf-8", errors="replace")]
    assert pages
    for page in pages:
        html = page.read_text(encoding="utf-8", errors="replace")
        assert html.find("__jupyter_widgets_assets_path__") < html.find("embed-amd.js"), page.name
