"""The checks every chapter widget's static explorer must pass (issue 17): imported by the
tests/test_widgets_<topic>.py files."""

from __future__ import annotations

from companion.widgets._render import Explorer, explorer_report

MAX_STATE_BYTES = 3_000_000      # the budget per page (all widgets of a chapter together)


def check_static(box, *, alt_words=(), max_bytes: int = 1_500_000) -> dict:
    """Assert that `box` is a static explorer with one picture view per grid point, every control
    jslinked to its stacks, alt text on every image and a description on every control."""
    import ipywidgets as widgets

    ex = box.controller
    assert isinstance(ex, Explorer)
    r = explorer_report(box)
    assert r["leaves"] == r["combinations"] >= 2
    assert r["distinct_leaves"] == r["combinations"]          # every grid point shows something else
    assert r["images"] >= r["leaves"] and len(r["alts"]) == r["images"]
    assert all(isinstance(a, str) and len(a) > 20 for a in r["alts"])
    for word in alt_words:
        assert all(word in a for a in r["alts"]), word
    linked = {(id(src), attr) for src, attr, _t, tattr in r["links"]}
    assert linked == {(id(c), "index") for c in ex.controls.values()}
    assert all(tattr == "selected_index" and isinstance(t, widgets.Stack) for _s, _a, t, tattr in r["links"])
    assert all(d.strip() for d in r["descriptions"])
    assert r["fixed_disabled"]
    assert r["state_bytes"] < max_bytes
    return r
