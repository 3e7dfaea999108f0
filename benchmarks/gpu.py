#!/usr/bin/env python
"""One command per GPU: our EVA against timm and detectron2 on the same card, in the same run.

Checks equality first, then times (median of CUDA-event-timed iterations after warm-up) and prints a table:
img/s, achieved TFLOP/s, MFU against a bf16 matmul peak measured in the same run, peak memory, and the ratio
against the peer. Sections (each skipped when the time budget is spent, results written after each):

- ``peak``:  bf16 8192^3 matmul rate and device-to-device copy bandwidth (the ceilings);
- ``cls``:   EVA-02-L/14 224 inference (batch 128) and training step (batch 64): timm eager and compiled vs
             ours eager, compiled (``compile_blocks``) and bf16 weights;
- ``det``:   detection backbones, forward + backward at batch 2: EVA-02-L 1024 (window 16, 4 global blocks) and
             EVA-01-g 1280 vs detectron2's ``ViT`` of the same shape (peak memory too);
- ``mim``:   EVA-02-L student + EVA-CLIP-g teacher MIM step: teacher share of the step with the bf16 and the
             FP8 compiled teacher, and how far each teacher's targets are from fp32's;
- ``giant``: EVA-01-g/14 224 inference and training MFU (autocast, bf16 weights, fc1 + GELU as one GEMM, two
             training batch sizes);
- ``plan``:  ``eva plan`` predictions against measured peak memory of real training steps.

    python benchmarks/gpu.py --out benchmarks/results/gpu_h200.json          # on the GPU machine
    python benchmarks/gpu.py --smoke                                         # CPU: tiny shapes, code paths only
"""
from __future__ import annotations

import argparse
import copy
import datetime
import json
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

import torch
import torch.nn.functional as F

SECTIONS = ("peak", "cls", "det", "mim", "giant", "plan")


# ----------------------------------------------------------------------------------------------- harness
class Bench:
    def __init__(self, args):
        self.args = args
        self.cuda = torch.cuda.is_available() and not args.smoke
        self.device = torch.device("cuda" if self.cuda else "cpu")
        self.start = time.time()
        self.rows = []
        self.peak_tflops = None
        self.meta = self._meta()

    def _meta(self):
        import timm
        return dict(date=datetime.date.today().isoformat(), smoke=self.args.smoke,
                    gpu=torch.cuda.get_device_name() if self.cuda else None, torch=torch.__version__,
                    timm=timm.__version__, python=platform.python_version(), cuda=torch.version.cuda)

    def left(self) -> float:
        return self.args.budget_s - (time.time() - self.start)

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def time_ms(self, fn, warmup=None, iters=None) -> float:
        """Median milliseconds per call after ``warmup`` calls (CUDA events on GPU)."""
        warmup = self.args.warmup if warmup is None else warmup
        iters = self.args.iters if iters is None else iters
        for _ in range(warmup):
            fn()
        self.sync()
        times = []
        for _ in range(iters):
            if self.cuda:
                a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                a.record()
                fn()
                b.record()
                b.synchronize()
                times.append(a.elapsed_time(b))
            else:
                t = time.perf_counter()
                fn()
                times.append(1e3 * (time.perf_counter() - t))
        return statistics.median(times)

    def peak_mem(self, fn) -> float | None:
        """Peak GiB allocated during one call (GPU only)."""
        if not self.cuda:
            return None
        self.sync()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        self.sync()
        return (torch.cuda.max_memory_allocated() - base) / 2 ** 30

    def record(self, section, name, **kw):
        row = dict(section=section, name=name, **kw)
        if "ms" in kw and "flops" in kw and kw["flops"]:
            row["tflops"] = kw["flops"] / (kw["ms"] * 1e-3) / 1e12
            if self.peak_tflops:
                row["mfu"] = row["tflops"] / self.peak_tflops
        self.rows.append(row)
        shown = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items() if k not in ("section",)}
        print(f"[{section}] " + "  ".join(f"{k}={v}" for k, v in shown.items()), flush=True)
        return row

    def write(self):
        out = Path(self.args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(dict(meta=self.meta, peak_tflops=self.peak_tflops, results=self.rows), indent=2))


def autocast(b: Bench):
    return torch.autocast(b.device.type, dtype=torch.bfloat16, enabled=b.cuda)


def compile_kw(b: Bench) -> dict:
    # static shapes: each benchmarked shape gets its own specialised kernels, as a fixed-size training job does
    return dict(dynamic=False) if b.cuda else dict(backend="aot_eager")


def rel_err(a: torch.Tensor, ref: torch.Tensor) -> float:
    a, ref = a.double(), ref.double()
    return ((a - ref).norm() / ref.norm()).item()


