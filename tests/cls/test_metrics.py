"""ClsMetric against hand-computed numbers, label maps from timm's ImageNet metadata."""
import json

import pytest
import torch

from eva.cls import ClsMetric, apply_label_map, label_map, topk_accuracy

# 6 samples, 4 classes; ranks of the true class: 1, 2, 1, 3, 4, 1
LOGITS = torch.tensor([[9., 1, 2, 3], [5, 9, 1, 2], [1, 2, 9, 3], [7, 8, 1, 9], [4, 3, 2, 1], [0, 1, 2, 9]])
LABELS = torch.tensor([0, 0, 2, 0, 3, 3])


def _run_metric(tmp_path, **kw):
    metric = ClsMetric(topk=(1, 2, 3), out_dir=str(tmp_path), **kw)
    metric.dataset_meta = {"classes": ["a", "b", "c", "d"]}
    metric.process(None, [{"logits": lg, "label": int(lb)} for lg, lb in zip(LOGITS, LABELS)])
    return metric.evaluate(len(LABELS))


def test_topk_and_per_class_match_hand_computation(tmp_path):
    m = _run_metric(tmp_path)
    assert m["cls/top1"] == pytest.approx(100 * 3 / 6)
    assert m["cls/top2"] == pytest.approx(100 * 4 / 6)
    assert m["cls/top3"] == pytest.approx(100 * 5 / 6)
    # class 0: 1 of 3 right, class 2: 1 of 1, class 3: 1 of 2 -> mean over present classes
    assert m["cls/mean_class_acc"] == pytest.approx(100 * (1 / 3 + 1 + 1 / 2) / 3)
    per_class = json.loads((tmp_path / "per_class_accuracy.json").read_text())
    assert per_class == pytest.approx({"a": 100 / 3, "c": 100.0, "d": 50.0})
    assert (tmp_path / "confusion_matrix.png").stat().st_size > 5000
    assert json.loads((tmp_path / "metrics.json").read_text())["num_samples"] == 6


def test_topk_beyond_class_count_is_skipped():
    assert set(topk_accuracy(LOGITS, LABELS, (1, 5))) == {1}


def test_label_beyond_head_is_a_clear_error(tmp_path):
    metric = ClsMetric(topk=(1,))
    metric.process(None, [{"logits": torch.zeros(3), "label": 4}])
    with pytest.raises(ValueError, match="num_classes"):
        metric.evaluate(1)


def test_label_map_restricts_the_head():
    index = torch.tensor([2, -1, 0])
    out = apply_label_map(LOGITS, index)
    assert out.shape == (6, 3) and torch.equal(out[:, 0], LOGITS[:, 2]) and torch.isinf(out[:, 1]).all()


def test_metric_scores_the_mapped_columns(tmp_path):
    """The metric evaluates a larger head on a smaller label space through the map, end to end."""
    (tmp_path / "map.txt").write_text("3 1 -1")  # evaluated class 0 -> head column 3, 1 -> 1, 2 -> none
    metric = ClsMetric(topk=(1, 2), label_map=str(tmp_path / "map.txt"))
    labels = [0, 1, 0, 1, 2, 0]
    metric.process(None, [{"logits": lg, "label": lb} for lg, lb in zip(LOGITS, labels)])
    m = metric.evaluate(len(labels))
    # mapped logits (columns 3, 1): [3, 1], [2, 9], [3, 2], [9, 8], [1, 3], [9, 1] -> argmax 0, 1, 0, 0, 1, 0
    assert m["cls/top1"] == pytest.approx(100 * 4 / 6)  # samples 0, 1, 2, 5 right; class 2 can never win
    assert m["cls/top2"] == pytest.approx(100 * 5 / 6)
    assert m["cls/mean_class_acc"] == pytest.approx(100 * (1 + 1 / 2 + 0) / 3)


@pytest.mark.parametrize("head", [21843, 21841, 21842])
def test_in1k_inside_21k_heads(head):
    from importlib.resources import files

    from eva.cls.label_maps import HEAD_SYNSETS
    idx = label_map("in1k_from_21k", head_classes=head)
    head_synsets = (files("timm.data") / "_info" / HEAD_SYNSETS[head]).read_text().split()
    in1k = (files("timm.data") / "_info" / "imagenet_synsets.txt").read_text().split()
    assert len(idx) == 1000
    for i in (0, 1, 500, 999):  # column idx[i] of the 21K head is the i-th IN-1K synset
        if idx[i] >= 0:
            assert head_synsets[idx[i]] == in1k[i]
    missing = [in1k[i] for i in range(1000) if idx[i] < 0]
    assert missing == ([] if head == 21842 else ["n04399382"])  # teddy bear is not in those 21K releases


def test_imagenet_a_r_subsets_and_size_check(tmp_path):
    a, r = label_map("imagenet_a", 1000), label_map("imagenet_r", 1000)
    assert len(a) == len(r) == 200 and len(set(a.tolist())) == 200
    with pytest.raises(ValueError, match="21K head"):
        label_map("in1k_from_21k", head_classes=1000)
    (tmp_path / "map.txt").write_text("3 1\n")
    assert label_map(tmp_path / "map.txt", 4).tolist() == [3, 1]
    with pytest.raises(ValueError, match="unknown label map"):
        label_map("imagenet_z")
