"""Large-scale jitter (LSJ) data: detectron2's own transforms (flip, ResizeScale 0.1-2.0, FixedSizeCrop) at a
square size; test images resized to the longest side. COCO by default. The training loader is detectron2's with
batches formed from indices and per-sample seeds (``eva.det.loader``), so a resumed run sees the same data."""
import detectron2.data.transforms as T
from detectron2 import model_zoo
from detectron2.config import LazyCall as L

from eva.det.loader import build_resumable_train_loader

dataloader = model_zoo.get_config("common/data/coco.py").dataloader
dataloader.train._target_ = build_resumable_train_loader
dataloader.train.seed = "${train.seed}"
image_size = 1024
dataloader.train.mapper.augmentations = [
    L(T.RandomFlip)(horizontal=True),
    L(T.ResizeScale)(min_scale=0.1, max_scale=2.0, target_height=image_size, target_width=image_size),
    L(T.FixedSizeCrop)(crop_size=(image_size, image_size), pad=False),
]
dataloader.train.mapper.image_format = "RGB"
dataloader.train.mapper.recompute_boxes = True  # boxes from the cropped masks
dataloader.train.total_batch_size = 64
dataloader.test.mapper.augmentations = [L(T.ResizeShortestEdge)(short_edge_length=image_size, max_size=image_size)]