def forward_flops(model, x) -> float:
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return float(counter.get_total_flops())


def train_step_fn(model, x, b: Bench, head_loss=True):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5,
                            fused=b.cuda)
    labels = torch.randint(0, 1000, (x.shape[0],), device=x.device)

    def step():
        with autocast(b):
            out = model(x)
            out = out["last_feat"] if isinstance(out, dict) else out
            loss = F.cross_entropy(out.float(), labels) if head_loss else out.float().square().mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def mim_step_fn(model, images, mask, b: Bench):
    """One MIM training step (teacher targets, student loss, backward, fused AdamW) of ``EVAMIM`` ``model``."""
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5, fused=b.cuda)

    def step():
        with autocast(b):
            loss = model.loss(images, mask)["loss"]
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def infer_fn(model, x, b: Bench):
    def run():
        with torch.inference_mode(), autocast(b):
            model(x)
    return run


# ----------------------------------------------------------------------------------------------- sizes
def sizes(smoke: bool) -> dict:
    if smoke:
        return dict(cls_img=56, cls_bs=2, train_bs=2, depth=2, det_l=(128, 2, 4), det_g=(128, 1, 4),
                    mim_bs=2, giant_depth=1, giant_bs=1, plan=[("eva02_tiny_patch14_224", "cls", 112, 4)])
    return dict(cls_img=224, cls_bs=128, train_bs=64, depth=None, det_l=(1024, 2, 16), det_g=(1280, 1, 16),
                mim_bs=64, giant_depth=None, giant_bs=32,
                plan=[("eva02_base_patch14_224", "cls", 224, 64), ("eva02_large_patch14_224", "cls", 224, 32),
                      ("eva02_large_patch14_224", "det", 1024, 2)])


def _depth(kw, d):
    return dict(kw, depth=d) if d else kw


# ----------------------------------------------------------------------------------------------- sections
def section_peak(b: Bench, s):
    n = 8192 if b.cuda else 512
    x, y = (torch.randn(n, n, device=b.device, dtype=torch.bfloat16) for _ in range(2))
    ms = b.time_ms(lambda: x @ y, warmup=3, iters=10)
    b.peak_tflops = 2 * n ** 3 / (ms * 1e-3) / 1e12
    b.record("peak", f"bf16 matmul {n}^3", ms=ms, tflops_measured=b.peak_tflops)
    if b.cuda:
        src = torch.randn(2 ** 28, device=b.device)  # 1 GiB
        dst = torch.empty_like(src)
        ms = b.time_ms(lambda: dst.copy_(src), warmup=2, iters=10)
        b.record("peak", "d2d copy 1 GiB", ms=ms, tb_s=2 * src.numel() * 4 / (ms * 1e-3) / 1e12)


def _timm_and_ours(name, b: Bench, depth=None, **kw):
    import timm

    from eva.backbone import convert_state_dict, create_model
    torch.manual_seed(0)
    with b.device:
        peer = timm.create_model(name, pretrained=False, **_depth(kw, depth))
        ours = create_model(name, **_depth(kw, depth))
    sd, report = convert_state_dict(peer.state_dict(), ours)
    assert report.ok, report.summary()
    ours.load_state_dict(sd)
    return peer, ours


def _compile_timm_blocks(peer, b):
    for blk in peer.blocks:
        blk.compile(**compile_kw(b))


