#!/usr/bin/env python3
"""Fashion-MNIST results against the issue's acceptance points.

Usage: fashion_summary.py DIR_OR_RESULTS_JSON...
Finds every results.json (DIR/s<seed>/<variant>/results.json from
bench/fashion-seeds, or any named file), prints one row per run and, per
variant, the mean over its seeds and how many seeds met each point.
"""
import glob
import json
import os
import sys
from collections import defaultdict

POINTS = ["ens<single", "end2-ens<=0.5", "nll end<=single", "nll end2<=single", "aux mnist>=95%"]


def row(path):
    r = json.load(open(path))
    m = r["models"]
    mnist = r["ood"]["mnist"]
    auroc = {k: mnist[k]["knowledge"]["auroc"] for k in ("ensemble", "end", "end2", "end2_aux")}
    ratio = auroc["end2_aux"] / auroc["ensemble"]
    met = [m["ensemble"]["error"] < m["single"]["error"],
           m["end2"]["error"] - m["ensemble"]["error"] <= 0.5,
           m["end"]["nll"] <= m["single"]["nll"],
           m["end2"]["nll"] <= m["single"]["nll"],
           ratio >= 0.95]
    return {"seed": r["seed"], "error": {k: v["error"] for k, v in m.items()},
            "nll": {k: v["nll"] for k, v in m.items()}, "auroc": auroc, "ratio": ratio, "met": met,
            "seconds": r["timing"]["total_seconds"]}


def main(args):
    files = []
    for a in args:
        files += sorted(glob.glob(os.path.join(a, "**", "results.json"), recursive=True)) if os.path.isdir(a) else [a]
    if not files:
        sys.exit("fashion_summary: no results.json under " + " ".join(args))
    by_variant = defaultdict(list)
    print("variant seed | err single ens EnD EnD2 AUX | NLL single EnD EnD2 AUX | MNIST ens EnD2 AUX (ratio) | "
          "points met | s")
    for f in files:
        x = row(f)
        variant = os.path.basename(os.path.dirname(f))
        by_variant[variant].append(x)
        e, n, a = x["error"], x["nll"], x["auroc"]
        print(f"{variant} {x['seed']} | {e['single']:.2f} {e['ensemble']:.2f} {e['end']:.2f} {e['end2']:.2f} "
              f"{e['end2_aux']:.2f} | {n['single']:.4f} {n['end']:.4f} {n['end2']:.4f} {n['end2_aux']:.4f} | "
              f"{a['ensemble']:.1f} {a['end2']:.1f} {a['end2_aux']:.1f} ({100 * x['ratio']:.1f}%) | "
              f"{sum(x['met'])}/{len(POINTS)} | {x['seconds']:.0f}")
    print("\nper variant: mean over seeds; seeds meeting each point (" + ", ".join(POINTS) + ")")
    for variant, xs in sorted(by_variant.items()):
        mean = lambda f: sum(f(x) for x in xs) / len(xs)
        counts = [sum(x["met"][i] for x in xs) for i in range(len(POINTS))]
        print(f"{variant} ({len(xs)} seeds): EnD2 err-ens {mean(lambda x: x['error']['end2'] - x['error']['ensemble']):+.2f}"
              f", EnD2 NLL-single {mean(lambda x: x['nll']['end2'] - x['nll']['single']):+.4f}"
              f", AUX MNIST {100 * mean(lambda x: x['ratio']):.1f}% of ens"
              f", EnD2 MNIST {mean(lambda x: x['auroc']['end2']):.1f}"
              f" | met {counts} of {len(xs)}; all points on {sum(all(x['met']) for x in xs)} seeds")


if __name__ == "__main__":
    main(sys.argv[1:])
