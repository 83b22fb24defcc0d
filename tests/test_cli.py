"""The command line, in process; and `tiaojie serve` as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from store.migrate import head_revision
from tiaojie.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("TIAOJIE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TIAOJIE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TIAOJIE_LOG_LEVEL", "WARNING")
    return tmp_path / "var"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_migrate_then_demo_json(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "migrate")
    assert code == 0
    assert f"empty -> {head_revision()}" in out
    code, out = run(capsys, "demo", "--json")
    assert code == 0
    info: dict[str, Any] = json.loads(out)
    assert info["case"]["state"] == "assigned"
    assert info["api_keys"]["court"].startswith("key_")
    assert set(info["logins"]) == {"mediator", "court", "union"}
    assert info["console_url"].endswith("/console/login")
    assert set(info["session"]["links"]) == {"mediator", "worker", "employer"}
    assert all("/j#v1." in url for url in info["session"]["links"].values())
    # A second demo adds a second, separate set.
    _, again = run(capsys, "demo", "--json")
    assert json.loads(again)["court"]["id"] != info["court"]["id"]


def test_admin_commands(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(capsys, "court", "create", "--name", "某区人民法院", "--code", "豫0802", "--json")
    court = json.loads(out)
    _, out = run(capsys, "org", "create", "--name", "某市总工会", "--json")
    org = json.loads(out)
    _, out = run(capsys, "apikey", "create", "--name", "court system", "--court", court["id"], "--json")
    key = json.loads(out)
    assert key["token"].startswith(key["id"] + ".")
    code, out = run(
        capsys, "user", "create", "--username", "u1", "--role", "union_admin", "--org", org["id"], "--json"
    )
    assert code == 0
    assert len(json.loads(out)["password"]) >= 10  # generated: stdin is not a terminal
    code, _ = run(capsys, "apikey", "revoke", key["id"])
    assert code == 0


def test_errors_are_reported_without_traceback(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "court", "create", "--name", "A", "--code", "X1")
    code = main(["court", "create", "--name", "B", "--code", "X1"])
    assert code == 2
    assert "exists" in capsys.readouterr().err
    code = main(["apikey", "revoke", "key_nothing"])
    assert code == 2


@pytest.mark.timeout(60)
def test_serve_migrates_an_empty_database_and_answers(data_dir: Path) -> None:
    env = {**os.environ, "TIAOJIE_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tiaojie", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        line = process.stdout.readline()
        assert "serving on http://127.0.0.1:" in line, (line, process.stderr.read() if process.poll() else "")
        base = line.split("serving on ")[1].split()[0].rstrip("/")
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:  # noqa: S310 - loopback
            assert json.load(response) == {"status": "ok"}
        with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=10) as response:  # noqa: S310
            assert json.load(response)["openapi"] == "3.1.0"
        assert (data_dir / "tiaojie.db").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()