def section_cls(b: Bench, s):
    name = "eva02_large_patch14_224"
    img = s["cls_img"]
    peer, ours = _timm_and_ours(name, b, s["depth"], num_classes=1000, img_size=img)
    peer.eval(), ours.eval()
    x8 = torch.randn(8 if b.cuda else 2, 3, img, img, device=b.device)
    t0 = time.time()
    compiled = copy.deepcopy(ours).compile_blocks(**compile_kw(b))
    fast = copy.deepcopy(ours).to(torch.bfloat16).compile_blocks(**compile_kw(b))  # bf16 weights, no autocast
    with torch.no_grad():  # equality before any training step changes the weights
        ref = copy.deepcopy(peer).double()(x8.double())  # the fp64 reference
        b.record("cls", "equality fp32: ours vs fp64", rel_err=rel_err(ours(x8), ref),
                 timm_rel_err=rel_err(peer(x8), ref))
        with autocast(b):
            b.record("cls", "equality bf16 autocast: ours vs fp64", rel_err=rel_err(ours(x8), ref),
                     timm_rel_err=rel_err(peer(x8), ref))
            b.record("cls", "equality bf16 autocast: ours compiled vs fp64", rel_err=rel_err(compiled(x8), ref))
        b.record("cls", "equality bf16 weights: ours compiled vs fp64",
                 rel_err=rel_err(fast(x8.to(torch.bfloat16)).float(), ref), compile_s=time.time() - t0)
    del ref
    x = torch.randn(s["cls_bs"], 3, img, img, device=b.device)
    flops = forward_flops(ours, x[:1]) * x.shape[0]
    res = {}

    def inf(label, fn):
        ms = b.time_ms(fn)
        res[label] = b.record("cls", f"{name} inference b{x.shape[0]} {label}", ms=ms,
                              img_s=x.shape[0] / ms * 1e3, flops=flops)

    inf("timm eager", infer_fn(peer, x, b))
    inf("ours eager", infer_fn(ours, x, b))
    inf("ours compiled", infer_fn(compiled, x, b))
    inf("ours compiled bf16 weights", lambda: _no_grad(fast, x.to(torch.bfloat16)))
    del fast
    xt = x[:s["train_bs"]]
    tflops = 3 * flops / x.shape[0] * xt.shape[0]

    def train(label, model):
        model.train()
        step = train_step_fn(model, xt, b)
        mem = b.peak_mem(step)
        ms = b.time_ms(step)
        res[label + " train"] = b.record("cls", f"{name} train step b{xt.shape[0]} {label}", ms=ms,
                                         img_s=xt.shape[0] / ms * 1e3, flops=tflops, peak_gib=mem)
        model.eval()

    train("timm eager", peer)
    train("ours eager", ours)
    train("ours compiled", compiled)
    if b.left() > 120:
        _compile_timm_blocks(peer, b)
        inf("timm compiled", infer_fn(peer, x, b))
        train("timm compiled", peer)
    base_inf, base_train = res["timm eager"]["img_s"], res["timm eager train"]["img_s"]
    for label, r in res.items():
        r["ratio_vs_timm_eager"] = r["img_s"] / (base_train if label.endswith("train") else base_inf)
    del peer, ours, compiled
    _free(b)


def _no_grad(model, x):
    with torch.inference_mode():
        model(x)


def _free(b):
    import gc
    gc.collect()
    if b.cuda:
        torch.cuda.empty_cache()


def _d2_vit(embed_dim, depth, heads, mlp_ratio, img, window, global_blocks, device):
    from detectron2.modeling.backbone.vit import ViT
    with device:
        return ViT(img_size=img, patch_size=16, embed_dim=embed_dim, depth=depth, num_heads=heads,
                   mlp_ratio=mlp_ratio, qkv_bias=True, drop_path_rate=0.0, window_size=window,
                   window_block_indexes=[i for i in range(depth) if i not in global_blocks], use_rel_pos=True,
                   pretrain_img_size=224, pretrain_use_cls_token=True)


