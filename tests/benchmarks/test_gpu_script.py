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


@pytest.mark.slow
def test_gpu_profile_variant_parts_smoke(tmp_path):
    """The parts the next GPU run starts with (GELU epilogue, tensor-wise FP8 teacher) run end to end on the CPU:
    a GPU is lent rarely and briefly, so a code-path error must show here first."""
    out = tmp_path / "profile.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_profile.py"), "--smoke", "--what",
                           "giant_variants", "teacher_variants", "--giant-variants", "1", "--teacher-variants", "1",
                           "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    giant = [r for r in result["giant_variants"] if r["section"] == "giant"]
    assert giant[0]["name"].endswith("GELU epilogue") and giant[0]["rel_err_vs_eager_bf16"] < 2e-2
    teachers = [r for r in result["teacher_variants"] if r["section"] == "teacher"]
    assert teachers[0]["name"].startswith("EVA-CLIP-g teacher b2 fp8 tensor-wise")
    assert teachers[0]["targets_cos_min"] > 0.99 and teachers[0]["targets_rel_err_vs_fp32"] < 0.1
    (mim,) = [r for r in result["teacher_variants"] if r["section"] == "mim"]  # the step with that teacher
    assert mim["teacher_share"] > 0 and mim["img_s"] > 0


def test_det_loader_benchmark_runs(tmp_path):
    """benchmarks/det_loader.py end to end at a tiny size: both loaders timed, the resumed start measured."""
    if importlib.util.find_spec("detectron2") is None:
        pytest.skip("detectron2 is not installed: the detection loader benchmark compares against it")
    out = tmp_path / "loader.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "det_loader.py"), "--workers", "0",
                           "--batches", "2", "--rounds", "1", "--resume-at", "50", "--data-root", str(tmp_path),
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    (row,) = result["results"]
    assert row["workers"] == 0 and row["ours_img_s"] > 0 and row["detectron2_img_s"] > 0
    assert result["resume"]["at_iteration"] == 50 and result["resume"]["first_batch_s"] > 0
    assert result["per_sample_seed_ms"] > 0
