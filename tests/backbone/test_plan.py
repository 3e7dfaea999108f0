"""`eva plan`: predicted training memory against a measured training step, and its recommendations."""
import json
import os
import subprocess
import sys

import pytest

from eva.backbone.cli import main as eva_main
from eva.backbone.plan import plan_memory, task_model_args


@pytest.mark.parametrize("name,task,img,batch,ckpt", [
    ("eva02_tiny_patch14_224", "cls", 224, 16, False),
    ("eva02_small_patch14_224", "cls", 224, 8, True),
    ("eva02_tiny_patch14_224", "det", 256, 4, False),
])
def test_prediction_within_25_percent_of_measured_peak(name, task, img, batch, ckpt):
    out = subprocess.run([sys.executable, "-m", "tests.backbone.mem_step", name, task, str(img), str(batch),
                          "1" if ckpt else "0"], capture_output=True, text=True, check=True,
                         env=dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072"))  # RSS follows live tensors
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    plan = plan_memory(name, task, img, precision="fp32")
    predicted = plan.peak(batch, ckpt) - measured["weights"]  # the weights exist before the step starts
    assert 0.75 <= predicted / measured["step_bytes"] <= 1.25, (predicted, measured)


def test_checkpointing_and_task_shape_the_prediction():
    cls = plan_memory("eva02_tiny_patch14_224", "cls", 224, precision="fp32")
    assert cls.per_sample_ckpt < cls.per_sample / 3
    big = plan_memory("eva02_tiny_patch14_224", "cls", 448, precision="fp32")
    assert 3.5 < big.per_sample / cls.per_sample < 4.5  # 4x the tokens, attention memory linear (SDPA)
    args, hw = task_model_args("eva02_large_patch14_224", "det", 1024)
    assert (args["patch_size"], args["window_size"], args["global_blocks"], hw) == (16, 16, (5, 11, 17, 23),
                                                                                   (1024, 1024))
    assert task_model_args("eva_giant_patch14_224", "det", 1280)[0]["rel_pos"]
    assert task_model_args("eva02_base_patch14_224", "video", 224, frames=8)[1] == (8 * 224, 224)


def test_recommendation_turns_checkpointing_on_only_when_needed():
    plan = plan_memory("eva02_tiny_patch14_224", "cls", 224, precision="fp32")
    roomy = plan.recommend(64 * 2 ** 30)
    assert not roomy["grad_checkpointing"] and roomy["batch_size"] == plan.max_batch(64 * 2 ** 30)
    tight_mem = plan.states + plan.fixed + 1.5 * plan.per_sample  # room for one sample without checkpointing
    tight = plan.recommend(tight_mem / 0.9)
    assert tight["grad_checkpointing"] and tight["batch_size"] >= 2
    assert plan.peak(tight["batch_size"], True) <= tight_mem + 1


def test_cli_prints_plan_and_rejects_unknown_model(capsys):
    assert eva_main(["plan", "--model", "eva02_tiny_patch14_224", "--img", "112", "--precision", "fp32",
                     "--gpu-mem", "16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["recommendation"]["batch_size"] > 0 and out["per_sample"] > out["per_sample_ckpt"] > 0
    assert eva_main(["plan", "--model", "eva02_tiny_patch14_22", "--precision", "fp32"]) == 2
    assert "Did you mean" in capsys.readouterr().err
