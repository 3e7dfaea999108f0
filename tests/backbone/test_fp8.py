"""FP8 inference linear layers (``eva.backbone.layers.fp8``) against the fp64 product, and the q/v-bias fold."""
import pytest
import torch
from torch import nn

from eva.backbone.layers import Attention
from eva.backbone.layers.fp8 import FP8_MAX, Float8Linear, convert_to_float8_, quantize_rows


def test_row_wise_quantisation_round_trips_within_e4m3_rounding():
    torch.manual_seed(0)
    x = torch.randn(64, 128) * torch.logspace(-3, 3, 64)[:, None]  # rows six decades apart
    q, scale = quantize_rows(x)
    assert q.dtype == torch.float8_e4m3fn and scale.shape == (64, 1)
    assert torch.allclose(q.float().abs().amax(1), torch.full((64,), FP8_MAX))  # every row uses the full range
    err = (q.float() * scale - x).abs() / x.abs().amax(1, keepdim=True)
    assert err.max() < 2 ** -4  # half an e4m3 step at the top of the range


def test_float8_linear_matches_the_fp64_product():
    torch.manual_seed(0)
    lin = nn.Linear(96, 48)
    x = torch.randn(2, 7, 96)
    x[..., 5] *= 30  # an outlier channel, as transformer activations have
    ref = nn.functional.linear(x.double(), lin.weight.double(), lin.bias.double())
    out = Float8Linear(lin)(x)
    assert out.shape == (2, 7, 48) and out.dtype == torch.bfloat16
    rel = ((out.double() - ref).norm() / ref.norm()).item()
    assert 1e-2 < rel < 0.06  # FP8 rounding: above a bf16 product's ~3e-3, far below garbage


@pytest.mark.parametrize("scaling", ["row", "tensor"])
def test_dtype_casts_leave_the_fp8_weight_and_scales_alone(scaling):
    layer = Float8Linear(nn.Linear(32, 16), scaling=scaling).to(torch.float32)
    layer.half().bfloat16()
    assert layer.weight.dtype == torch.float8_e4m3fn and layer.weight_scale.dtype == torch.float32
    assert scaling == "row" or layer.input_scale.dtype == torch.float32
    assert layer(torch.randn(4, 32)).shape == (4, 16)


def test_conversion_skips_layers_fp8_cannot_tile_and_those_kept():
    net = nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Linear(64, 10), nn.Linear(10, 32))
    assert convert_to_float8_(net, keep=lambda name, lin: name == "0") == []
    with pytest.raises(ValueError, match="divisible by 16"):
        Float8Linear(nn.Linear(32, 10))
    assert convert_to_float8_(nn.Sequential(nn.Linear(32, 64))) == ["0"]


def test_folding_qv_biases_keeps_the_function():
    torch.manual_seed(0)
    attn = Attention(64, num_heads=4, qkv_bias="qv")
    nn.init.normal_(attn.q_bias), nn.init.normal_(attn.v_bias)
    x = torch.randn(2, 9, 64)
    ref = attn(x)
    attn.fold_qkv_bias_()
    assert attn.q_bias is None and attn.v_bias is None
    torch.testing.assert_close(attn.qkv.bias[64:128], torch.zeros(64))
    torch.testing.assert_close(attn(x), ref)


def test_conversion_folds_our_attention_and_leaves_a_qkv_read_through_its_weight():
    ours = Attention(64, num_heads=4, qkv_bias="qv")
    nn.init.normal_(ours.q_bias)

    class ReadsWeight(nn.Module):  # timm's EVA/BEiT attention: F.linear(x, self.qkv.weight, cat(q_bias, ...))
        def __init__(self):
            super().__init__()
            self.qkv, self.q_bias, self.proj = nn.Linear(64, 192, bias=False), nn.Parameter(torch.zeros(64)), \
                nn.Linear(64, 64)

    assert convert_to_float8_(nn.ModuleDict(dict(ours=ours, peer=ReadsWeight()))) == ["ours.qkv", "ours.proj", "peer.proj"]
    assert ours.q_bias is None


def test_tensor_scaling_calibrates_on_the_first_batch_then_keeps_its_scale():
    torch.manual_seed(0)
    lin = nn.Linear(96, 48)
    layer = Float8Linear(lin, scaling="tensor")
    assert layer.weight_scale.shape == () and not layer.calibrated
    x = torch.randn(2, 7, 96)

    def rel(inp):
        ref = nn.functional.linear(inp.double(), lin.weight.double(), lin.bias.double())
        return ((layer(inp).double() - ref).norm() / ref.norm()).item()

    assert 1e-2 < rel(x) < 0.06
    scale = layer.input_scale.clone()
    torch.testing.assert_close(scale, x.abs().max() * 2 / FP8_MAX)  # 2x headroom over the first batch
    assert 1e-2 < rel(0.3 * x) < 0.06 and torch.equal(layer.input_scale, scale)  # static from now on
    big = layer(10 * x)  # beyond the calibrated range: saturates, stays finite
    assert torch.isfinite(big).all() and torch.equal(layer.input_scale, scale)
    fresh = Float8Linear(lin, scaling="tensor")
    fresh.load_state_dict(layer.state_dict())
    assert fresh.calibrated and torch.equal(fresh(x), layer(x))


def test_tensor_scaling_compiles_without_graph_breaks():
    torch.manual_seed(0)
    layer = Float8Linear(nn.Linear(32, 64), scaling="tensor")
    eager = Float8Linear(nn.Linear(32, 64), scaling="tensor")
    eager.load_state_dict(layer.state_dict())
    compiled = torch.compile(layer, fullgraph=True)
    x = torch.randn(5, 32)
    for inp in (x, 0.5 * x):  # calibrating call, then the static one
        torch.testing.assert_close(compiled(inp).float(), eager(inp).float(), atol=1e-2, rtol=1e-2)
    torch.testing.assert_close(layer.input_scale, eager.input_scale)
