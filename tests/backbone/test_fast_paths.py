"""The exact speed-ups equal the plain math: padded SwiGLU, one-pass RoPE, graph-break-free compilation."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from eva.backbone import create_model
from eva.backbone.layers import RotaryEmbedding2D
from eva.backbone.layers.mlp import SwiGLU

from .helpers import randomize_


def _swiglu_pair(hidden=90, sub_ln=True):
    norm = (lambda d: nn.LayerNorm(d, eps=1e-6)) if sub_ln else None
    plain, padded = SwiGLU(32, hidden, norm, align=1), SwiGLU(32, hidden, norm, align=64)
    randomize_(plain, scale=0.5)
    padded.load_state_dict(plain.state_dict(), strict=True)
    return plain, padded


@pytest.mark.parametrize("sub_ln", [True, False])
def test_padded_swiglu_is_the_same_function_and_gradient(sub_ln):
    plain, padded = _swiglu_pair(sub_ln=sub_ln)
    assert padded.fc1.weight.shape == (256, 32) and padded.fc2.weight.shape == (32, 128)
    x = torch.randn(3, 7, 32, requires_grad=True)
    y0, y1 = plain(x), padded(x)
    torch.testing.assert_close(y1, y0, atol=1e-6, rtol=1e-6)
    g = torch.randn_like(y0)
    gx0, = torch.autograd.grad(y0, x, g)
    y1.backward(g)
    torch.testing.assert_close(x.grad, gx0, atol=2e-5, rtol=1e-4)  # fp32 summation order
    h = 90
    for half in (0, 128):  # every gradient of the padding is exactly zero, so training keeps it zero
        assert not padded.fc1.weight.grad[half + h:half + 128].any()
        assert not padded.fc1.bias.grad[half + h:half + 128].any()
    assert not padded.fc2.weight.grad[:, h:].any()


def test_one_and_two_fc1_gemms_are_the_same_function_and_gradient():
    _, packed = _swiglu_pair()
    halves = SwiGLU(32, 90, lambda d: nn.LayerNorm(d, eps=1e-6))
    halves.load_state_dict(packed.state_dict())
    packed.packed_fc1, halves.packed_fc1 = True, False
    x0, x1 = (torch.randn(3, 7, 32).requires_grad_() for _ in range(2))
    with torch.no_grad():
        x1.copy_(x0)
    y0, y1 = packed(x0), halves(x1)
    torch.testing.assert_close(y1, y0, atol=1e-6, rtol=1e-6)
    g = torch.randn_like(y0)
    y0.backward(g), y1.backward(g)
    torch.testing.assert_close(x1.grad, x0.grad, atol=1e-5, rtol=1e-5)
    for name, p in packed.named_parameters():
        torch.testing.assert_close(halves.get_parameter(name).grad, p.grad, atol=1e-5, rtol=1e-5)


def test_padding_survives_adamw_with_weight_decay_and_checkpoints_use_true_width():
    _, padded = _swiglu_pair()
    opt = torch.optim.AdamW(padded.parameters(), lr=1e-2, weight_decay=0.1)
    for _ in range(3):
        opt.zero_grad()
        padded(torch.randn(4, 32)).square().mean().backward()
        opt.step()
    assert not padded.fc1.weight[90:128].any() and not padded.fc2.weight[:, 90:].any()
    sd = padded.state_dict()
    assert sd["fc1.weight"].shape == (180, 32) and sd["fc2.weight"].shape == (32, 90)
    fresh = SwiGLU(32, 90, lambda d: nn.LayerNorm(d, eps=1e-6))
    fresh.load_state_dict(sd, strict=True)
    x = torch.randn(5, 32)
    torch.testing.assert_close(fresh(x), padded(x))


def test_model_init_leaves_padding_zero():
    model = create_model("eva02_large_patch14_224", depth=1)
    mlp = model.blocks[0].mlp
    assert (mlp.hidden_dim, mlp.padded_dim) == (2730, 2752)
    assert not mlp.fc1.weight[2730:2752].any() and not mlp.fc2.weight[:, 2730:].any()


def test_rope_prefix_rows_are_the_identity():
    rope = RotaryEmbedding2D(16, ref_grid=(4, 4))
    cos, sin = rope((3, 5), num_prefix_tokens=1)
    ref_cos, ref_sin = rope((3, 5))
    assert cos.shape == (16, 16)
    torch.testing.assert_close(cos[1:], ref_cos)
    torch.testing.assert_close(sin[1:], ref_sin)
    assert (cos[0] == 1).all() and (sin[0] == 0).all()


@pytest.mark.parametrize("kind", ["cls", "windowed"])
def test_compiles_without_graph_breaks(kind):
    torch._dynamo.reset()
    if kind == "cls":
        model = create_model("eva02_tiny_patch14_224", depth=2, num_classes=5)
        x = torch.randn(2, 3, 70, 98)
    else:
        model = create_model("eva02_tiny_patch14_224", depth=2, img_size=112, patch_size=16, class_token=False,
                             global_pool="", window_size=4, global_blocks=[1], rope_ref_grid=7)
        x = torch.randn(1, 3, 112, 96)
    randomize_(model)
    model.eval()
    compiled = torch.compile(model, backend="eager", fullgraph=True)  # fullgraph: any break raises
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x))
    model.train()
    model.set_grad_checkpointing(True)
    compiled(x).float().square().mean().backward()
    assert model.blocks[0].attn.qkv.weight.grad is not None


def test_compile_blocks_matches_eager_with_checkpointing_and_windows():
    torch._dynamo.reset()
    model = create_model("eva02_tiny_patch14_224", depth=3, img_size=112, patch_size=16, class_token=False,
                         global_pool="", window_size=4, global_blocks=[1], rope_ref_grid=7, drop_path_rate=0.0)
    randomize_(model)
    x = torch.randn(2, 3, 96, 80)
    ref = model(x)
    ref_grad, = torch.autograd.grad(ref.square().mean(), model.blocks[0].attn.qkv.weight)
    model.compile_blocks(backend="aot_eager")
    model.set_grad_checkpointing(True)
    out = model(x)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    grad, = torch.autograd.grad(out.square().mean(), model.blocks[0].attn.qkv.weight)
    torch.testing.assert_close(grad, ref_grad, atol=1e-6, rtol=1e-4)


def test_gelu_epilogue_is_the_tanh_gelu_within_bf16_and_off_the_gpu_changes_nothing():
    from eva.backbone.layers.mlp import GeluMlp, _addmm_gelu, linear_gelu

    mlp = randomize_(GeluMlp(32, 96), scale=0.5)
    x = torch.randn(3, 7, 32) * 2
    exact = F.gelu(F.linear(x, mlp.fc1.weight, mlp.fc1.bias))
    # the CUDA call's shapes and transposes, run by the CPU kernel (exact GELU there)
    torch.testing.assert_close(_addmm_gelu(x, mlp.fc1.weight, mlp.fc1.bias), exact, atol=1e-5, rtol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # fp32 weights under autocast: a bf16 GEMM, as F.linear
        low = _addmm_gelu(x, mlp.fc1.weight, mlp.fc1.bias)
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), exact, atol=0.1, rtol=0.02)
    tanh = linear_gelu(x, mlp.fc1.weight, mlp.fc1.bias)
    diff = (tanh - exact).abs().max().item()
    assert 1e-6 < diff < 5e-4  # the tanh form, not the exact one, and below bf16's resolution
    model = create_model("eva_giant_patch14_224", depth=2, embed_dim=64, num_heads=4, mlp_hidden_dim=128,
                         img_size=28, num_classes=0)
    assert model.set_gelu_epilogue() is model and all(b.mlp.gelu_epilogue for b in model.blocks)
    mlp.gelu_epilogue = True  # CPU: the plain (exact) path
    with torch.no_grad():
        torch.testing.assert_close(mlp(x), mlp.fc2(exact), atol=0, rtol=0)
        mlp._use_epilogue = lambda inp: True  # the CUDA branch's wiring, run on the CPU (tanh GELU there)
        torch.testing.assert_close(mlp(x), mlp.fc2(tanh), atol=1e-6, rtol=1e-6)


def test_inductor_keeps_the_gelu_epilogue_as_one_gemm():
    from torch._inductor.utils import run_and_get_code

    from eva.backbone.layers.mlp import _addmm_gelu

    x, w, b = torch.randn(8, 32), torch.randn(64, 32), torch.randn(64)
    fn = torch.compile(_addmm_gelu, fullgraph=True)
    out, code = run_and_get_code(fn, x, w, b)
    torch.testing.assert_close(out, _addmm_gelu(x, w, b))
    calls = [line for line in "\n".join(code).splitlines() if not line.lstrip().startswith("#")]
    assert any("aten._addmm_activation.default(" in line and "use_gelu=True" in line for line in calls)
    assert not any("gelu" in line.lower() and "_addmm_activation" not in line for line in calls)  # no GELU kernel
