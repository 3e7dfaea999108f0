"""EVAViTDet inside detectron2's own SimpleFeaturePyramid / Cascade Mask R-CNN: parameter names and layer decay
agree with detectron2's ViTDet rule, a tiny detector trains a step and infers at an odd image size, and
checkpoints of the pre-training layout load with the 14 -> 16 patch conversion."""
import pytest
import torch
from detectron2.config import instantiate
from detectron2.modeling.backbone.vit import get_vit_lr_decay_rate
from detectron2.structures import BitMasks, Boxes, Instances
from detectron2.utils.events import EventStorage

from eva.backbone import create_model, save_checkpoint
from eva.det import EVAViTDet, eva_lr_factor

from ..backbone.helpers import randomize_
from .conftest import tiny_model_cfg


def _sample(h=100, w=120):
    img = torch.rand(3, h, w) * 255
    inst = Instances((h, w))
    inst.gt_boxes = Boxes(torch.tensor([[10.0, 10, 50, 60], [60, 20, 110, 90]]))
    inst.gt_classes = torch.tensor([0, 2])
    masks = torch.zeros(2, h, w, dtype=torch.bool)
    masks[0, 10:60, 10:50] = True
    masks[1, 20:90, 60:110] = True
    inst.gt_masks = BitMasks(masks)
    return {"image": img, "instances": inst, "height": h, "width": w}


@pytest.mark.parametrize("decay", [0.7, 0.9])
def test_layer_decay_agrees_with_detectron2_rule(decay):
    model = instantiate(tiny_model_cfg().model)
    names = [n for n, _ in model.named_parameters()]
    assert "backbone.net.blocks.1.attn.qkv.weight" in names and "backbone.net.pos_embed" in names
    assert "backbone.net.patch_embed.proj.weight" in names
    for name in names:
        assert eva_lr_factor(name, decay, 2) == pytest.approx(get_vit_lr_decay_rate(name, decay, 2)), name


def test_train_step_and_inference_at_an_odd_size():
    torch.manual_seed(0)
    model = instantiate(tiny_model_cfg().model)
    model.train()
    with EventStorage():
        losses = model([_sample(100, 120), _sample(90, 77)])
    assert {"loss_rpn_cls", "loss_mask", "loss_cls_stage0", "loss_box_reg_stage2"} <= set(losses)
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.backbone.net.blocks[0].attn.qkv.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        out = model([{"image": torch.rand(3, 93, 71) * 255, "height": 93, "width": 71}])
    inst = out[0]["instances"]
    assert inst.image_size == (93, 71) and inst.pred_masks.shape[1:] == (93, 71)


def test_feature_pyramid_strides_and_padding():
    model = instantiate(tiny_model_cfg().model)
    pyramid = model.backbone
    assert {k: v.stride for k, v in pyramid.output_shape().items()} == {"p2": 4, "p3": 8, "p4": 16, "p5": 32,
                                                                      "p6": 64}
    assert pyramid.padding_constraints["square_size"] == 128
    feats = pyramid(torch.zeros(1, 3, 128, 128))
    assert feats["p2"].shape[-2:] == (32, 32) and feats["p6"].shape[-2:] == (2, 2)


def test_pretraining_checkpoint_loads_with_patch_conversion(tmp_path):
    student = randomize_(create_model("eva02_tiny_patch14_224", depth=2, img_size=112, global_pool="",
                                      fc_norm=False))  # a pre-training output: patch 14, class token, final norm
    save_checkpoint(student.state_dict(), tmp_path / "mim.safetensors")
    net = EVAViTDet("eva02_tiny_patch14_224", depth=2, img_size=160, window_size=5, global_blocks=[1],
                    pretrained=str(tmp_path / "mim.safetensors"))  # 8 x 8 patches of 14 -> 10 x 10 of 16
    report = net.load_report
    dropped = {k for k, _ in report.dropped}
    assert {"cls_token", "norm.weight", "norm.bias"} <= dropped
    assert {r[0] for r in report.resized} >= {"patch_embed.proj.weight", "pos_embed"}
    assert net.patch_embed.proj.weight.shape[-1] == 16
    assert net.pos_embed.shape[1] == 1 + 100  # the class-token slot is kept
    torch.testing.assert_close(net.blocks[1].mlp.fc2.weight, student.blocks[1].mlp.fc2.weight)


