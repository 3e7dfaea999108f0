"""LVIS v1 changes to a COCO recipe (detectron2's own parts): 1203 classes, repeat-factor sampling, sigmoid
classification with the federated loss, LVIS evaluation with 300 detections per image."""
from detectron2.config import LazyCall as L
from detectron2.data.samplers import RepeatFactorTrainingSampler
from detectron2.evaluation.lvis_evaluation import LVISEvaluator
from detectron2.data.detection_utils import get_fed_loss_cls_weights


def to_lvis(model, dataloader, repeat_thresh=0.001, max_dets=300, score_thresh=0.02):
    """Mutate a COCO ``model`` / ``dataloader`` config into its LVIS v1 counterpart."""
    dataloader.train.dataset.names = "lvis_v1_train"
    dataloader.train.sampler = L(RepeatFactorTrainingSampler)(
        repeat_factors=L(RepeatFactorTrainingSampler.repeat_factors_from_category_frequency)(
            dataset_dicts="${dataloader.train.dataset}", repeat_thresh=repeat_thresh),
        seed="${train.seed}")
    dataloader.test.dataset.names = "lvis_v1_val"
    dataloader.evaluator = L(LVISEvaluator)(dataset_name="${..test.dataset.names}", max_dets_per_image=max_dets)
    model.roi_heads.num_classes = 1203
    for predictor in model.roi_heads.box_predictors:
        predictor.update(test_score_thresh=score_thresh, test_topk_per_image=max_dets, use_sigmoid_ce=True,
                         use_fed_loss=True,
                         get_fed_loss_cls_weights=lambda: get_fed_loss_cls_weights(
                             dataloader.train.dataset.names, 0.5))
