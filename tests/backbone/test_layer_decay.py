"""The one layer-id rule, checked against timm's own layer-decay grouping (the peer)."""
import pytest
import timm
from timm.optim import param_groups_layer_decay as timm_groups

from eva.backbone import create_model, get_layer_id, param_groups_layer_decay


def test_layer_id_rule():
    assert [get_layer_id(n, 12) for n in ("cls_token", "pos_embed", "patch_embed.proj.weight", "mask_token",
                                          "blocks.0.norm1.weight", "blocks.11.mlp.fc2.bias", "norm.weight",
                                          "fc_norm.bias", "head.weight")] == [0, 0, 0, 0, 1, 12, 13, 13, 13]


@pytest.mark.parametrize("decay", [0.65, 0.9])
def test_lr_scales_and_weight_decay_match_timm(decay):
    ours = create_model("eva02_tiny_patch14_224", num_classes=10)
    peer = timm.create_model("eva02_tiny_patch14_224", pretrained=False, num_classes=10)
    mine = {}
    for g in param_groups_layer_decay(ours, weight_decay=0.05, layer_decay=decay):
        for p in g["params"]:
            mine[id(p)] = (g["lr_scale"], g["weight_decay"])
    names = {id(p): n for n, p in ours.named_parameters()}
    by_name = {names[i]: v for i, v in mine.items()}
    assert len(by_name) == len(list(ours.parameters()))
    ref = {}
    for g in timm_groups(peer, weight_decay=0.05, layer_decay=decay, no_weight_decay_list=("pos_embed", "cls_token")):
        pnames = {id(p): n for n, p in peer.named_parameters()}
        for p in g["params"]:
            ref[pnames[id(p)]] = (g["lr_scale"], g["weight_decay"])
    for name, (scale, wd) in by_name.items():
        assert ref[name][1] == wd, name
        assert ref[name][0] == pytest.approx(scale), name


def test_prefix_and_frozen_parameters():
    import torch.nn as nn

    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = create_model("eva02_tiny_patch14_224", depth=3)
            self.decoder = nn.Linear(4, 4)

    w = Wrapper()
    w.backbone.freeze(patch_embed=True)
    groups = param_groups_layer_decay(w, layer_decay=0.5, depth=3, prefix="backbone.")
    layer_of = {id(p): g["layer_id"] for g in groups for p in g["params"]}
    assert layer_of[id(w.decoder.weight)] == 4 and layer_of[id(w.backbone.blocks[2].mlp.fc2.weight)] == 3
    assert id(w.backbone.patch_embed.proj.weight) not in layer_of


def test_mmengine_constructor_uses_the_same_rule():
    pytest.importorskip("mmengine", reason="mmengine is not installed")
    import torch.nn as nn
    from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

    import eva.backbone.mm  # noqa: F401  (registration)

    class Segmentor(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = create_model("eva02_tiny_patch14_224", depth=4)
            self.decode_head = nn.Conv2d(192, 5, 1)

    model = Segmentor()
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type="LayerDecayOptimWrapperConstructor",
        optim_wrapper_cfg=dict(type="SafeOptimWrapper", optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.05)),
        paramwise_cfg=dict(layer_decay=0.5, backbone_prefix="backbone.")))
    wrapper = constructor(model)
    lr_of = {id(p): (g["lr"], g["weight_decay"]) for g in wrapper.optimizer.param_groups for p in g["params"]}
    assert lr_of[id(model.decode_head.weight)] == (pytest.approx(1e-3), 0.05)
    assert lr_of[id(model.backbone.blocks[3].mlp.fc2.weight)] == (pytest.approx(1e-3 * 0.5), 0.05)
    assert lr_of[id(model.backbone.pos_embed)] == (pytest.approx(1e-3 * 0.5 ** 5), 0.0)
    assert lr_of[id(model.backbone.blocks[0].norm1.bias)] == (pytest.approx(1e-3 * 0.5 ** 4), 0.0)
    assert type(wrapper).__name__ == "SafeOptimWrapper"


def test_wrapped_and_flattened_parameters_get_the_same_groups():
    """FSDP (use_orig_params) renames parameters with ``_fsdp_wrapped_module.`` and shows them flattened to 1-D;
    with the original ndims the rule must give every parameter the group it has unwrapped."""
    from torch import nn

    model = create_model("eva02_tiny_patch14_224", depth=2)
    plain = {n: (g["layer_id"], g["weight_decay"]) for g in param_groups_layer_decay(model, layer_decay=0.8)
             for n, p in model.named_parameters() for q in g["params"] if q is p}

    class Flattened(nn.Module):  # what FSDP shows: inserted name segments, 1-D parameters
        def __init__(self):
            super().__init__()
            self.ndims = {}
            for name, p in model.named_parameters():
                flat = nn.Parameter(p.detach().reshape(-1).clone())
                self.ndims[id(flat)] = p.ndim
                parts = name.split(".")
                if parts[0] == "blocks":
                    parts.insert(2, "_fsdp_wrapped_module")
                setattr_path(self, ["_fsdp_wrapped_module", *parts], flat)

    def setattr_path(root, parts, value):
        for part in parts[:-1]:
            if not hasattr(root, part):
                root.add_module(part, nn.Module())
            root = getattr(root, part)
        root.register_parameter(parts[-1], value)

    wrapped = Flattened()
    groups = param_groups_layer_decay(wrapped, layer_decay=0.8, depth=2, ndim_of=lambda p: wrapped.ndims[id(p)])
    got = {n.replace("_fsdp_wrapped_module.", ""): (g["layer_id"], g["weight_decay"])
           for g in groups for n, p in wrapped.named_parameters() for q in g["params"] if q is p}
    assert got == plain
    assert all(p.ndim == 1 for p in wrapped.parameters())
