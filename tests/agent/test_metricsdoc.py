"""docs/metrics.md is generated from the catalogue: the committed file must match it."""

from __future__ import annotations

from agent.app.builtins import builtin_catalogue
from agent.app.cli import main
from agent.app.metricsdoc import OUTPUT, TEMPLATE, generate, render
from agent.core.catalogue import Catalogue, Measurement, gauge


def test_committed_metrics_doc_is_current() -> None:
    assert OUTPUT.read_text(encoding="utf-8") == generate(), \
        "docs/metrics.md is stale: run `campusmon docs metrics`"
    assert main(["docs", "metrics", "--check"]) == 0


def test_every_declared_measurement_and_field_is_documented() -> None:
    text = OUTPUT.read_text(encoding="utf-8")
    cat = builtin_catalogue()
    for name in cat.names():
        assert f"| `{name}` |" in text, name
        for owned in cat.declarations(name):
            for f in owned.measurement.fields:
                assert f"`{f.name}` (" in text, f"{name}.{f.name}"


def test_a_new_owner_is_appended_and_a_change_shows() -> None:
    base = TEMPLATE.read_text(encoding="utf-8")
    cat = builtin_catalogue()
    cat.add(Measurement("zz_new", "a new plugin's", fields=(gauge("x_seconds", "seconds", "x"),)),
            "zz_plugin")
    out = render(cat, base)
    assert "## zz_plugin (not placed in the template yet)" in out
    assert "`x_seconds` (gauge, seconds): x" in out
    assert out != generate()  # so the staleness test above would fail
    # a marker whose owner declares nothing: the banner, a blank line, the header rows only
    empty = render(Catalogue(), "<!-- measurements: snmp -->").splitlines()
    assert empty[1:] == ["", "| measurement | what | tags (besides the place tags) | "
                         "fields (kind, unit) |", "|---|---|---|---|"]
