"""Layer-level checks against independent references (timm's RoPE builder, brute-force relative bias)."""
import pytest
import torch
from timm.layers import build_rotary_pos_embed

from eva.backbone.layers import (RotaryEmbedding2D, apply_rope, decomposed_rel_pos_bias, resize_rel_pos,
                                 window_partition, window_unpartition)


def test_rope_tables_match_timm_eva02_scheme():
    rope = RotaryEmbedding2D(64, ref_grid=(16, 16))
    for grid in [(16, 16), (32, 24), (7, 9)]:
        cos, sin = rope(grid)
        ref_sin, ref_cos = build_rotary_pos_embed(list(grid), dim=64, in_pixels=False, ref_feat_shape=[16, 16])
        torch.testing.assert_close(cos, ref_cos)
        torch.testing.assert_close(sin, ref_sin)


def test_rope_rotation_preserves_norm_and_relative_phase():
    rope = RotaryEmbedding2D(8, ref_grid=(4, 4))
    cos, sin = rope((4, 4))
    x = torch.randn(2, 16, 8)
    y = apply_rope(x, cos, sin)
    torch.testing.assert_close(y.norm(dim=-1), x.norm(dim=-1))
    # q.k after rotation depends only on the position difference: shift both by one column
    q, k = torch.randn(8), torch.randn(8)
    qr = apply_rope(q.expand(16, 8), cos, sin).reshape(4, 4, 8)
    kr = apply_rope(k.expand(16, 8), cos, sin).reshape(4, 4, 8)
    torch.testing.assert_close((qr[1, 1] * kr[1, 2]).sum(), (qr[1, 2] * kr[1, 3]).sum(), atol=1e-5, rtol=1e-5)


def test_window_partition_roundtrip_with_padding():
    x = torch.randn(2, 7, 10, 3)
    windows, padded = window_partition(x, 4)
    assert windows.shape == (2 * 2 * 3, 16, 3) and padded == (8, 12)
    torch.testing.assert_close(window_unpartition(windows, 4, padded, (7, 10)), x)
    torch.testing.assert_close(windows[0].reshape(4, 4, 3), x[0, :4, :4])


def test_decomposed_rel_pos_matches_brute_force():
    qh, qw, c = 3, 4, 5
    table_h, table_w = torch.randn(2 * qh - 1, c), torch.randn(2 * qw - 1, c)
    q = torch.randn(2, 1, qh * qw, c)
    bias = decomposed_rel_pos_bias(q, table_h, table_w, (qh, qw), (qh, qw))
    ref = torch.zeros_like(bias)
    for i in range(qh * qw):
        for j in range(qh * qw):
            (yi, xi), (yj, xj) = divmod(i, qw), divmod(j, qw)
            rel = table_h[yi - yj + qh - 1] + table_w[xi - xj + qw - 1]
            ref[:, :, i, j] = (q[:, :, i] * rel).sum(-1)
    torch.testing.assert_close(bias, ref)


def test_rel_pos_resize_is_linear_interpolation():
    import numpy as np
    table = torch.randn(7, 3)
    out = resize_rel_pos(table, 13)
    assert out.shape == (13, 3)
    # align_corners=False linear interpolation: sample centres of the new table mapped onto the old one
    centres = (np.arange(13) + 0.5) * 7 / 13 - 0.5
    for c in range(3):
        ref = np.interp(centres, np.arange(7), table[:, c].numpy())
        np.testing.assert_allclose(out[:, c].numpy(), ref, atol=1e-6)


@pytest.mark.parametrize("fused", [True, False], ids=["sdpa", "explicit"])
@pytest.mark.parametrize("hw", [(6, 5), (4, 4)])
def test_rel_pos_attention_equals_timm_sam(fused, hw):
    """Relative-position attention against timm's SAM ViT attention (the same decomposed tables, always installed,
    unlike detectron2): the same q-scaling, bias and softmax."""
    from timm.models.vision_transformer_sam import Attention as SamAttention

    from eva.backbone.layers import Attention

    from .helpers import randomize_

    peer = randomize_(SamAttention(64, num_heads=4, qkv_bias=True, use_rel_pos=True, input_size=hw), 0.5).eval()
    ours = Attention(64, 4, qkv_bias="qkv", rel_pos_grid=hw).eval()
    ours.load_state_dict(peer.state_dict(), strict=True)
    ours.fused_attn = fused
    x = torch.randn(2, *hw, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x.flatten(1, 2), grid=hw), peer(x).flatten(1, 2), atol=1e-5, rtol=1e-4)
