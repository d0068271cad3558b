"""Open the built chapter page in headless Chromium, with no network, and check what a reader sees.

One Chromium run (``--dump-dom`` after ``--virtual-time-budget``) of
``_build/html/notebooks/01_convolution.html`` with networking disabled three ways: a network
namespace of its own (``unshare -n``) where the system allows it, every host name mapped to
nothing, and a dead proxy. Chromium's network log records what the page tried to fetch.
Then, from the DOM after the scripts ran:

- the maths rendered: every ``.math`` element holds MathJax's CHTML output, no raw ``$$`` or
  ``\\[`` is left in the prose, and MathJax's fonts come from the local copy;
- the jupyterquiz question rendered: each quiz container grew a question with an input or buttons;
- the static figure is there: a ``<figure>`` with an ``<img>`` that has alt text and a local file,
  and in particular the widget's static view (``fig-conv-settings``, ``fig-conv-sum-of-products``);
- saved widget state (if the page has any) was rendered by the local widget manager;
- the page requested nothing over http(s).

Without a built book or a Chromium these tests skip (plain ``pytest``); ``make test`` sets
``BOOK_TESTS_REQUIRED=1`` and then they fail. ``BOOK_HTML`` selects another build folder,
``BOOK_BROWSER_PAGE`` another page (relative to it) and ``CHROMIUM`` another browser binary.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
BOOK_HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
REQUIRED = os.environ.get("BOOK_TESTS_REQUIRED") == "1"
CHAPTER_PAGE = os.environ.get("BOOK_BROWSER_PAGE", "notebooks/01_convolution.html")
# The widget's static view on the default page: the grid of settings and the sum-of-products
# figure, by their figure labels (another page: BOOK_BROWSER_FIGURES, comma-separated, may be empty).
STATIC_VIEWS = [f for f in os.environ.get(
    "BOOK_BROWSER_FIGURES",
    "fig-conv-settings,fig-conv-sum-of-products" if "BOOK_BROWSER_PAGE" not in os.environ else "",
).split(",") if f]
NO_NETWORK_FLAGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND",   # no host name resolves
    "--proxy-server=http://127.0.0.1:9",       # and every request goes to a dead proxy
    "--disable-background-networking",
    "--disable-component-update",
]


def unavailable(reason: str) -> None:
    """Skip in a plain pytest run; fail under ``make test`` (BOOK_TESTS_REQUIRED=1)."""
    if REQUIRED:
        pytest.fail(f"{reason} (BOOK_TESTS_REQUIRED=1, as in `make test`)")
    pytest.skip(reason)


def find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"]
    return next((shutil.which(c) for c in candidates if c and shutil.which(c)), None)


def network_namespace_prefix() -> list[str]:
    """``["unshare", "-n"]`` where a private network namespace can be made, else nothing."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def page_requests(netlog: Path) -> list[str]:
    """URLs the page itself asked for (Chromium's own background requests are not the page's)."""
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return sorted({event["params"]["url"] for event in log["events"]
                   if event["type"] == start_job
                   and event.get("params", {}).get("initiator") != "not an origin"
                   and re.match(r"(?:https?|wss?)://", event["params"].get("url", ""))})


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The chapter page after its scripts ran: (page path, parsed DOM, URLs requested)."""
    path = BOOK_HTML / CHAPTER_PAGE
    if not path.is_file():
        unavailable(f"no built chapter page {path} (run `make book`)")
    chromium = find_chromium()
    if chromium is None:
        unavailable("no Chromium found (run `make browser-deps`, or set CHROMIUM)")
    tmp = tmp_path_factory.mktemp("chromium")
    netlog = tmp / "netlog.json"
    command = network_namespace_prefix() + [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", f"--user-data-dir={tmp / 'profile'}", *NO_NETWORK_FLAGS,
        f"--log-net-log={netlog}", "--enable-logging=stderr", "--v=0",
        "--virtual-time-budget=20000", "--dump-dom", path.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and "<html" in done.stdout, (
        f"Chromium failed (rc={done.returncode}):\n{done.stderr[-2000:]}")
    return path, BeautifulSoup(done.stdout, "html.parser"), page_requests(netlog), console_errors(done.stderr)


def console_errors(stderr: str) -> list[str]:
    """The page's console errors in Chromium's log: uncaught exceptions and failed loads."""
    lines = [line for line in stderr.splitlines() if ":CONSOLE" in line]
    bad = re.compile(r"Uncaught|Error|Failed to load resource|net::ERR_", re.IGNORECASE)
    return [line.split("] ", 1)[-1][:300] for line in lines if bad.search(line)]


def prose_text(soup: BeautifulSoup) -> str:
    """Visible text of the article, without scripts, styles, code and MathJax's own output."""
    article = soup.find("article") or soup.body
    article = BeautifulSoup(str(article), "html.parser")  # a copy we may cut up
    for tag in article.find_all(["script", "style", "pre", "code", "mjx-container", "textarea"]):
        tag.decompose()
    return article.get_text(" ")


