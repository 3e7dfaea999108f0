"""Window / global attention with decomposed relative positions: parity with detectron2's ViTDet `ViT`."""
from functools import partial

import pytest
import torch

from eva.backbone import EVAViT, convert_state_dict

from .helpers import randomize_

vit = pytest.importorskip("detectron2.modeling.backbone.vit",
                          reason="detectron2 is not installed (README: 'Installing detectron2')")


def _pair(window_blocks, img_size=128, window=4):
    common = dict(patch_size=16, embed_dim=64, depth=4, num_heads=4, mlp_ratio=4.0)
    peer = vit.ViT(img_size=img_size, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), use_rel_pos=True, rel_pos_zero_init=False, window_size=window,
                   window_block_indexes=window_blocks, pretrain_img_size=112, pretrain_use_cls_token=True,
                   **common).eval()
    randomize_(peer, scale=0.05)
    ours = EVAViT(img_size=112, class_token=False, global_pool="", final_norm=False, pos_embed_antialias=False, qkv_bias="qkv", rel_pos=True,
                  rel_pos_grid=img_size // 16, window_size=window,
                  global_blocks=[i for i in range(4) if i not in window_blocks],
                  patch_size=16, embed_dim=64, depth=4, num_heads=4, mlp_hidden_dim=256).eval()
    sd, report = convert_state_dict(peer.state_dict(), ours)
    assert report.ok, report.summary()
    ours.load_state_dict(sd)
    return peer, ours


@pytest.mark.parametrize("hw", [(128, 128), (128, 96), (160, 208)])
def test_window_relpos_matches_detectron2_vit(hw):
    peer, ours = _pair(window_blocks=(0, 2))
    x = torch.randn(2, 3, *hw)
    with torch.no_grad():
        ref = peer(x)["last_feat"]
        mine = ours.forward_intermediates(x, indices=[-1], intermediates_only=True)[0]
    assert mine.shape == ref.shape
    torch.testing.assert_close(mine, ref, atol=1e-4, rtol=0)


def test_sdpa_bias_path_matches_detectron2_math():
    peer, ours = _pair(window_blocks=(1, 3))
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        ref = peer(x)["last_feat"]
        ours.set_attn_impl("math")
        plain = ours.forward_intermediates(x, indices=[-1], intermediates_only=True)[0]
        ours.set_attn_impl("sdpa")
        fused = ours.forward_intermediates(x, indices=[-1], intermediates_only=True)[0]
    torch.testing.assert_close(plain, ref, atol=1e-4, rtol=0)
    torch.testing.assert_close(fused, ref, atol=1e-4, rtol=0)
