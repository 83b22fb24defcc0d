"""The documentation stays true to the code."""

from __future__ import annotations

from pathlib import Path

from tiaojie.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        f"TIAOJIE_{name.upper()}" for name in Settings.model_fields if f"TIAOJIE_{name.upper()}" not in readme
    ]
    assert missing == []


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./scripts/test" in readme
    assert "./scripts/test" in ci


def test_every_termination_reason_is_documented() -> None:
    from cases.lifecycle import TerminationReason

    text = (ROOT / "docs" / "domain.md").read_text()
    assert [r.value for r in TerminationReason if f"`{r.value}`" not in text] == []
