import pytest
import torch

from eva.backbone import create_model, load_checkpoint
from eva.pretrain import EVAMIM, build_teacher, negative_cosine
from eva.pretrain.teachers import PixelTeacher

BACKBONE = dict(name="eva02_tiny_patch14_224", img_size=64, patch_size=8, depth=2, rope_ref_grid=8)


def _model(**kw):
    return EVAMIM(backbone=BACKBONE, teacher=PixelTeacher(patch_size=8), **kw)


def _batch(b=2):
    mask = torch.zeros(b, 8, 8, dtype=torch.bool)
    mask[:, 2:6, 1:5] = True
    return torch.rand(b, 3, 64, 64), mask


def test_loss_is_minus_one_when_student_equals_teacher(monkeypatch):
    model = _model()
    images, mask = _batch()
    target = model.teacher(images, (8, 8))[mask.flatten(1)]
    monkeypatch.setattr(model, "predict_masked", lambda *a: 3.0 * target)  # same direction, other scale
    assert model.loss(images, mask)["loss"].item() == pytest.approx(-1.0, abs=1e-6)
    assert negative_cosine(target, -target).item() == pytest.approx(1.0, abs=1e-6)


def test_teacher_is_frozen_hidden_and_gets_no_gradient():
    model = EVAMIM(backbone=BACKBONE, teacher=dict(type="efficientnet_lite0", block=10, input_size=128))
    images, mask = _batch()
    model.train()
    model.loss(images, mask)["loss"].backward()
    teacher = model.teacher
    assert not teacher.training and all(not p.requires_grad and p.grad is None for p in teacher.parameters())
    own = {id(p) for p in model.parameters()}
    assert not any(id(p) in own for p in teacher.parameters())  # not in the optimizer, not DDP-wrapped
    assert not any(k.startswith(("_teacher", "teacher")) for k in model.state_dict())
    assert all(p.grad is not None for p in model.parameters())


def test_stop_grad_conv1_scales_patch_embedding_gradient():
    grads = {}
    for flag in (False, True):
        torch.manual_seed(0)
        model = _model(stop_grad_conv1=flag)
        images, mask = _batch()
        model.loss(images, mask)["loss"].backward()
        grads[flag] = (model.student.patch_embed.proj.weight.grad.clone(),
                       model.student.blocks[0].attn.qkv.weight.grad.clone())
    torch.testing.assert_close(grads[True][0], 0.1 * grads[False][0])
    torch.testing.assert_close(grads[True][1], grads[False][1])


def test_backbone_export_loads_strictly_into_eva_backbone():
    model = _model()
    backbone = create_model(**{"name": BACKBONE["name"], **{k: v for k, v in BACKBONE.items() if k != "name"}})
    report = load_checkpoint(backbone, model.backbone_state_dict(), strict=True)
    assert report.ok and ("norm.weight", "fc_norm.weight") in report.renamed
    torch.testing.assert_close(backbone.blocks[1].attn.qkv.weight, model.student.blocks[1].attn.qkv.weight)
    assert set(model.mim_head_state_dict()) == {"mask_token", "lm_head.weight", "lm_head.bias"}


def test_unknown_teacher_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown teacher 'clip2'"):
        build_teacher(dict(type="clip2"))


def test_activation_checkpointing_switch_is_exact():
    out = {}
    for flag in (False, True):
        torch.manual_seed(0)
        model = _model(grad_checkpointing=flag).train()
        images, mask = _batch()
        loss = model.loss(images, mask)["loss"]
        loss.backward()
        out[flag] = (loss.detach(), model.student.blocks[0].mlp.fc1.weight.grad.clone())
    assert model.student.grad_checkpointing
    torch.testing.assert_close(out[True][0], out[False][0])
    torch.testing.assert_close(out[True][1], out[False][1])


def test_masked_pixels_do_not_reach_the_student():
    """BEiT-style masking: masked patches are replaced before any block sees them."""
    model = _model().eval()
    images, mask = _batch(1)
    other = images.clone()
    up = mask[0].repeat_interleave(8, 0).repeat_interleave(8, 1)  # patch mask -> pixel mask
    other[0, :, up] = torch.rand_like(other[0, :, up])
    with torch.no_grad():
        a, b = model.predict_masked(images, mask), model.predict_masked(other, mask)
        c = model.predict_masked(images[:, :, :, torch.arange(63, -1, -1)], mask)  # visible context changes
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    assert a.shape == (int(mask.sum()), model.teacher.out_dim)
    with pytest.raises(ValueError, match="mask grid .* does not match the student's"):
        model.loss(images, torch.zeros(1, 4, 4, dtype=torch.bool))
