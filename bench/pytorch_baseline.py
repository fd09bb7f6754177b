#!/usr/bin/python3
"""Plain PyTorch baseline for bench/run: an ensemble trained member by member
in a Python loop, as a competent PyTorch user would write it, with the same
architecture, batch size and optimiser as endd's benchmark (bench/train_bench.cpp).
Prints member-steps per second and the process's peak RSS as JSON. Usage:
pytorch_baseline.py [THREADS] [mlp|cnn] (both models unless one is named; one
model per process gives that model's peak memory). Run with Debian's
python3-torch (the same LibTorch version underneath as endd's)."""
import json
import resource
import sys
import time

import torch
from torch import nn

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)


def mlp():
    return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def member_steps_per_second(make, members, sample, classes, seconds=3.0):
    torch.manual_seed(0)
    nets = [make() for _ in range(members)]
    opts = [torch.optim.Adam(n.parameters(), lr=1e-3) for n in nets]
    x = torch.randn(members, 128, *sample)
    y = torch.randint(0, classes, (members, 128))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        for m in range(members):
            opts[m].zero_grad()
            loss = loss_fn(nets[m](x[m]), y[m])
            loss.backward()
            opts[m].step()

    step()  # warm-up
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    return steps * members / (time.perf_counter() - start)


only = sys.argv[2] if len(sys.argv) > 2 else None
if only not in (None, "mlp", "cnn"):
    sys.exit(f"pytorch_baseline.py: model: expected mlp or cnn, got {only!r}")
result = {"torch": torch.__version__, "threads": torch.get_num_threads()}
if only in (None, "mlp"):
    result["mlp_100_member_steps_per_s"] = member_steps_per_second(mlp, 100, (2,), 3)
if only in (None, "cnn"):
    result["cnn_10_member_steps_per_s"] = member_steps_per_second(cnn, 10, (1, 28, 28), 10)
result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
print(json.dumps(result))
