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

The second half reads the book as a reader does, in one Chromium driven over the DevTools pipe
(``tests/_cdp.py``), from file:// and from a local http server (127.0.0.1; every host name still
resolves to nothing): every quiz on every page is answered by typing (the right number, each
misconception's number, a far-off number) or clicking (a wrong, then the right option) and must
show its own feedback; axe-core (``make vendor`` puts it in ``_vendor/test``; ``AXE_JS``) finds no
critical or serious violation in the main content of a sample of pages (``BOOK_AXE_PAGES``);
display equations fit a 390 px phone (shrunk, or scrolling in their own box). Each page must log
no console error (uncaught exceptions, ``console.error``, failed loads) and request nothing from
outside the book.

Without a built book or a Chromium these tests skip (plain ``pytest``); ``make test`` sets
``BOOK_TESTS_REQUIRED=1`` and then they fail. ``BOOK_HTML`` selects another build folder,
``BOOK_BROWSER_PAGE`` another page (relative to it) and ``CHROMIUM`` another browser binary.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from _cdp import Browser
from _jupyterquiz import numeric_verdict, to_precision
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


# ------------------------------------------------------------------------------------------------
# Reading like a reader: every quiz answered by typing, axe-core, equations on a phone.
# One headless Chromium, driven over the DevTools pipe (tests/_cdp.py), opens the pages from
# file:// and from a local http server; every page must log no console error and request nothing
# beyond the book itself.
# ------------------------------------------------------------------------------------------------


AXE_JS = Path(os.environ.get("AXE_JS", ROOT / "_vendor" / "test" / "axe-core-4.14.1" / "axe.min.js"))
# The pages axe-core checks: the intro, chapters with quizzes and widgets, the problem sets, the
# glossary and the run page (BOOK_AXE_PAGES, comma-separated, to choose others).
AXE_PAGES = [p for p in os.environ.get("BOOK_AXE_PAGES", ",".join([
    "book/intro.html", "notebooks/01_convolution.html", "notebooks/05_batchnorm.html",
    "notebooks/06_pooling.html", "notebooks/10_calibration.html", "notebooks/16_derivations.html",
    "book/glossary.html", "book/run.html"])).split(",") if p]


def quiz_pages() -> list[str]:
    """Every built page with a jupyterquiz question, relative to the build folder."""
    if not BOOK_HTML.is_dir():
        return []
    return sorted(p.relative_to(BOOK_HTML).as_posix() for p in BOOK_HTML.glob("notebooks/*.html")
                  if "data-numquestions" in p.read_text(encoding="utf-8", errors="replace"))


@pytest.fixture(scope="module")
def book_server():
    """The built book over http, from 127.0.0.1 (a port of its own), for the length of the module."""
    if not BOOK_HTML.is_dir():
        unavailable(f"no built book in {BOOK_HTML} (run `make book`)")
    handler = functools.partial(type("Quiet", (http.server.SimpleHTTPRequestHandler,),
                                     {"log_message": lambda *a: None}), directory=str(BOOK_HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = find_chromium()
    if chromium is None:
        unavailable("no Chromium found (run `make browser-deps`, or set CHROMIUM)")
    profile = tmp_path_factory.mktemp("cdp-profile")
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", f"--user-data-dir={profile}", *NO_NETWORK_FLAGS]
    # The book's own http server (an IP literal) stays reachable; every host name still resolves to nothing.
    command = [f"{flag}, EXCLUDE 127.0.0.1" if flag.startswith("--host-resolver-rules=") else flag
               for flag in command]
    with Browser(command) as b:
        yield b


def page_errors(tab) -> list[str]:
    """The tab's console errors, without Chromium's own request for /favicon.ico at an http root."""
    return [e for e in tab.console_errors() if not re.search(r"https?://127\.0\.0\.1:\d+/favicon\.ico", e)]


def page_url(mode: str, page: str, server: str) -> str:
    return (BOOK_HTML / page).as_uri() if mode == "file" else server + page


def foreign_requests(requests: list[str], server: str) -> list[str]:
    """Requests that left the book: anything but its own files, its http server, data: and blob:."""
    own = ("file://", "data:", "blob:", server, "about:")
    return [u for u in requests if not u.startswith(own)]


READY = """(async () => {
  const deadline = Date.now() + 20000;
  const wanted = document.querySelectorAll('div[data-numquestions]').length;
  while (document.querySelectorAll('div.Quiz').length < wanted && Date.now() < deadline)
    await new Promise(r => setTimeout(r, 100));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await new Promise(r => setTimeout(r, 300));
  return document.querySelectorAll('div.Quiz').length - wanted;
})()"""


@contextlib.contextmanager
def opened(browser, url: str, *, width: int = 1280):
    tab = browser.tab(width=width)
    try:
        tab.load(url)
        assert tab.eval("!!document.querySelector('main#main-content')"), (
            f"{url} did not load as a page of the book: {tab.eval('document.title')!r}")
        missing = tab.eval(READY)
        assert missing >= 0, f"{url}: {-missing} quiz containers were not rendered (a quiz script failed)"
        yield tab
    finally:
        tab.close()


QUIZZES = """(() => Array.from(document.querySelectorAll('div.Quiz')).map(wrap => {
  const inp = wrap.querySelector('input.Input-text');
  if (inp) return {kind: 'numeric', id: inp.id, fb: 'fb' + inp.id.split('-')[0],
                   answers: JSON.parse(inp.dataset.answers),
                   precision: inp.dataset.precision ? Number(inp.dataset.precision) : null};
  const labels = Array.from(wrap.querySelectorAll('label.MCButton'));
  return {kind: 'choice', fb: 'fb' + (labels.length ? labels[0].id.split('-')[0] : ''),
          options: labels.map(l => ({id: l.id, correct: l.dataset.correct === 'true',
                                     feedback: l.dataset.feedback || ''}))};
}))()"""


def typed_number(x: float, precision: int | None) -> str:
    """How a reader types `x`: as many significant figures as the quiz keeps, no exponent."""
    if precision:
        x = to_precision(x, precision)
    elif float(x).is_integer():
        return str(int(x))
    return np.format_float_positional(x, trim="-")


def same_feedback(shown: str, expected: str) -> bool:
    """The page's feedback text is the expected one (up to white space and typeset maths)."""
    norm = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    head = norm(re.split(r"[$`<\\]", expected)[0])
    return norm(shown).startswith(head[:60])


RECT = """(id => { const el = document.getElementById(id); el.scrollIntoView({block: 'center'});
  const r = el.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })"""
FEEDBACK = """(id => { const fb = document.getElementById(id);
  return [fb.innerText, fb.classList.contains('correct'), fb.classList.contains('incorrect')]; })"""


def answer_numeric(tab, quiz: dict, typed: str) -> tuple[str, bool, bool, str]:
    """Click into the box, type `typed`, press Enter; the feedback shown and the box's text after
    clicking into it again (which must not erase what the reader typed)."""
    x, y = tab.eval(f"{RECT}({json.dumps(quiz['id'])})")
    tab.click(x, y)
    tab.type(typed)
    tab.press_enter()
    text, correct, incorrect = tab.eval(f"{FEEDBACK}({json.dumps(quiz['fb'])})")
    x, y = tab.eval(f"{RECT}({json.dumps(quiz['id'])})")
    tab.click(x, y)
    kept = tab.eval(f"document.getElementById({json.dumps(quiz['id'])}).value")
    tab.eval("document.activeElement && document.activeElement.blur()")  # the reader clicks elsewhere
    return text, correct, incorrect, kept


def right_number(quiz: dict) -> str:
    (right,) = [a for a in quiz["answers"] if a.get("correct") and "range" in a][:1] or [None]
    assert right is not None, f"quiz {quiz['id']} has no correct range"
    lo, hi = right["range"]
    return typed_number((lo + hi) / 2, quiz["precision"])


def check_quizzes(tab, where: str) -> list[str]:
    """Answer every quiz on the page right and wrong; return what went wrong."""
    problems = []
    for k, quiz in enumerate(tab.eval(QUIZZES), start=1):
        label = f"{where} quiz {k}"
        if quiz["kind"] == "numeric":
            right = right_number(quiz)
            wrongs = [typed_number(a["value"], quiz["precision"]) for a in quiz["answers"] if "value" in a]
            centre = float(right)
            wrongs.append(typed_number(round(centre * 3 + 7, 3), quiz["precision"]))
            for typed in [right] + wrongs:
                want_ok, want_fb = numeric_verdict(quiz, typed)  # the quiz's own rules
                if typed == right and not want_ok:
                    problems.append(f"{label}: the right answer typed as {typed} is judged wrong by the quiz's own rules")
                text, correct, incorrect, kept = answer_numeric(tab, quiz, typed)
                if (correct, incorrect) != (want_ok, not want_ok) or not same_feedback(text, want_fb):
                    problems.append(f"{label}: typed {typed}: shown {text!r} "
                                    f"({'correct' if correct else 'incorrect' if incorrect else 'no verdict'}), "
                                    f"expected {want_fb[:60]!r}")
                if kept != typed:
                    problems.append(f"{label}: clicking back into the box changed {typed!r} to {kept!r}")
        else:
            options = quiz["options"]
            assert sum(o["correct"] for o in options) >= 1, f"{label}: no correct option"
            order = [o for o in options if not o["correct"]][:1] + [o for o in options if o["correct"]][:1]
            for option in order:
                x, y = tab.eval(f"{RECT}({json.dumps(option['id'])})")
                tab.click(x, y)
                text, correct, incorrect = tab.eval(f"{FEEDBACK}({json.dumps(quiz['fb'])})")
                if (correct, incorrect) != (option["correct"], not option["correct"]) or not text.strip() \
                        or (option["feedback"] and not same_feedback(text, option["feedback"])):
                    problems.append(f"{label}: clicked {'the right' if option['correct'] else 'a wrong'} option: "
                                    f"shown {text!r}, expected {option['feedback'][:60]!r}")
    return problems


@pytest.mark.parametrize("mode", ["file", "http"])
@pytest.mark.parametrize("page_name", quiz_pages() or [pytest.param("", marks=pytest.mark.skip("no quiz pages built"))])
def test_every_quiz_answers_right_and_wrong_answers_typed_like_a_reader(browser, book_server, mode, page_name):
    """Each numeric quiz: the right number (as many figures as the quiz keeps), each misconception's
    number and a far-off number are typed key by key and sent with Enter; each shows its own
    feedback, marked correct or incorrect. Each choice quiz: a wrong option, then the right one.
    The page logs no console error and requests nothing from outside the book."""
    with opened(browser, page_url(mode, page_name, book_server)) as tab:
        shown = tab.eval("document.querySelectorAll('div.Quiz').length")
        assert shown > 0, f"{page_name} ({mode}): no quiz was drawn"
        problems = check_quizzes(tab, f"{mode}:{page_name}")
        errors = page_errors(tab)
        foreign = foreign_requests(tab.requests(), book_server)
    assert not problems, "\n".join(problems[:20])
    assert not errors, f"console errors on {page_name} ({mode}):\n" + "\n".join(errors[:10])
    assert not foreign, f"{page_name} ({mode}) requested from outside the book: {foreign[:5]}"


AXE_RUN = """(async () => {
  const result = await axe.run(document.querySelector('main') || document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'critical' || v.impact === 'serious').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.length, targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
})()"""


@pytest.mark.parametrize("page_name", AXE_PAGES)
def test_axe_core_finds_no_critical_or_serious_violation(browser, book_server, page_name):
    """axe-core (vendored by `make vendor`, injected into the page) on the page's main content:
    no critical or serious violation (labels, alt texts, names of controls, contrast >= 4.5:1)."""
    if not (BOOK_HTML / page_name).is_file():
        unavailable(f"no built page {page_name}")
    if not AXE_JS.is_file():
        unavailable(f"no axe-core at {AXE_JS} (run `make vendor`)")
    with opened(browser, page_url("http", page_name, book_server)) as tab:
        check_quizzes(tab, page_name)  # the feedback (and its colours) shows, as after a reader's answers
        tab.eval(AXE_JS.read_text(encoding="utf-8") + "; true")
        violations = tab.eval(AXE_RUN, timeout=120)
        errors = page_errors(tab)
    assert not violations, f"{page_name}: " + json.dumps(violations, indent=1)[:4000]
    assert not errors, f"console errors on {page_name}:\n" + "\n".join(errors[:10])


EQUATION_PAGES = [p for p in os.environ.get("BOOK_EQUATION_PAGES", "notebooks/01_convolution.html,"
                  "notebooks/05_batchnorm.html,notebooks/09_losses.html").split(",") if p]
EQUATIONS = """(async () => {
  await new Promise(r => setTimeout(r, 300));   // maths.js fits after MathJax's startup promise
  const eqs = [...document.querySelectorAll('mjx-container[display="true"]')];
  const over = eqs.filter(e => e.scrollWidth > e.clientWidth + 1);
  return {n: eqs.length, over: over.length,
          unshrunk: over.filter(e => !e.style.fontSize.includes('calc(')).length,
          page_wider: document.documentElement.scrollWidth > window.innerWidth + 1};
})()"""


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("page_name", EQUATION_PAGES)
def test_wide_equations_fit_the_column(browser, book_server, page_name, width):
    """On a 390 px phone a display equation wider than the column is shrunk to fit (down to 65 %,
    then it scrolls in its own box), and the page itself never scrolls sideways; at 1280 px every
    equation fits. (Measured over all chapters at 390 px: 48 of 74 display equations overflowed
    before the shrinking, 22 after; at 1280 px 13 before, 0 after.)"""
    if not (BOOK_HTML / page_name).is_file():
        unavailable(f"no built page {page_name}")
    with opened(browser, page_url("file", page_name, book_server), width=width) as tab:
        found = tab.eval(EQUATIONS)
    assert found["n"] > 0, f"{page_name}: no display equation"
    assert not found["page_wider"], f"{page_name} at {width} px scrolls sideways"
    assert found["unshrunk"] == 0, f"{page_name} at {width} px: {found}"
    if width >= 1280:
        assert found["over"] == 0, f"{page_name} at {width} px: {found}"
