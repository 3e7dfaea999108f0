"""Re-predict the peak memory of the training steps a GPU run measured (`benchmarks/gpu.py`, section "plan")
with the current `eva plan`, and print predicted / measured ratios: the planner can be improved and checked
without a GPU.

    python benchmarks/plan_vs_measured.py [--results benchmarks/results/gpu_h200.json] [--out OUT.json]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROW = re.compile(r"(?P<name>\S+) (?P<task>\S+) (?P<img>\d+) b(?P<bs>\d+) ckpt=(?P<ckpt>True|False)")


def main(argv=None) -> int:
    from eva.backbone.plan import plan_memory

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=str(Path(__file__).parent / "results" / "gpu_h200.json"))
    ap.add_argument("--out", help="write the rows as JSON here")
    args = ap.parse_args(argv)
    data = json.loads(Path(args.results).read_text())
    rows = [r for r in data["results"] if r.get("section") == "plan" and r.get("measured_gib")]
    if not rows:
        print(f"no measured plan rows in {args.results}", file=sys.stderr)
        return 2
    out, plans = [], {}
    print(f"{'run':58s} {'measured':>9s} {'then':>13s} {'now':>13s}")
    for r in rows:
        m = ROW.fullmatch(r["name"])
        key = (m["name"], m["task"], int(m["img"]))
        if key not in plans:
            plans[key] = plan_memory(*key, precision="bf16")
        now = plans[key].peak(int(m["bs"]), m["ckpt"] == "True") / 2 ** 30
        row = dict(run=r["name"], measured_gib=r["measured_gib"], predicted_then_gib=r["predicted_gib"],
                   predicted_now_gib=now, ratio_then=r["ratio"], ratio_now=now / r["measured_gib"])
        out.append(row)
        print(f"{r['name']:58s} {r['measured_gib']:8.2f}G {r['predicted_gib']:6.2f}G ({r['ratio']:.2f}) "
              f"{now:6.2f}G ({row['ratio_now']:.2f})")
    if args.out:
        Path(args.out).write_text(json.dumps(dict(source=args.results, device=data.get("meta"), rows=out), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
