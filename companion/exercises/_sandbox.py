"""Run a learner's function on test inputs with time limits, for "write the function" exercises.

The learner's callable may do anything: raise, loop for ever, return the wrong type, print, call
the companion function it was asked to write. :func:`run_learner_function` calls it on each input
in a *forked child process* (where the operating system allows fork) and returns one
:class:`CallResult` per input, so that:

* an exception inside the learner's code becomes a result (its type and message), never a
  traceback in the checker;
* each call has a time limit (``per_call`` seconds, a timer signal in the child), and the whole run
  another (``total`` seconds): past it the child is killed, so the checker never hangs, even on a
  loop inside C code;
* calls to forbidden functions (the companion implementation the exercise asks the learner to
  write) are detected with a profile hook in the child, however the learner imported them;
* nothing the learner's code does to global state reaches the learner's own session.

Where fork is not available (Windows, and macOS where it is unsafe), the calls run in a daemon
thread: the time limits still bound how long the check waits, but a runaway call keeps running in
the background.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

PER_CALL_LIMIT = 5.0      # seconds for one call of the learner's function (at most 10, contract)
TOTAL_LIMIT = 20.0        # seconds for all calls of one check (at most 30, contract)
MAX_RESULT_BYTES = 50_000_000


class CallResult(NamedTuple):
    """The outcome of one call: ``status`` is "ok", "error", "timeout", "forbidden" or "killed"."""

    status: str
    value: Any = None       # the returned value as a float ndarray ("ok"), or None
    detail: str = ""        # error type and message, forbidden name, or what could not be read
    seconds: float = 0.0


class _Timeout(BaseException):
    """Raised in the child by the timer signal (BaseException: `except Exception` cannot eat it)."""


def _as_result(value: Any) -> CallResult:
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    if isinstance(value, tuple) and all(not isinstance(v, (tuple, list)) for v in value):
        parts = []
        for v in value:
            r = _as_result(v)
            if r.status != "ok":
                return r
            parts.append(r.value)
        return CallResult("ok", tuple(parts))
    if value is None:
        return CallResult("error", None, "your function returned None (a missing `return`?)")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        return CallResult("error", None, f"the value returned ({type(value).__name__}) is not numbers: {exc}")
    if arr.nbytes > MAX_RESULT_BYTES:
        return CallResult("error", None, f"the value returned is huge ({arr.nbytes / 1e6:.0f} MB)")
    return CallResult("ok", arr)


def _codes(forbidden: Sequence[Callable]) -> set:
    codes = set()
    for fn in forbidden:
        fn = getattr(fn, "__wrapped__", fn)
        code = getattr(fn, "__code__", None)
        if code is not None:
            codes.add(code)
    return codes


def _call_all(fn: Callable, inputs: Sequence[tuple], forbidden: Sequence[Callable], per_call: float,
              emit: Callable[[int, CallResult], None], use_alarm: bool) -> None:
    codes = _codes(forbidden)
    hit: list[str] = []

    def profile(frame, event, arg):  # records a call of a forbidden function, wherever it came from
        if event == "call" and frame.f_code in codes and not hit:
            hit.append(f"{frame.f_globals.get('__name__', '?')}.{frame.f_code.co_name}")

    if use_alarm:
        def on_alarm(signum, frame):
            raise _Timeout()
        signal.signal(signal.SIGALRM, on_alarm)
    for i, args in enumerate(inputs):
        args = copy.deepcopy(args)
        hit.clear()
        start = time.perf_counter()
        try:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, per_call)
            if codes:
                sys.setprofile(profile)
            try:
                value = fn(*args)
            finally:
                sys.setprofile(None)
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            result = _as_result(value)
        except _Timeout:
            result = CallResult("timeout", None, f"took longer than {per_call:g} s")
        except RecursionError:
            result = CallResult("error", None, "RecursionError: maximum recursion depth exceeded")
        except BaseException as exc:  # noqa: BLE001 - anything the learner's code raises is reported
            message = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            result = CallResult("error", None, f"{type(exc).__name__}: {message}" if message else type(exc).__name__)
        if hit:
            result = CallResult("forbidden", None, hit[0])
        emit(i, result._replace(seconds=time.perf_counter() - start))
        if result.status != "ok":
            return  # the first failure is what the learner needs to see; stop there


def _child(fn, inputs, forbidden, per_call, conn) -> None:  # pragma: no cover - runs in the fork
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)   # the learner's prints go nowhere, not into the checker's output
        os.dup2(devnull, 2)
        _call_all(fn, inputs, forbidden, per_call,
                  lambda i, r: conn.send((i, r)), use_alarm=True)
        conn.send(None)
    except BaseException:  # noqa: BLE001 - e.g. an unpicklable value: the parent sees the pipe close
        pass
    finally:
        conn.close()
        os._exit(0)


def _fork_available() -> bool:
    return hasattr(os, "fork") and sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def run_learner_function(fn: Callable, inputs: Sequence[tuple], *, forbidden: Sequence[Callable] = (),
                         per_call: float = PER_CALL_LIMIT, total: float = TOTAL_LIMIT) -> list[CallResult]:
    """Call ``fn(*args)`` for each ``args`` in `inputs`, each within `per_call` seconds.

    Parameters
    ----------
    fn : callable
        The learner's function.
    inputs : sequence of tuple
        The argument tuples; each call gets deep copies, so `fn` may modify them.
    forbidden : sequence of callable
        Functions `fn` must not call (directly or through helpers); such a call gives a result of
        status "forbidden" naming it.
    per_call, total : float
        Time limits in seconds for one call and for all of them.

    Returns
    -------
    list of CallResult
        One per input, in order. Calls not made because the run was stopped are "killed".
    """
    per_call = float(min(per_call, 10.0))
    total = float(min(total, 30.0))
    results: list[CallResult | None] = [None] * len(inputs)
    ended = "timeout"   # why calls are missing: "timeout" (the whole run) or "exit" (the child died)
    if _fork_available():
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(fn, list(inputs), list(forbidden), per_call, send), daemon=True)
        proc.start()
        send.close()
        deadline = time.monotonic() + total
        try:
            while True:
                # Each call must report within its limit (plus a second of grace): a call stuck in C
                # code, where the timer signal cannot interrupt it, is killed here.
                remaining = min(deadline, time.monotonic() + per_call + 1.0) - time.monotonic()
                if remaining <= 0 or not receive.poll(remaining):
                    break
                try:
                    msg = receive.recv()
                except (EOFError, OSError):
                    ended = "exit"
                    break
                if msg is None:
                    ended = "done"
                    break
                i, result = msg
                results[i] = result
        finally:
            if proc.is_alive():
                proc.kill()
            proc.join(1.0)
            receive.close()
    else:
        box: dict[int, CallResult] = {}

        def work():
            _call_all(fn, inputs, forbidden, per_call, box.__setitem__, use_alarm=False)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        thread.join(total)
        ended = "timeout" if thread.is_alive() else "done"
        for i, r in box.items():
            results[i] = r
    failed_before = any(r is not None and r.status != "ok" for r in results)
    for i, r in enumerate(results):
        if r is not None:
            continue
        if failed_before or ended == "done":
            results[i] = CallResult("killed", None, "not run: an earlier input failed")
        elif ended == "exit":
            results[i] = CallResult("error", None, "your function ended the process (sys.exit, os._exit, a crash "
                                                   "or running out of memory)")
        else:
            results[i] = CallResult("timeout", None, f"took longer than {per_call:g} s")
        failed_before = True
    return results  # type: ignore[return-value]
