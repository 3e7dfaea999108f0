"""Numerical parity with timm's Eva, the reference implementation: timm -> ours -> timm."""
import pytest
import timm
import torch

from eva.backbone import NOT_IN_TIMM_NAMES, convert_state_dict, create_model, export_timm, list_models

from .helpers import randomize_

TIMM_VARIANTS = [n for n in list_models() if n not in NOT_IN_TIMM_NAMES]
TOL = 1e-4


def _pair(name, depth, **kw):
    peer = timm.create_model(name, pretrained=False, depth=depth, dynamic_img_size=True, **kw).eval()
    randomize_(peer)
    ours = create_model(name, depth=depth, **kw).eval()
    sd, report = convert_state_dict(peer.state_dict(), ours)
    assert report.ok, report.summary()
    ours.load_state_dict(sd, strict=True)
    return peer, ours


def _assert_same(peer, ours, x, indices):
    with torch.no_grad():
        torch.testing.assert_close(ours(x), peer(x), atol=TOL, rtol=0)
        mine = ours.forward_intermediates(x, indices=indices, intermediates_only=True)
        ref = peer.forward_intermediates(x, indices=indices, intermediates_only=True)
        assert len(mine) == len(ref) == len(indices)
        for a, b in zip(mine, ref):
            assert a.shape == b.shape and a.ndim == 4  # NCHW maps
            torch.testing.assert_close(a, b, atol=TOL, rtol=0)
        torch.testing.assert_close(ours.forward_features(x), peer.forward_features(x), atol=TOL, rtol=0)


@pytest.mark.parametrize("name", TIMM_VARIANTS)
def test_depth_reduced_parity_and_export(name):
    peer, ours = _pair(name, depth=2, num_classes=7)
    p = ours.patch_size
    other = torch.randn(1, 3, 10 * p, 13 * p)  # non-default, non-square
    if ours.img_size[0] <= 224:  # the 336/448/560 names differ only in the stored grid, resampled here
        _assert_same(peer, ours, torch.randn(1, 3, *ours.img_size), [0, 1])
    _assert_same(peer, ours, other, [0, 1])

    exported, _ = export_timm(ours.state_dict(), ours)
    back = timm.create_model(name, pretrained=False, depth=2, num_classes=7, dynamic_img_size=True).eval()
    back.load_state_dict(exported, strict=True)
    with torch.no_grad():
        torch.testing.assert_close(back(other), peer(other), atol=TOL, rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["eva02_small_patch14_224", "eva02_base_patch14_224"])
def test_full_depth_parity(name):
    peer, ours = _pair(name, depth=12, num_classes=0)
    _assert_same(peer, ours, torch.randn(2, 3, 224, 224), [3, 7, 11])
    _assert_same(peer, ours, torch.randn(1, 3, 308, 196), [11])


def test_full_depth_tiny_parity():
    peer, ours = _pair("eva02_tiny_patch14_224", depth=12, num_classes=0)
    _assert_same(peer, ours, torch.randn(2, 3, 224, 224), [2, 5, 8, 11])
