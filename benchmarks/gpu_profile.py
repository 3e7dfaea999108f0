#!/usr/bin/env python
"""Where the GPU time goes: the kernels behind ``benchmarks/gpu.py``'s EVA-01-g and MIM-teacher rows.

- ``gemm``:    the EVA-01-g GEMM shapes (b64 x 257 tokens) in bf16 and FP8 (per-tensor and row-wise scales, with
               and without fast accumulation), in TFLOP/s;
- ``teacher``: the EVA-CLIP-g teacher at b64, compiled, in bf16 and FP8: time and its top kernels;
- ``giant``:   EVA-01-g/14 inference at b128, compiled with bf16 weights: time and its top kernels;
- ``attn``:    EVA-01-g's attention (b128, 16 heads, 257 tokens, head 88) with each SDPA backend;
- ``giant_variants``:   that inference with fc1 + GELU as one GEMM (``set_gelu_epilogue``) and under other compile
                        settings (flash attention, inductor's coordinate-descent tuning, ``max-autotune-no-cudagraphs``),
                        MFU against the matmul peak measured in the run, error against eager bf16;
- ``teacher_variants``: bf16 and FP8 teachers (tensor-wise static scales; FP8 attention with a bf16 GELU-epilogue
                        MLP; row-wise with fc2 kept in bf16, the default; all linears; coordinate-descent tuning):
                        time, targets' error against fp32, and the MIM step (compiled EVA-02-L student) with the
                        fastest.

    python benchmarks/gpu_profile.py --what gemm teacher giant --out work_dirs/profile.json
    python benchmarks/gpu_profile.py --smoke --what giant_variants teacher_variants   # CPU, tiny: code paths only
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from gpu import Bench, mim_step_fn, rel_err, section_peak  # noqa: E402  (the same timing harness)

FP8 = torch.float8_e4m3fn


def top_kernels(fn, n=12) -> list[dict]:
    """The ``n`` kernels with the most GPU time over 3 calls of ``fn``, with their share of the total."""
    from torch.profiler import ProfilerActivity, profile
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
    events = [e for e in prof.key_averages() if e.device_type.name == "CUDA"]
    total = sum(e.self_device_time_total for e in events) or 1.0
    events.sort(key=lambda e: -e.self_device_time_total)
    rows = [dict(kernel=e.key[:110], share=e.self_device_time_total / total, calls=e.count // 3,
                 ms_per_call=e.self_device_time_total / max(e.count, 1) / 1e3) for e in events[:n]]
    for r in rows:
        print(f"    {100 * r['share']:5.1f}%  x{r['calls']:<4d} {r['ms_per_call']:.3f} ms  {r['kernel']}", flush=True)
    return rows


def part_gemm(b: Bench, out: dict):
    m = 64 * 257
    rows = []
    for k, n in [(1408, 4224), (1408, 1408), (1408, 6144), (6144, 1408)]:
        a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
        w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
        a8, w8 = a.to(FP8), w.to(FP8)
        one = torch.ones((), device="cuda")
        sa, sw = torch.ones(m, 1, device="cuda"), torch.ones(1, n, device="cuda")
        flop = 2 * m * k * n
        cases = {"bf16": lambda: a @ w.t()}
        for fast in (False, True):
            cases[f"fp8 tensor fast_accum={fast}"] = (
                lambda f=fast: torch._scaled_mm(a8, w8.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16,
                                                use_fast_accum=f))
            cases[f"fp8 row fast_accum={fast}"] = (
                lambda f=fast: torch._scaled_mm(a8, w8.t(), scale_a=sa, scale_b=sw, out_dtype=torch.bfloat16,
                                                use_fast_accum=f))
        for label, fn in cases.items():
            try:
                ms = b.time_ms(fn, warmup=5, iters=20)
                rows.append(dict(m=m, k=k, n=n, case=label, ms=ms, tflops=flop / ms / 1e9))
                print(f"[gemm] {m}x{k}x{n} {label}: {ms:.3f} ms {flop / ms / 1e9:.0f} TFLOP/s", flush=True)
            except Exception as e:  # a scaling mode this build lacks
                print(f"[gemm] {m}x{k}x{n} {label}: {type(e).__name__}: {str(e)[:120]}", flush=True)
    out["gemm"] = rows


def part_teacher(b: Bench, out: dict):
    from eva.pretrain.teachers import build_teacher
    images = torch.rand(64, 3, 224, 224, device="cuda")
    res = {}
    from eva.backbone.layers.fp8 import Float8Linear
    for label in ("bf16", "fp8", "fp8 fast_accum"):
        torch.manual_seed(0)
        t = build_teacher(dict(type="eva_clip", variant="eva_giant_patch14_clip_224", embed_dim=1024,
                               allow_random=True)).cuda()
        t.optimize(label.split()[0], compile=dict(dynamic=False))  # compiles lazily, at the first call
        for mod in t.modules():
            if isinstance(mod, Float8Linear):
                mod.fast_accum = label.endswith("fast_accum")

        def run():
            with torch.autocast("cuda", dtype=torch.bfloat16):
                t(images, (16, 16))
        ms = b.time_ms(run)
        print(f"[teacher] {label} compiled b64: {ms:.1f} ms", flush=True)
        res[label] = dict(ms=ms, kernels=top_kernels(run))
        del t
        torch.cuda.empty_cache()
    out["teacher"] = res


def part_giant(b: Bench, out: dict):
    from eva.backbone import create_model
    torch.manual_seed(0)
    with torch.device("cuda"):
        m = create_model("eva_giant_patch14_224", num_classes=1000).eval().to(torch.bfloat16)
    m.compile_blocks(dynamic=False)
    x = torch.randn(128, 3, 224, 224, device="cuda", dtype=torch.bfloat16)

    def run():
        with torch.inference_mode():
            m(x)
    ms = b.time_ms(run)
    print(f"[giant] inference b128 compiled bf16 weights: {ms:.1f} ms", flush=True)
    out["giant"] = dict(ms=ms, kernels=top_kernels(run, n=16))


def part_attn(b: Bench, out: dict):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    q, k, v = (torch.randn(128, 16, 257, 88, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    flop = 4 * 128 * 16 * 257 * 257 * 88
    rows = {}
    for backend in (SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION):
        try:
            with sdpa_kernel([backend]):
                ms = b.time_ms(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v), warmup=3, iters=20)
            rows[backend.name] = dict(ms=ms, tflops=flop / ms / 1e9)
            print(f"[attn] {backend.name}: {ms:.3f} ms {flop / ms / 1e9:.0f} TFLOP/s", flush=True)
        except Exception as e:
            print(f"[attn] {backend.name}: {type(e).__name__}: {str(e)[:120]}", flush=True)
    out["attn"] = rows


def _free(b: Bench):
    if b.cuda:
        torch.cuda.empty_cache()


def _ensure_peak(b: Bench):
    if b.peak_tflops is None:
        section_peak(b, {})


def part_giant_variants(b: Bench, out: dict):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from eva.backbone import create_model
    from gpu import forward_flops
    _ensure_peak(b)
    torch.manual_seed(0)
    n, depth = (2, dict(depth=2)) if b.args.smoke else (128, {})
    with b.device:
        base = create_model("eva_giant_patch14_224", num_classes=1000, **depth).eval()
    x = torch.randn(n, 3, 224, 224, device=b.device)
    flops = forward_flops(base, x[:1]) * n
    base = base.to(torch.bfloat16)
    xb = x.to(torch.bfloat16)
    del x
    cd = dict(options={"coordinate_descent_tuning": True})
    # (label, compile arguments, SDPA backend, fc1 + GELU as one GEMM, seconds needed); most informative first
    variants = [("compiled bf16 weights, coordinate descent, GELU epilogue", cd, None, True, 120),
                ("compiled bf16 weights, coordinate descent", cd, None, False, 120),
                ("compiled bf16 weights, GELU epilogue", {}, None, True, 60),
                ("compiled bf16 weights", {}, None, False, 60),
                ("compiled bf16 weights, flash attention", {}, SDPBackend.FLASH_ATTENTION, False, 60),
                ("compiled bf16 weights, max-autotune-no-cudagraphs", dict(mode="max-autotune-no-cudagraphs"),
                 None, False, 200)][:b.args.giant_variants]
    with torch.inference_mode():
        plain = base(xb).float()  # the full batch, so the compiled variants are checked at the shape they run
    for label, kw, backend, epilogue, need_s in variants:
        if b.left() < need_s:
            print(f"[giant] {label}: skipped, {b.left():.0f} s left", flush=True)
            continue
        torch._dynamo.reset()
        m = copy.deepcopy(base).set_gelu_epilogue(epilogue).compile_blocks(dynamic=False, **kw)

        def run():
            with torch.inference_mode(), (sdpa_kernel([backend]) if backend else contextlib.nullcontext()):
                m(xb)
        t0 = time.time()
        run()
        b.sync()
        compile_s = time.time() - t0
        with torch.inference_mode(), (sdpa_kernel([backend]) if backend else contextlib.nullcontext()):
            err = rel_err(m(xb).float(), plain)  # against eager bf16 with exact GELU
        b.record("giant", f"eva_giant_patch14_224 inference b{n} {label}", ms=(ms := b.time_ms(run)),
                 img_s=n / ms * 1e3, flops=flops, compile_s=compile_s, rel_err_vs_eager_bf16=err)
        out["giant_variants"] = [r for r in b.rows if r["section"] in ("peak", "giant")]
        del m
        _free(b)


def part_teacher_variants(b: Bench, out: dict):
    from eva.pretrain.objective import EVAMIM
    from eva.pretrain.teachers import build_teacher
    n, small = (2, dict(depth=2)) if b.args.smoke else (64, {})
    images = torch.rand(n, 3, 224, 224, device=b.device)
    cfg = dict(type="eva_clip", variant="eva_giant_patch14_clip_224", embed_dim=1024, allow_random=True, **small)
    torch.manual_seed(0)
    ref_teacher = build_teacher(cfg).to(b.device)
    state = ref_teacher.state_dict()
    ref = ref_teacher(images[:8], (16, 16))  # fp32 weights, eager
    del ref_teacher
    cd = dict(options={"coordinate_descent_tuning": True})
    # (label, dtype, layers kept in bf16 under FP8, fc1 + GELU as one GEMM, compile arguments); "fp8" is what
    # Teacher.optimize("fp8") builds (the MLP's fc2 stays bf16); most informative first
    mlp = ("mlp.fc1", "mlp.fc2")
    variants = [("fp8 tensor-wise, all linears", "fp8", (), "tensor", False, {}),
                ("fp8 attention, bf16 MLP with GELU epilogue", "fp8", mlp, "row", True, {}),
                ("bf16, GELU epilogue", "bf16", None, None, True, {}),
                ("fp8", "fp8", ("mlp.fc2",), "row", False, {}), ("bf16", "bf16", None, None, False, {}),
                ("fp8 tensor-wise, fc2 in bf16", "fp8", ("mlp.fc2",), "tensor", False, {}),
                ("fp8, all linears", "fp8", (), "row", False, {}),
                ("fp8, coordinate descent", "fp8", ("mlp.fc2",), "row", False, cd)][:b.args.teacher_variants]
    best = None
    for label, dtype, keep, scaling, epilogue, kw in variants:
        if b.left() < 80:
            print(f"[teacher] {label}: skipped, {b.left():.0f} s left", flush=True)
            continue
        torch._dynamo.reset()
        t = build_teacher(cfg).to(b.device)
        t.load_state_dict(state)
        t.optimize("bf16")
        if dtype == "fp8":
            t._to_float8(keep, scaling)
        t.tower.set_gelu_epilogue(epilogue)
        t._compile(dict(dynamic=False, **kw))

        def run(n=n):
            with torch.autocast(b.device.type, dtype=torch.bfloat16):
                return t(images[:n], (16, 16))
        got = run(8)
        ms = b.time_ms(run)
        cos = torch.nn.functional.cosine_similarity(got, ref, dim=-1)
        b.record("teacher", f"EVA-CLIP-g teacher b{n} {label} compiled", ms=ms, targets_rel_err_vs_fp32=rel_err(got, ref),
                 targets_cos_min=cos.min().item())
        if best is None or ms < best[1]:
            best = (label, ms, t)
        out["teacher_variants"] = [r for r in b.rows if r["section"] in ("teacher", "mim")]
        if best is None or best[2] is not t:
            del t
        _free(b)
    if best is None or b.left() < 60:
        return
    label, teacher_ms, t = best
    torch.manual_seed(0)
    with b.device:
        model = EVAMIM(backbone=dict(name="eva02_large_patch14_224", **small), teacher=t)
    model.student.compile_blocks(dynamic=False)
    grid = model.student.feature_grid((224, 224))
    mask = torch.rand(n, *grid, device=b.device) < 0.4
    ms = b.time_ms(mim_step_fn(model, images, mask, b))
    b.record("mim", f"MIM step EVA-02-L + EVA-CLIP-g b{n}, teacher {label}, compiled student", ms=ms,
             img_s=n / ms * 1e3, teacher_ms=teacher_ms, teacher_share=teacher_ms / ms)
    out["teacher_variants"] = [r for r in b.rows if r["section"] in ("teacher", "mim")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = ["gemm", "teacher", "giant", "attn", "giant_variants", "teacher_variants"]
    ap.add_argument("--what", nargs="+", default=parts[:3], choices=parts)
    ap.add_argument("--out", default="work_dirs/gpu_profile.json")
    ap.add_argument("--teacher-variants", type=int, default=8, help="how many of the teacher variants to run")
    ap.add_argument("--giant-variants", type=int, default=6, help="how many of the EVA-01-g variants to run")
    ap.add_argument("--budget-s", type=float, default=1e9, help="skip variants that would not finish in time")
    ap.add_argument("--smoke", action="store_true",
                    help="giant_variants / teacher_variants on the CPU with 2-block models (the code paths only)")
    args = ap.parse_args(argv)
    if args.smoke and not set(args.what) <= {"giant_variants", "teacher_variants"}:
        sys.exit("--smoke runs giant_variants and teacher_variants only")
    if not torch.cuda.is_available() and not args.smoke:
        sys.exit("gpu_profile.py needs a CUDA GPU (--smoke checks its variant parts on the CPU)")
    b = Bench(argparse.Namespace(smoke=args.smoke, budget_s=args.budget_s, teacher_variants=args.teacher_variants,
                                 giant_variants=args.giant_variants, warmup=1 if args.smoke else 3,
                                 iters=1 if args.smoke else 10, out=args.out))
    out = dict(meta=b.meta)
    for part in args.what:
        try:
            globals()[f"part_{part}"](b, out)
        except Exception:  # one broken part must not lose the others' numbers (a smoke run must fail)
            if args.smoke:
                raise
            import traceback
            traceback.print_exc()
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