def test_checkpoint_of_another_variant_is_a_clear_error(tmp_path):
    from eva.backbone import CheckpointError

    save_checkpoint(create_model("eva02_small_patch14_224", depth=2).state_dict(), tmp_path / "s.safetensors")
    with pytest.raises(CheckpointError, match="different variant"):
        EVAViTDet("eva02_tiny_patch14_224", depth=2, img_size=128, window_size=4, global_blocks=[1],
                  pretrained=str(tmp_path / "s.safetensors"))


def test_baai_detectron2_checkpoint_loads_whole_detector(tmp_path):
    """A detector saved the way BAAI's EVA-02 detectron2 fork names it (q/k/v_proj, w1/w2/w3, persisted RoPE
    tables under backbone.net.) loads strictly and predicts exactly as the original."""
    from eva.backbone import CheckpointError
    from eva.det import load_detector

    from ..backbone.helpers import to_baai_layout

    torch.manual_seed(0)
    src = randomize_(instantiate(tiny_model_cfg().model)).eval()
    sd = src.state_dict()
    net = {k[len("backbone.net."):]: v for k, v in sd.items() if k.startswith("backbone.net.")}
    baai = {f"backbone.net.{k}": v for k, v in to_baai_layout(net, split_qkv=True, mlp="w123").items()}
    baai.update({"backbone.net.rope_win.freqs_cos": torch.randn(16, 32),
                 "backbone.net.blocks.0.attn.rope.freqs_cos": torch.randn(16, 32)})
    baai.update({k: v for k, v in sd.items() if not k.startswith("backbone.net.")})
    assert "backbone.net.blocks.0.attn.q_proj.weight" in baai and "backbone.net.blocks.0.mlp.w3.weight" in baai
    torch.save({"model": baai, "iteration": 7}, tmp_path / "eva02_det.pth")

    dst = instantiate(tiny_model_cfg().model).eval()
    report = load_detector(dst, str(tmp_path / "eva02_det.pth"))
    assert "rope_win.freqs_cos" in dict(report.dropped) and report.ok
    image = [{"image": torch.rand(3, 96, 112) * 255, "height": 96, "width": 112}]
    with torch.no_grad():
        a, b = src(image)[0]["instances"], dst(image)[0]["instances"]
    torch.testing.assert_close(a.pred_boxes.tensor, b.pred_boxes.tensor)
    torch.testing.assert_close(a.scores, b.scores)

    lvis = tiny_model_cfg(num_classes=5)
    with pytest.raises(CheckpointError, match="model.roi_heads.num_classes"):
        load_detector(instantiate(lvis.model), str(tmp_path / "eva02_det.pth"))


def test_objects365_detector_starts_a_coco_one(tmp_path):
    """``--init-checkpoint`` of the Objects365 stage (box-only, 365 classes) into a COCO Cascade Mask R-CNN: the
    backbone, pyramid, RPN and box heads' shared layers load; the classifiers and the mask head start fresh and
    are listed. eval / submit / demo (strict) still refuse the same file."""
    from eva.backbone import CheckpointError
    from eva.det import load_detector

    o365 = tiny_model_cfg(num_classes=7)
    o365.model.roi_heads.mask_in_features = None
    o365.model.roi_heads.mask_pooler = o365.model.roi_heads.mask_head = None
    src = randomize_(instantiate(o365.model))
    torch.save({"model": src.state_dict()}, tmp_path / "o365.pth")

    coco = instantiate(tiny_model_cfg(num_classes=3).model)
    report = load_detector(coco, str(tmp_path / "o365.pth"), transfer=True)
    fresh = dict(report.dropped)
    assert "roi_heads.box_predictor.0.cls_score.weight" in fresh  # listed, and fresh at the new class count:
    assert coco.state_dict()["roi_heads.box_predictor.0.cls_score.weight"].shape[0] == 3 + 1
    assert any(k.startswith("roi_heads.mask_head.") for k, _ in report.added)
    for key in ("backbone.net.blocks.1.attn.qkv.weight", "backbone.simfp_2.0.weight",
                "proposal_generator.rpn_head.conv.conv0.weight", "roi_heads.box_head.2.fc1.weight",
                "roi_heads.box_predictor.1.bbox_pred.weight"):
        torch.testing.assert_close(coco.state_dict()[key], src.state_dict()[key], msg=key)
    with pytest.raises(CheckpointError, match="cls_score"):
        load_detector(instantiate(tiny_model_cfg(num_classes=3).model), str(tmp_path / "o365.pth"))
    wider = tiny_model_cfg(num_classes=3, depth=3)
    with pytest.raises(CheckpointError):  # the backbone stays strict in a transfer
        load_detector(instantiate(wider.model), str(tmp_path / "o365.pth"), transfer=True)
