"""The classifier: heads, freezing, starting from checkpoints (MIM, BAAI layout, another resolution), the
layer-decay groups of a cls config, and clear errors for a wrong class count or another variant."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import OPTIM_WRAPPERS

from eva.backbone import CheckpointError, create_model, get_layer_id, load_pretrained, save_checkpoint
from eva.cls import EVAClassifier

from ..backbone.helpers import randomize_, to_baai_layout
from .conftest import CONFIGS, TINY_BACKBONE


def _mim_checkpoint(path, **overrides):
    """A pre-training output: student weights with the final norm, no classifier."""
    student = randomize_(create_model(**dict(TINY_BACKBONE, **overrides), global_pool="", fc_norm=False))
    save_checkpoint(student.state_dict(), path)
    return student


def test_finetune_head_is_avg_pool_fc_norm_linear(tmp_path):
    student = _mim_checkpoint(tmp_path / "mim.safetensors")
    model = EVAClassifier(TINY_BACKBONE, num_classes=7, pretrained=str(tmp_path / "mim.safetensors")).eval()
    x = torch.randn(2, 3, 48, 48)
    tokens = student.forward_features(x)  # ends with the pre-trained final norm
    ref = model.backbone.head(model.backbone.fc_norm(model.backbone.forward_features(x)[:, 1:].mean(1)))
    torch.testing.assert_close(model(x), ref)
    # the pre-trained final norm starts the fine-tuning fc_norm; the blocks are the student's
    torch.testing.assert_close(model.backbone.fc_norm.weight, student.norm.weight)
    torch.testing.assert_close(model.backbone.blocks[1].mlp.fc2.weight, student.blocks[1].mlp.fc2.weight)
    assert tokens.shape[1] == 1 + 36


def test_linear_probe_freezes_the_backbone(tmp_path):
    model = EVAClassifier(TINY_BACKBONE, num_classes=5, head="linear_probe")
    x = torch.randn(2, 3, 48, 48)
    randomize_(model.backbone)  # the probe's feature is the class token after the final norm, not a token average
    torch.testing.assert_close(model.extract_feat(x), model.backbone.forward_features(x)[:, 0])
    assert not torch.allclose(model.extract_feat(x), model.backbone.forward_features(x)[:, 1:].mean(1))
    model.train()
    assert not model.backbone.training and model.probe.training
    bn = model.probe[0]
    assert isinstance(bn, torch.nn.BatchNorm1d) and not bn.affine
    loss = model(torch.randn(4, 3, 48, 48), torch.tensor([0, 1, 2, 3]), mode="loss")["loss"]
    loss.backward()
    assert all(p.grad is None and not p.requires_grad for p in model.backbone.parameters())
    assert model.probe[1].weight.grad is not None


def test_frozen_patch_embedding_gets_no_gradient():
    model = EVAClassifier(TINY_BACKBONE, num_classes=3, freeze_patch_embed=True)
    model(torch.randn(2, 3, 48, 48), torch.tensor([0, 2]), mode="loss")["loss"].backward()
    assert model.backbone.patch_embed.proj.weight.grad is None
    assert model.backbone.blocks[0].attn.qkv.weight.grad is not None


def test_baai_classifier_of_another_class_count_starts_a_new_head(tmp_path):
    ref = randomize_(create_model(**TINY_BACKBONE, num_classes=21))
    torch.save({"model": to_baai_layout(ref.state_dict(), split_qkv=False, mlp="w12")}, tmp_path / "in21k.pt")
    model = EVAClassifier(TINY_BACKBONE, num_classes=4)
    report = load_pretrained(model.backbone, str(tmp_path / "in21k.pt"))
    assert {"head.weight", "head.bias"} <= {k for k, _ in report.dropped}
    assert model.backbone.head.weight.shape[0] == 4
    torch.testing.assert_close(model.backbone.blocks[0].attn.qkv.weight, ref.blocks[0].attn.qkv.weight)


def test_fine_tuning_at_another_resolution_resamples_positions(tmp_path):
    _mim_checkpoint(tmp_path / "mim.safetensors")
    model = EVAClassifier(dict(TINY_BACKBONE, img_size=64), num_classes=3, pretrained=str(tmp_path / "mim.safetensors"))
    assert model.backbone.pos_embed.shape[1] == 1 + 64
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 3)


def test_checkpoint_of_another_variant_is_a_clear_error(tmp_path):
    _mim_checkpoint(tmp_path / "small.safetensors", name="eva02_small_patch14_224")
    with pytest.raises(CheckpointError, match="different variant"):
        EVAClassifier(TINY_BACKBONE, num_classes=3, pretrained=str(tmp_path / "small.safetensors"))


def test_labels_beyond_the_head_are_a_clear_error():
    model = EVAClassifier(TINY_BACKBONE, num_classes=3)
    with pytest.raises(ValueError, match="model.num_classes"):
        model(torch.randn(2, 3, 48, 48), torch.tensor([0, 5]), mode="loss")


def test_config_layer_decay_groups_follow_the_rule():
    """Every parameter's lr is base_lr * decay ** (depth + 1 - layer_id) with the backbone's one rule; the head
    trains at the base lr; 1-D tensors, biases and tokens get no weight decay."""
    import eva.cls  # noqa: F401

    cfg = Config.fromfile(CONFIGS / "eva02_tiny_demo_fashion_mnist.py")
    model = EVAClassifier(TINY_BACKBONE, num_classes=10)
    from mmengine.optim import build_optim_wrapper
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert isinstance(wrapper, OPTIM_WRAPPERS.get("SafeOptimWrapper"))
    base, decay, depth = cfg.optim_wrapper.optimizer.lr, cfg.optim_wrapper.paramwise_cfg.layer_decay, 2
    seen = 0
    names = {id(p): n for n, p in model.named_parameters()}
    for group in wrapper.optimizer.param_groups:
        for p in group["params"]:
            name = names[id(p)][len("backbone."):]
            seen += 1
            assert group["lr"] == pytest.approx(base * decay ** (depth + 1 - get_layer_id(name, depth))), name
            no_decay = p.ndim == 1 or name in ("pos_embed", "cls_token")
            assert group["weight_decay"] == (0.0 if no_decay else cfg.optim_wrapper.optimizer.weight_decay), name
    assert seen == sum(1 for _ in model.parameters())
    head = next(g for g in wrapper.optimizer.param_groups if any(p is model.backbone.head.weight for p in g["params"]))
    assert head["lr"] == pytest.approx(base)


def test_released_fine_tuned_classifier_loads_strictly_for_evaluation(tmp_path):
    """`eva cls eval` on a BAAI fine-tuned file: the right class count reproduces its logits; another class count
    is an error, never a silently random head."""
    from eva.cls.checkpoint import load_classifier

    ref = randomize_(create_model(**TINY_BACKBONE, num_classes=4)).eval()
    torch.save({"model": to_baai_layout(ref.state_dict(), split_qkv=False, mlp="w12")}, tmp_path / "ft.pt")
    model = EVAClassifier(TINY_BACKBONE, num_classes=4).eval()
    assert load_classifier(model, str(tmp_path / "ft.pt")) == "released"
    x = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x))
    with pytest.raises(CheckpointError, match="head.weight"):
        load_classifier(EVAClassifier(TINY_BACKBONE, num_classes=7), str(tmp_path / "ft.pt"))
