"""crmlab.reports.Finding and the saved executive summary."""

import json

import numpy as np
import pytest

from crmlab import reports


def test_finding_prints_its_numbers_and_records_them():
    f = reports.Finding(
        "{n:,} customers; {share:.1%} lose money.", {"n": 2357, "share": np.float64(0.4063)}
    )
    assert f.text == "2,357 customers; 40.6% lose money."
    assert f.record() == {
        "text": f.text,
        "numbers": {"n": 2357, "share": 0.4063},
        "simulated": False,
    }
    assert type(f.record()["numbers"]["share"]) is float


def test_simulated_finding_must_say_so():
    with pytest.raises(ValueError, match="simulated"):
        reports.Finding("The link is {r:.2f}.", {"r": 0.4}, simulated=True)
    assert reports.Finding("In simulated data the link is {r:.2f}.", {"r": 0.4}, simulated=True)


def test_missing_number_fails_at_once():
    with pytest.raises(KeyError):
        reports.Finding("{missing:.0%}", {})


def test_executive_summary_saves_findings(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(reports.EXPORT_ENV, str(tmp_path))
    reports.executive_summary(
        [reports.Finding("{x:.0%} of <b>revenue</b>", {"x": 0.5}), "plain {text}"]
    )
    saved = json.loads((tmp_path / reports.SUMMARY_FILE).read_text())
    assert [s["text"] for s in saved] == ["50% of <b>revenue</b>", "plain {text}"]
    assert saved[0]["numbers"] == {"x": 0.5}


def test_client_summary_and_actions_are_saved_and_shown(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setenv(reports.EXPORT_ENV, str(tmp_path))
    monkeypatch.setattr(reports, "display", lambda obj: shown.append(obj.data))
    act = reports.Action(
        "win back",
        "call the {n:,} lapsed customers who spent over ${spend:,.0f}",
        {"n": 120, "spend": 500.0},
        customers=120,
        value=np.float64(61000.0),
        list_file="win_back.csv",
    )
    reports.executive_summary(
        [reports.Finding("{x:.0%} of revenue", {"x": 0.5})],
        client=["Half the revenue comes from a fifth of the customers."],
        actions=[act],
    )
    assert json.loads((tmp_path / reports.SUMMARY_FILE).read_text())[0]["numbers"] == {"x": 0.5}
    client = json.loads((tmp_path / reports.CLIENT_FILE).read_text())
    assert client["actions"][0]["text"] == "call the 120 lapsed customers who spent over $500"
    assert client["actions"][0]["value"] == 61000.0
    page = shown[0]
    assert reports.CLIENT_CLASS in page and "Recommended actions" in page
    assert "<strong>Win back:</strong>" in page
