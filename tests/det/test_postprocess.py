"""Soft-NMS against a slow reference (and mmcv's compiled op, EVA's original choice, when present); maskness;
both switched on in the cascade heads' inference."""
import math

import pytest
import torch
from detectron2.config import instantiate
from detectron2.structures import pairwise_iou

from eva.det import maskness, soft_nms

from .conftest import tiny_model_cfg


def _reference(boxes, scores, method, thr, sigma, min_score, classes=None):
    """Bodla et al.'s loop, one box at a time, in plain Python."""
    def iou(a, b):
        iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = iw * ih
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)

    b, s = boxes.tolist(), scores.tolist()
    alive, keep, out = list(range(len(s))), [], []
    while alive:
        m = max(alive, key=lambda i: s[i])
        if s[m] < min_score:
            break
        keep.append(m)
        out.append(s[m])
        alive.remove(m)
        for i in alive:
            if classes is not None and classes[i] != classes[m]:
                continue
            o = iou(b[m], b[i])
            s[i] *= (1 - o if o > thr else 1.0) if method == "linear" else math.exp(-o * o / sigma)
        alive = [i for i in alive if s[i] >= min_score]
    return keep, out


def _boxes(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 60  # crowded: many overlaps
    wh = torch.rand(n, 2, generator=g) * 40 + 5
    return torch.cat([xy, xy + wh], 1), torch.rand(n, generator=g), torch.randint(0, 3, (n,), generator=g)


@pytest.mark.parametrize("method,thr", [("linear", 0.3), ("linear", 0.6), ("gaussian", 0.0)])
@pytest.mark.parametrize("class_wise", [False, True])
def test_soft_nms_equals_slow_reference(method, thr, class_wise):
    boxes, scores, classes = _boxes()
    keep, new = soft_nms(boxes, scores, method, thr, 0.5, 1e-3, classes if class_wise else None)
    ref_keep, ref_scores = _reference(boxes, scores, method, thr, 0.5, 1e-3, classes.tolist() if class_wise else None)
    assert keep.tolist() == ref_keep
    torch.testing.assert_close(new, torch.tensor(ref_scores), atol=1e-6, rtol=1e-5)
    assert (new[:-1] >= new[1:]).all()


@pytest.mark.parametrize("method", ["linear", "gaussian"])
def test_soft_nms_matches_mmcv(method):
    ops = pytest.importorskip("mmcv.ops", reason="mmcv with compiled ops is not installed")
    boxes, scores, _ = _boxes(seed=3)
    dets, inds = ops.soft_nms(boxes, scores, iou_threshold=0.3, sigma=0.5, min_score=1e-3, method=method)
    keep, new = soft_nms(boxes, scores, method, 0.3, 0.5, 1e-3)
    assert keep.tolist() == inds.tolist()
    torch.testing.assert_close(new, dets[:, 4], atol=1e-5, rtol=1e-4)


def test_soft_nms_edge_cases():
    keep, new = soft_nms(torch.zeros(0, 4), torch.zeros(0))
    assert keep.numel() == 0 and new.numel() == 0
    with pytest.raises(ValueError, match="soft-NMS method"):
        soft_nms(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([0.5]), method="hard")


def test_maskness():
    probs = torch.tensor([[[0.9, 0.7], [0.2, 0.1]], [[0.3, 0.2], [0.1, 0.0]]]).unsqueeze(1)
    torch.testing.assert_close(maskness(probs, 0.5), torch.tensor([0.8, 0.0]))


def _infer(predictor=None, **roi):
    torch.manual_seed(0)
    cfg = tiny_model_cfg()
    cfg.model.roi_heads.update(roi)
    for p in cfg.model.roi_heads.box_predictors:
        p.test_score_thresh = 0.0  # an untrained model: keep its low-score boxes
        p.update(predictor or {})
    model = instantiate(cfg.model).eval()
    torch.manual_seed(1)
    image = torch.rand(3, 96, 112) * 255
    with torch.no_grad():
        return model([{"image": image, "height": 96, "width": 112}])[0]["instances"]


def test_cascade_heads_apply_soft_nms_and_maskness():
    hard = _infer()
    soft = _infer(soft_nms=dict(method="linear", iou_threshold=0.6, class_wise=True))
    assert len(soft) >= len(hard) > 0  # decays instead of removing
    assert (soft.scores[:-1] >= soft.scores[1:]).all() and soft.scores.min() >= 1e-3

    def overlapping_same_class_pairs(inst):
        iou = pairwise_iou(inst.pred_boxes, inst.pred_boxes).triu(diagonal=1)
        same = inst.pred_classes[:, None] == inst.pred_classes[None, :]
        return int(((iou > 0.5) & same).sum())  # 0.5: detectron2's test NMS threshold

    assert overlapping_same_class_pairs(hard) == 0  # detectron2's hard NMS ran ...
    assert overlapping_same_class_pairs(soft) > 0  # ... and soft-NMS replaced it: the pairs survive

    # the heads' result is exactly soft-NMS over detectron2's candidates (its NMS off, no top-k), then top-k
    candidates = _infer(predictor=dict(test_nms_thresh=1.0, test_topk_per_image=-1))
    keep, scores = soft_nms(candidates.pred_boxes.tensor, candidates.scores, "linear", 0.3, 0.5, 1e-3,
                            candidates.pred_classes)
    topk = instantiate(tiny_model_cfg().model).roi_heads.box_predictor[-1].test_topk_per_image  # detectron2's 100
    decayed = _infer(soft_nms=dict(method="linear", iou_threshold=0.3))  # the defaults: sigma 0.5, min 1e-3
    assert 0 < len(decayed) == min(topk, len(keep))
    torch.testing.assert_close(decayed.scores, scores[:topk])
    torch.testing.assert_close(decayed.pred_boxes.tensor, candidates.pred_boxes.tensor[keep[:topk]])
    assert not torch.equal(scores, candidates.scores[keep])  # some scores were decayed
    rescored = _infer(soft_nms=dict(method="linear", iou_threshold=0.6, class_wise=True), maskness_thresh=0.5)
    assert len(rescored) == len(soft)
    # same boxes, each score multiplied by its mask's maskness (masks pasted to the image are thresholded, so
    # compare through the box order: rescoring may only reorder)
    order = {tuple(b.tolist()): s for b, s in zip(soft.pred_boxes.tensor, soft.scores)}
    for b, s in zip(rescored.pred_boxes.tensor, rescored.scores):
        assert s < order[tuple(b.tolist())]  # maskness of an untrained mask head is strictly below 1
    assert (rescored.scores[:-1] >= rescored.scores[1:]).all()
    with pytest.raises(ValueError, match="soft_nms.method"):
        _infer(soft_nms=dict(method="hard"))
