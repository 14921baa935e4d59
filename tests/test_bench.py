"""The benchmark harness runs end to end at a tiny size (the real figures are in the README)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_benchmark_harness_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--sizes",
            "300",
            "--queries",
            "20",
            "--discord",
            "20",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.read_text())
    size = report["sizes"][0]
    assert size["facts"] == 300
    assert size["ours"]["p50_ms"] > 0 and size["bm25s"]["p50_ms"] > 0 and size["naive_rapidfuzz"]["p50_ms"] > 0
    discord = report["discord"]
    assert discord["errors"] == discord["floor"]["errors"] == discord["shaped_floor"]["errors"] == 0
    assert "per-question time at 300 facts no slower than bm25s" in result.stdout
    reader = report["reader"]
    assert reader["archive_facts"] == 300 and reader["article_facts"] >= 40
    assert reader["article"]["reader"]["p50_ms"] > reader["article"]["lexical"]["p50_ms"] > 0
    assert "reader model load" in result.stdout
