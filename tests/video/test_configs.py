"""The Kinetics configs carry the EVA paper's numbers, build with only `custom_imports`, and their recognizer (cut
down in width and depth) runs mmaction2's train and test steps; the optimizer follows the shared layer-decay rule."""
from pathlib import Path

import pytest
import torch

pytest.importorskip("mmaction", reason="eva.video needs mmaction2 (make setup installs it)")

from mmengine.config import Config  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[2] / "video" / "configs"
K722 = "eva01_giant_k722_8x224.py"
TINY = dict(embed_dim=64, depth=2, num_heads=4, mlp_hidden_dim=128, img_size=56, pretrained=None)

# stage: (frames, epochs, warmup, lr, layer decay, drop path, classes, per-GPU batch x GPUs x accumulation, mixup)
PAPER = {
    K722: (8, 40, 5, 8e-6, 1.0, 0.3, 722, 256, True),
    "eva01_giant_k400_16x224.py": (16, 1, 0, 1e-6, 0.95, 0.2, 400, 256, False),
    "eva01_giant_k600_16x224.py": (16, 2, 0, 1e-6, 0.95, 0.2, 600, 256, False),
    "eva01_giant_k700_16x224.py": (16, 2, 0, 1e-6, 0.95, 0.2, 700, 256, False),
}


def _load(name):
    from mmaction.utils import register_all_modules
    from mmengine.utils import import_modules_from_strings

    register_all_modules()
    cfg = Config.fromfile(CONFIGS / name)
    import_modules_from_strings(**cfg.custom_imports)  # what mmaction2's runner does: nothing but custom_imports
    return cfg


@pytest.mark.parametrize("name", sorted(PAPER))
def test_config_numbers_are_the_papers(name):
    frames, epochs, warmup, lr, lrd, dpr, classes, batch, mixup = PAPER[name]
    cfg = _load(name)
    bb, head = cfg.model.backbone, cfg.model.cls_head
    assert (bb.type, bb.variant, bb.num_frames, bb.tubelet_size, bb.img_size) == (
        "EVAVideoBackbone", "eva_giant_patch14_224", frames, 1, 224)
    assert bb.drop_path_rate == dpr and bb.grad_checkpointing
    assert (head.type, head.num_classes, head.in_channels, head.label_smooth_eps, head.average_clips) == (
        "EVAVideoHead", classes, 1408, 0.1, "prob")
    opt = cfg.optim_wrapper
    assert (opt.optimizer.type, opt.optimizer.lr, opt.optimizer.betas, opt.optimizer.weight_decay) == (
        "AdamW", lr, (0.9, 0.98), 0.05)
    assert (opt.constructor, opt.paramwise_cfg.layer_decay) == ("LayerDecayOptimWrapperConstructor", lrd)
    assert cfg.train_dataloader.batch_size * cfg.num_gpus * opt.accumulative_counts == batch
    assert cfg.train_cfg.max_epochs == epochs
    sched = cfg.param_scheduler
    if warmup:
        assert sched[0].type == "LinearLR" and sched[0].end == warmup and sched[1].type == "CosineAnnealingLR"
    else:
        assert [s.type for s in sched] == ["ConstantLR"] and sched[0].factor == 1.0
    blending = cfg.model.data_preprocessor.get("blending")
    if mixup:
        assert [(a.type, a.alpha) for a in blending.augments] == [("MixupBlending", 0.8), ("CutmixBlending", 1.0)]
    else:
        assert blending is None
    sampler = cfg.train_dataloader.dataset.pipeline[1]
    assert (sampler.type, sampler.clip_len, sampler.num_clips) == ("UniformSample", frames, 1)  # sparse 1 x T
    test = cfg.test_dataloader.dataset.pipeline
    assert (test[1].clip_len, test[1].num_clips, test[4].type, test[4].crop_size) == (frames, 4, "ThreeCrop", 224)
    if not warmup:  # fine-tuned from the remapped K722 model: backbone and head
        assert bb.pretrained == head.init_cfg.checkpoint and head.init_cfg.prefix == "cls_head."


def test_recognizer_trains_and_tests_a_step_with_layer_decay():
    from mmaction.registry import MODELS
    from mmaction.structures import ActionDataSample
    from mmengine.optim import build_optim_wrapper

    cfg = _load(K722)
    cfg.model.backbone.update(TINY, grad_checkpointing=False)
    cfg.model.cls_head.update(in_channels=64, num_classes=5)
    for aug in cfg.model.data_preprocessor.blending.augments:
        aug.num_classes = 5
    model = MODELS.build(cfg.model)
    model.init_weights()
    samples = [ActionDataSample().set_gt_labels(torch.tensor([i])) for i in (1, 3)]
    data = dict(inputs=[torch.randint(0, 255, (1, 3, 5, 56, 56), dtype=torch.uint8) for _ in samples],
                data_samples=samples)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    losses = model.train_step(data, wrapper)
    assert torch.isfinite(losses["loss_cls"])
    scale = {tuple(g["params"][0].shape): g["lr_scale"] for g in wrapper.optimizer.param_groups}
    assert set(scale.values()) == {1.0}  # the K722 stage: no layer decay
    cfg.optim_wrapper.paramwise_cfg.layer_decay = 0.95
    groups = build_optim_wrapper(model, cfg.optim_wrapper).optimizer.param_groups
    scale_of = {id(p): g["lr_scale"] for g in groups for p in g["params"]}
    depth = model.backbone.depth  # embeddings get 0.95 ** (depth + 1), block i 0.95 ** (depth - i), the head 1.0
    assert scale_of[id(model.backbone.pos_embed)] == pytest.approx(0.95 ** (depth + 1))
    assert scale_of[id(model.backbone.patch_embed.proj.weight)] == pytest.approx(0.95 ** (depth + 1))
    assert scale_of[id(model.backbone.blocks[0].attn.qkv.weight)] == pytest.approx(0.95 ** depth)
    assert scale_of[id(model.cls_head.fc_cls.weight)] == 1.0
    model.eval()
    test = dict(inputs=[torch.randint(0, 255, (12, 3, 16, 56, 56), dtype=torch.uint8)],  # 4 clips x 3 crops
                data_samples=[ActionDataSample().set_gt_labels(torch.tensor([2]))])
    with torch.no_grad():
        out = model.test_step(test)
    assert out[0].pred_scores.item.shape == (5,) and torch.isclose(out[0].pred_scores.item.sum(), torch.tensor(1.0))
