#!/usr/bin/python3
"""Writes a three-class spiral-like data set as CSV for the benchmark scripts
(bench/run, bench/gpu-workflow): two features, then the class label unless
--no-labels. Usage: spiral_csv.py OUT.csv N SEED [--scale S] [--no-labels]"""
import argparse

import torch

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("n", type=int)
p.add_argument("seed", type=int)
p.add_argument("--scale", type=float, default=1.0, help="multiplies the inputs (> 1: far from the data)")
p.add_argument("--no-labels", action="store_true")
a = p.parse_args()
g = torch.Generator().manual_seed(a.seed)
k = torch.randint(0, 3, (a.n,), generator=g)
r = torch.rand(a.n, generator=g)
t = 4 * r + k * 2.0944 + 0.2 * torch.randn(a.n, generator=g)
x = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1) * a.scale
with open(a.out, "w") as f:
    if a.no_labels:
        f.writelines(f"{u:.6f},{v:.6f}\n" for u, v in x.tolist())
    else:
        f.writelines(f"{u:.6f},{v:.6f},{c}\n" for (u, v), c in zip(x.tolist(), k.tolist()))
