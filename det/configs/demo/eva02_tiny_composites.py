"""CPU demo (`make demo`'s step 5: `eva det train --config-file` this file): Cascade Mask R-CNN on the tiny
EVA-02 that `eva demo` pre-trained, trained on copy-paste composites of real Fashion-MNIST items on real photos
(exact masks, 10 classes), evaluated by detectron2's COCOEvaluator. Heads are slimmed and the schedule shortened
to fit minutes on 2 cores."""
from detectron2.config import LazyCall as L
from detectron2.data import get_detection_dataset_dicts
from detectron2.layers import ShapeSpec

from eva.det.data import register_composites

from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.schedule import lr_multiplier, optimizer, train

size, channels = 192, 128
pretrained = "work_dirs/demo/backbone.safetensors"  # written by `eva demo`

model.backbone.net.update(variant="eva02_tiny_patch14_224", depth=6, img_size=size, patch_size=16, window_size=6,
                          global_blocks=[2, 5], rope_ref_grid=10, drop_path_rate=0.0, pretrained=pretrained)
model.backbone.square_pad = size
model.roi_heads.num_classes = 10
model.backbone.out_channels = channels
model.proposal_generator.head.update(in_channels=channels, conv_dims=[-1])
for _head, _predictor in zip(model.roi_heads.box_heads, model.roi_heads.box_predictors):
    _head.update(input_shape=ShapeSpec(channels=channels, height=7, width=7), conv_dims=[], fc_dims=[256, 256])
    _predictor.input_shape = ShapeSpec(channels=256)
model.roi_heads.mask_head.update(input_shape=ShapeSpec(channels=channels, height=14, width=14),
                                 conv_dims=[channels, channels])
model.roi_heads.batch_size_per_image = 64
# fixed 2 x 2 samples per RoIAlign bin: the adaptive default makes torchvision's CPU backward dominate the step
model.roi_heads.box_pooler.sampling_ratio = 2
model.roi_heads.mask_pooler.sampling_ratio = 2
model.proposal_generator.update(pre_nms_topk=(1000, 500), post_nms_topk=(256, 100))

_train = L(register_composites)(name="eva_composites_train", root="datasets", n=1500, size=size, split="train", seed=0)
_val = L(register_composites)(name="eva_composites_val", root="datasets", n=100, size=size, split="test", seed=1)
dataloader.train.dataset = L(get_detection_dataset_dicts)(names=_train)
dataloader.test.dataset = L(get_detection_dataset_dicts)(names=_val, filter_empty=False)
dataloader.evaluator.dataset_name = _val
dataloader.evaluator.output_dir = "${train.output_dir}"
dataloader.train.mapper.instance_mask_format = "bitmask"
dataloader.test.mapper.instance_mask_format = "bitmask"
dataloader.train.mapper.augmentations[1].update(min_scale=0.5, max_scale=1.5, target_height=size, target_width=size)
dataloader.train.mapper.augmentations[2].crop_size = (size, size)
dataloader.test.mapper.augmentations[0].update(short_edge_length=size, max_size=size)
dataloader.train.total_batch_size = 4
dataloader.train.num_workers = 1
dataloader.test.num_workers = 1

train.output_dir = "work_dirs/demo_det"
train.max_iter = 300
train.eval_period = 300
train.checkpointer.period = 300
train.log_period = 20
optimizer.lr = 5e-4
optimizer.params.lr_factor_func.keywords.update(lr_decay_rate=0.75, num_layers=6)
lr_multiplier.scheduler.milestones = [240, 285]
lr_multiplier.warmup_length = 30 / 300