def section_det(b: Bench, s):
    from eva.backbone.model import EVAViT
    from eva.backbone.plan import task_model_args
    try:
        import detectron2  # noqa: F401
        have_d2 = True
    except ImportError as e:
        print(f"[det] detectron2 missing ({e}): timing ours only")
        have_d2 = False
    cases = [
        ("EVA-02-L det", "eva02_large_patch14_224", s["det_l"], None, {}),
        ("EVA-01-g det", "eva_giant_patch14_224", s["det_g"], [3, 7, 11, 15, 19, 23, 27, 31, 35, 39], {}),
    ]
    for label, variant, (img, bs, window), globals_, extra in cases:
        if b.left() < 90:
            break
        args, hw = task_model_args(variant, "det", img)
        args.update(window_size=window, drop_path_rate=0.0, **extra)
        if globals_:
            args["global_blocks"] = tuple(globals_)
        if s["depth"]:
            args.update(depth=s["depth"] + (2 if globals_ else 0), global_blocks=(1,))
        x = torch.randn(bs, 3, img, img, device=b.device)
        res = {}
        variants = [("ours", {})]
        if not args.get("rel_pos"):
            variants.append(("ours +rel-pos", dict(rel_pos=True, rel_pos_grid=img // 16)))
        for tag, over in variants:
            with b.device:
                torch.manual_seed(0)
                model = EVAViT(**dict(args, **over))
            step = train_step_fn(model, x, b, head_loss=False)
            mem = b.peak_mem(step)
            res[tag] = b.record("det", f"{label} {img} fwd+bwd b{bs} {tag} eager", ms=b.time_ms(step), peak_gib=mem)
            if tag == "ours" and b.left() > 100:
                model.compile_blocks(**compile_kw(b))
                step = train_step_fn(model, x, b, head_loss=False)
                mem = b.peak_mem(step)
                res["ours compiled"] = b.record("det", f"{label} {img} fwd+bwd b{bs} ours compiled",
                                                ms=b.time_ms(step), peak_gib=mem)
            del model, step
            _free(b)
        if have_d2:
            d, g = args["embed_dim"], list(args["global_blocks"])
            hidden = args["mlp_hidden_dim"]
            # detectron2's ViT has a GELU MLP (2 matrices); a SwiGLU MLP has 3 of the same hidden width, so the
            # peer gets the GELU width with equal FLOPs: 3 * hidden / 2 (EVA-02-L: 2730 -> 4095, ratio ~4.0)
            ratio = hidden / d if args.get("mlp_type") != "swiglu" else 3 * hidden / (2 * d)
            peer = _d2_vit(d, args["depth"], args["num_heads"], ratio, img, window, g, b.device)
            step = train_step_fn(peer, x, b, head_loss=False)
            mem = b.peak_mem(step)
            ref = b.record("det", f"{label} {img} fwd+bwd b{bs} detectron2 ViT eager", ms=b.time_ms(step),
                           peak_gib=mem)
            for r in res.values():
                r["speed_vs_detectron2"] = ref["ms"] / r["ms"]
                if r.get("peak_gib") and ref.get("peak_gib"):
                    r["memory_vs_detectron2"] = r["peak_gib"] / ref["peak_gib"]
            del peer, step
            _free(b)


def section_mim(b: Bench, s):
    """The teacher in bf16 and in FP8, both compiled, with a compiled student; each teacher's targets are compared
    with those of the same weights in fp32."""
    from eva.pretrain.objective import EVAMIM
    for dtype in ("bf16", "fp8"):
        if b.left() < 90:
            break
        teacher = dict(type="eva_clip", variant="eva_giant_patch14_clip_224", embed_dim=1024, allow_random=True)
        if s["giant_depth"]:
            teacher["depth"] = s["giant_depth"]
        backbone = _depth(dict(name="eva02_large_patch14_224"), s["depth"])
        with b.device:
            torch.manual_seed(0)
            model = EVAMIM(backbone=backbone, teacher=teacher)
        model.to(b.device)
        bs, img = s["mim_bs"], s["cls_img"]
        images = torch.rand(bs, 3, img, img, device=b.device)
        grid = model.student.feature_grid((img, img))
        ref = model.teacher(images[:8], grid)  # fp32 weights, eager
        model.teacher.optimize(dtype, compile=compile_kw(b))
        model.student.compile_blocks(**compile_kw(b))
        with autocast(b):
            got = model.teacher(images[:8], grid)
        cos = F.cosine_similarity(got, ref, dim=-1)
        mask = torch.rand(bs, *grid, device=b.device) < 0.4
        step = mim_step_fn(model, images, mask, b)

        def teacher_only():
            with autocast(b):
                model.teacher(images, grid)

        step_ms = b.time_ms(step)
        teacher_ms = b.time_ms(teacher_only)
        b.record("mim", f"MIM step EVA-02-L + EVA-CLIP-g b{bs} {dtype} compiled teacher, compiled student",
                 ms=step_ms, img_s=bs / step_ms * 1e3, teacher_ms=teacher_ms, teacher_share=teacher_ms / step_ms,
                 targets_rel_err_vs_fp32=rel_err(got, ref), targets_cos_mean=cos.mean().item(),
                 targets_cos_min=cos.min().item())
        del model, step
        _free(b)


def section_giant(b: Bench, s):
    """EVA-01-g MFU: eager, compiled (autocast), compiled bf16 weights (inference), and the training step at two
    batch sizes (the fused AdamW pass over 1B parameters is a fixed cost per step)."""
    import timm

    from eva.backbone import create_model
    name = "eva_giant_patch14_224"
    img = s["cls_img"]
    kw = _depth(dict(num_classes=1000, img_size=img), s["giant_depth"])
    with b.device:
        torch.manual_seed(0)
        ours = create_model(name, **kw)
    x = torch.randn(s["cls_bs"], 3, img, img, device=b.device)
    flops = forward_flops(ours, x[:1])

    def inf(label, model, inp, fn=None):
        ms = b.time_ms(fn or infer_fn(model, inp, b))
        b.record("giant", f"{name} inference b{inp.shape[0]} {label}", ms=ms, img_s=inp.shape[0] / ms * 1e3,
                 flops=flops * inp.shape[0])

    def train(label, model, bs):
        xt = x[:bs]
        model.train()
        step = train_step_fn(model, xt, b)
        mem = b.peak_mem(step)
        ms = b.time_ms(step)
        b.record("giant", f"{name} train step b{bs} {label}", ms=ms, img_s=bs / ms * 1e3, flops=3 * flops * bs,
                 peak_gib=mem)
        model.eval()

    ours.eval()
    inf("ours eager", ours, x)
    train("ours eager", ours, s["giant_bs"])
    if b.left() > 90:
        fast = copy.deepcopy(ours).to(torch.bfloat16).compile_blocks(**compile_kw(b))  # bf16 weights, no autocast
        xb = x.to(torch.bfloat16)
        inf("ours compiled bf16 weights", fast, xb, lambda: _no_grad(fast, xb))
        if b.cuda and b.left() > 90:
            xb2 = torch.cat([xb, xb])
            inf("ours compiled bf16 weights", fast, xb2, lambda: _no_grad(fast, xb2))
            del xb2
        if b.left() > 90:  # fc1 + GELU as one GEMM (tanh GELU): its error against the exact-GELU model, then time
            fused = copy.deepcopy(ours).to(torch.bfloat16).set_gelu_epilogue().compile_blocks(**compile_kw(b))
            with torch.no_grad():  # the timed batch: no recompilation for another shape
                b.record("giant", "equality bf16 weights: GELU epilogue vs exact GELU, both compiled",
                         rel_err=rel_err(fused(xb).float(), fast(xb).float()))
            inf("ours compiled bf16 weights, GELU epilogue", fused, xb, lambda: _no_grad(fused, xb))
            del fused
        del fast, xb
        _free(b)
    if b.left() > 90:
        ours.compile_blocks(**compile_kw(b))
        inf("ours compiled", ours, x)
        train("ours compiled", ours, s["giant_bs"])
        if b.left() > 60:
            train("ours compiled", ours, 2 * s["giant_bs"])
    del ours
    _free(b)
    if b.left() > 60:
        with b.device:
            peer = timm.create_model(name, pretrained=False, **kw)
        peer.eval()
        inf("timm eager", peer, x)
        del peer
        _free(b)


def section_plan(b: Bench, s):
    from eva.backbone.model import EVAViT
    from eva.backbone.plan import plan_memory, task_model_args
    for name, task, img, bs in s["plan"]:
        for ckpt in (False, True):
            if b.left() < 30:
                return
            plan = plan_memory(name, task, img, precision="bf16")
            args, hw = task_model_args(name, task, img)
            with b.device:
                torch.manual_seed(0)
                model = EVAViT(**dict(args, drop_path_rate=0.0))
            model.set_grad_checkpointing(ckpt)
            x = torch.randn(bs, 3, *hw, device=b.device)
            step = train_step_fn(model, x, b, head_loss=False)
            step()  # optimizer state exists from here on, as in a running job
            weights = sum(p.numel() * p.element_size() for p in model.parameters())
            measured_b = None
            if b.cuda:  # absolute peak: weights, optimizer state, gradients, activations, the input
                torch.cuda.reset_peak_memory_stats()
                step()
                torch.cuda.synchronize()
                measured_b = torch.cuda.max_memory_allocated()
            pred = plan.peak(bs, ckpt)
            b.record("plan", f"{name} {task} {img} b{bs} ckpt={ckpt}", predicted_gib=pred / 2 ** 30,
                     measured_gib=None if measured_b is None else measured_b / 2 ** 30,
                     ratio=None if measured_b is None else pred / measured_b, weights_gib=weights / 2 ** 30)
            del model, step
            _free(b)


# ----------------------------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None, help="JSON (default benchmarks/results/gpu_<card>.json)")
    ap.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    ap.add_argument("--budget-s", type=float, default=420, help="skip what would not finish in this many seconds")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--smoke", action="store_true", help="tiny shapes on the CPU (checks the code paths)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.warmup, args.iters = 1, 1
    b = Bench(args)
    if args.out is None:
        card = (b.meta["gpu"] or "cpu").lower().replace("nvidia ", "").replace(" ", "_")
        args.out = str(Path(__file__).parent / "results" / f"gpu_{card}.json")
    if b.cuda:
        torch.backends.cuda.matmul.allow_tf32 = False  # equality checks in true fp32
    s = sizes(args.smoke)
    failed = []
    for name in args.sections:
        if b.left() < 20:
            print(f"[{name}] skipped: time budget spent")
            continue
        try:
            globals()[f"section_{name}"](b, s)
        except Exception:  # one broken section must not lose the others' numbers
            traceback.print_exc()
            failed.append(name)
            b.record(name, "FAILED", error=traceback.format_exc(limit=2)[-500:])
            _free(b)
        b.write()
    print(f"wrote {args.out} in {time.time() - b.start:.0f} s; failed sections: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