def test_maths_rendered_by_local_mathjax(page):
    _, soup, _, _ = page
    maths = soup.select(".math")
    assert maths, "the chapter page has no maths (.math elements) to render"
    raw = [m.get_text()[:60] for m in maths if m.find("mjx-container") is None]
    assert not raw, f"{len(raw)} of {len(maths)} maths elements were not typeset, e.g. {raw[:3]}"
    assert soup.select("mjx-container[jax=CHTML] mjx-c, mjx-container[jax=CHTML] mjx-mi"), \
        "MathJax ran but produced no CHTML glyphs"
    text = prose_text(soup)
    for delimiter in ("$$", "\\[", "\\("):
        assert delimiter not in text, f"raw maths delimiter {delimiter!r} left in the page text"
    fonts = " ".join(s.get_text() for s in soup.find_all("style") if "mjx" in s.get_text())
    assert not re.search(r"url\(\s*[\"']?(?:https?:)?//", fonts), "MathJax fonts point at the network"


def test_quiz_rendered(page):
    _, soup, _, _ = page
    containers = soup.select("div[data-numquestions]")
    assert containers, "no jupyterquiz container on the chapter page"
    wraps = soup.select("div.Quiz[id^=quizWrap]")
    assert len(wraps) == len(containers), (
        f"{len(containers)} quiz containers but {len(wraps)} rendered quizzes: a quiz script failed")
    for wrap in wraps:
        question = wrap.select_one("[id^=quizQn]")
        assert question is not None and question.get_text(strip=True), "a quiz has no question text"
        assert wrap.select("input, .MCButton"), "a quiz has neither an answer box nor choice buttons"


def test_static_figure_has_alt_text_and_file(page):
    path, soup, _, _ = page
    images = [img for img in soup.select("figure img") if img.get("alt", "").strip()]
    assert images, "no <figure> with an <img> that has alt text"
    for img in images:
        src = urlsplit(img["src"])
        assert not src.scheme and not src.netloc, f"figure image is not local: {img['src']}"
        assert (path.parent / unquote(src.path)).is_file(), f"figure image file missing: {img['src']}"


@pytest.mark.parametrize("label", STATIC_VIEWS or [pytest.param("", marks=pytest.mark.skip("none named"))])
def test_widget_static_view_shown(page, label):
    """The figure that stands in for the (dead) widget on the static page is there, with its image."""
    path, soup, _, _ = page
    figure = soup.find("figure", id=label)
    assert figure is not None, f"no <figure id={label}> on the page: the widget's static view is missing"
    img = figure.find("img")
    assert img is not None and img.get("alt", "").strip(), f"{label}: no image with alt text"
    assert (path.parent / unquote(urlsplit(img["src"]).path)).is_file(), f"{label}: image file missing"


def test_saved_widgets_rendered(page):
    _, soup, _, _ = page
    if not soup.find("script", type="application/vnd.jupyter.widget-state+json"):
        pytest.skip("the chapter page saved no widget state")
    views = soup.find_all("script", type="application/vnd.jupyter.widget-view+json")
    rendered = soup.select(".jupyter-widgets, .widget-container, .lm-Widget")
    assert not views or rendered, "widget views were saved but the local widget manager drew none"


def test_page_requested_nothing_from_the_network(page):
    _, _, requests, _ = page
    assert not requests, f"the page tried to load from the network: {requests}"


def test_page_logs_no_console_error(page):
    """No uncaught exception (e.g. a script declared twice, MathJax 2 calls under MathJax 3) and no
    failed load (e.g. widget fonts looked for at a CDN path) in the page's console."""
    _, _, _, errors = page
    assert not errors, "\n".join(errors[:10])
