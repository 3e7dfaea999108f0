"""benchmarks/gpu.py is run on a lent GPU once in a while: its every section must keep working. The CPU smoke mode
runs the same code paths at tiny sizes (equality checks included) and writes the JSON."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gpu_benchmark_smoke_runs_every_section(tmp_path):
    out = tmp_path / "gpu.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = json.loads(out.read_text())["results"]
    assert {r["section"] for r in rows} == {"peak", "cls", "det", "mim", "giant", "plan"}
    equality = [r for r in rows if r["name"].startswith("equality")]
    assert equality and all(r["rel_err"] < 2e-2 for r in equality)
    if importlib.util.find_spec("detectron2") is not None:  # the peer of the detection rows
        assert any(r["name"].endswith("detectron2 ViT eager") for r in rows)
