"""A small Chrome DevTools Protocol client for the browser tests (no dependency but Chromium).

Chromium is started headless with ``--remote-debugging-pipe``: the protocol runs over two pipes
(the child's fds 3 and 4, messages separated by NUL bytes), so no port is opened and the browser
can run in a network namespace of its own. :class:`Browser` opens tabs; a :class:`Tab` loads a
page, evaluates JavaScript, clicks and types with real input events (``Input.dispatchKeyEvent``,
so the page's own keypress handlers judge what is typed), and records the page's console errors,
uncaught exceptions and every URL it requested.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import threading
import time
from typing import Any


class CDPError(RuntimeError):
    """A protocol command failed, or the browser did not answer in time."""


class Browser:
    """Headless Chromium driven over the DevTools pipe. Use as a context manager."""

    def __init__(self, command: list[str], *, timeout: float = 60.0) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()

        def wire_fds() -> None:  # in the child: the protocol's fds 3 (read) and 4 (write)
            r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)  # above 4, so the dup2s below never collide
            w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)  # dup2 to another fd clears close-on-exec: Chromium inherits 3 and 4
            os.dup2(w, 4)

        self.proc = subprocess.Popen(command + ["--remote-debugging-pipe"], preexec_fn=wire_fds,
                                     close_fds=False, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_child_r)
        os.close(from_child_w)
        self._out = os.fdopen(to_child_w, "wb", buffering=0)
        self._in = os.fdopen(from_child_r, "rb", buffering=0)
        self.timeout = timeout
        self._next_id = 0
        self._replies: dict[int, dict] = {}
        self._events: dict[str | None, list[dict]] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr), daemon=True).start()

    # -- transport ---------------------------------------------------------------------------
    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = self._in.read(1 << 16)
            if not chunk:
                break
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            with self._cond:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._replies[message["id"]] = message
                    else:
                        self._events.setdefault(message.get("sessionId"), []).append(message)
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def send(self, method: str, params: dict | None = None, *, session: str | None = None,
             timeout: float | None = None) -> dict:
        with self._cond:
            self._next_id += 1
            ident = self._next_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while ident not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise CDPError(f"{method}: no answer from Chromium ({'closed' if self._closed else 'timeout'}); "
                                   f"stderr: {self.stderr()[-1500:]}")
                self._cond.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def events(self, session: str | None) -> list[dict]:
        with self._cond:
            return list(self._events.get(session, []))

    def wait_event(self, session: str, method: str, *, after: int = 0, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self._events.get(session, [])[after:]:
                    if event["method"] == method:
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise CDPError(f"no {method} within {timeout} s")
                self._cond.wait(left)

    def stderr(self) -> str:
        return b"".join(self._stderr).decode(errors="replace")

    # -- tabs --------------------------------------------------------------------------------
    def tab(self, *, width: int = 1280, height: int = 900) -> "Tab":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        tab = Tab(self, target, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            tab.send(f"{domain}.enable")
        tab.send("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        return tab

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self._out, self._in):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Tab:
    """One page of the browser: load, evaluate, click, type; its console errors and requests."""

    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self.browser, self.target, self.session = browser, target, session

    def send(self, method: str, params: dict | None = None, **kw: Any) -> dict:
        return self.browser.send(method, params, session=self.session, **kw)

    def load(self, url: str, *, timeout: float = 60.0) -> None:
        mark = len(self.browser.events(self.session))
        self.send("Page.navigate", {"url": url})
        self.browser.wait_event(self.session, "Page.loadEventFired", after=mark, timeout=timeout)

    def eval(self, expression: str, *, timeout: float = 60.0) -> Any:
        """Evaluate `expression` (awaiting a promise) and return its value as JSON."""
        reply = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                               "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"JavaScript failed: {text}")
        return reply["result"].get("value")

    def click(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                   "clickCount": 1})

    def type(self, text: str) -> None:
        """Type `text` key by key, as a keyboard does (each character is a keypress event)."""
        for char in text:
            self.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": char, "key": char,
                                                 "unmodifiedText": char})
            self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": char})

    def press_enter(self) -> None:
        self.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Enter", "code": "Enter",
                                             "windowsVirtualKeyCode": 13, "text": "\r"})
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Enter", "code": "Enter",
                                             "windowsVirtualKeyCode": 13})

    def console_errors(self) -> list[str]:
        """Uncaught exceptions, console.error calls and failed loads the page logged."""
        errors = []
        for event in self.browser.events(self.session):
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append((details.get("exception", {}).get("description") or details.get("text", ""))[:300])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])[:300])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                entry = params["entry"]
                errors.append(f"{entry.get('text', '')} {entry.get('url', '')}"[:300])
        return errors

    def requests(self) -> list[str]:
        return sorted({e["params"]["request"]["url"] for e in self.browser.events(self.session)
                       if e["method"] == "Network.requestWillBeSent"})

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})
