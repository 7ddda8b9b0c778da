"""``soorma-lc eval``: reports, exit codes (scripted failures and baseline regressions fail;
other models are figures), and errors on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soorma_lc.cli import main
from tests.evals_helpers import echo, write_suite


def test_eval_prints_the_summary_and_writes_the_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path / "suite", echo())

    code = main(["eval", str(suite), "--report", str(tmp_path / "out"), "--quiet"])

    out = capsys.readouterr().out
    assert code == 0 and "| scripted | 100% |" in out
    assert f"json: {tmp_path / 'out' / 'report.json'}" in out
    assert json.loads((tmp_path / "out" / "report.json").read_text())["run"]["mode"] == "scripted"


def test_a_failing_scripted_case_fails_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = echo(expect={**echo()["expect"], "completion": {"contains": ["goodbye"]}})
    suite = write_suite(tmp_path, wrong)

    assert main(["eval", str(suite), "--quiet"]) == 1
    assert "- `echo` [scripted] 0/1: completion contains 'goodbye'" in capsys.readouterr().out


def test_other_models_are_figures_unless_a_threshold_is_set(tmp_path: Path) -> None:
    only_scripted = echo(
        expect={**echo()["expect"], "abstain": True}, expect_scripted={"abstain": None}
    )
    suite = str(write_suite(tmp_path, only_scripted))
    both = ["eval", suite, "--model", "scripted", "--model", "offline", "--quiet"]

    assert main(both) == 0  # offline fails the case: a figure
    assert main([*both, "--fail-under", "0.9"]) == 1


def test_a_regression_against_the_baseline_fails_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path / "suite", echo())
    offline = ["eval", str(suite), "--model", "offline", "--quiet"]
    assert main([*offline, "--report", str(tmp_path / "base")]) == 0
    write_suite(tmp_path / "suite", echo(expect={**echo()["expect"], "actions": {"max": 0}}))
    capsys.readouterr()

    assert main([*offline, "--baseline", str(tmp_path / "base")]) == 1

    out = capsys.readouterr().out
    assert "1 regressed, 0 within noise" in out and "- `echo` [offline]: 1/1 -> 0/1" in out


def test_bad_arguments_are_reported_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = str(write_suite(tmp_path, echo()))

    assert main(["eval", suite, "--model", "openai/gpt-4o-mini", "--quiet"]) == 1
    assert "is an LLM: run it with --mode live" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "missing"), "--quiet"]) == 1
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["eval", suite, "--only", "nothing*", "--quiet"]) == 2
    assert main(["eval", suite, "--baseline", str(tmp_path / "none.json"), "--quiet"]) == 1
    assert "cannot read report" in capsys.readouterr().err
