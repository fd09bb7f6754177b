#!/usr/bin/python3
"""Benchmark for issue 18: endd distilling an ensemble's outputs from a file
into a scripted student (`endd distill --teacher-outputs --student`) against
the same distillation written as a plain PyTorch loop in Python: the same
inputs (Fashion-MNIST images), teacher logits [N, 5, 10], student CNN and
initial weights, epochs, batch, optimiser, temperature schedule and EnD^2
loss (float64), gradient clipping. Side by side in one run, at one thread
(endd's training default) and at every core. Prints JSON.

    /usr/bin/python3 bench/scripted_student.py build/endd WORKDIR [N] [EPOCHS]
"""
import gzip
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn

# The example's student architecture (docs/your-own-ensemble.md).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "python"))
from distil_your_ensemble import SmallCnn  # noqa: E402

endd, work = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 4000
EPOCHS = int(sys.argv[4]) if len(sys.argv) > 4 else 5
M, K, BATCH, LR, T0, HOLD, DECAY, EPS, CLIP = 5, 10, 128, 1e-2, 10.0, 0.2, 0.3, 1e-4, 10.0
os.makedirs(work, exist_ok=True)
path = lambda name: os.path.join(work, name)


with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as f:
    x = (np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:N] / 255.0).astype(np.float32)
rng = np.random.RandomState(0)
logits = (rng.randn(N, M, K) * 2).astype(np.float32)
np.save(path("x.npy"), x)
np.save(path("logits.npy"), logits)
torch.manual_seed(0)
torch.jit.save(torch.jit.script(SmallCnn()), path("student.pt"))


def run_endd(threads):
    out = path("run_%d" % threads)
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([endd, "distill", "--quiet", "--threads", str(threads), "--teacher-outputs", path("logits.npy"),
                    "--data", "npy:" + path("x.npy"), "--student", path("student.pt"), "--epochs", str(EPOCHS),
                    "--set", "distill.batch_size=%d" % BATCH, "--out", out], check=True)
    wall = time.perf_counter() - start
    with open(os.path.join(out, "train_log.csv")) as f:
        rows = f.read().split("\n")[1:]
    epochs = sum(float(r.split(",")[4]) for r in rows if r)
    return wall, epochs


def temperature(epoch):
    hold_end, decay_len = HOLD * EPOCHS, DECAY * EPOCHS
    if epoch < hold_end:
        return T0
    return T0 + (1 - T0) * min(max((epoch - hold_end) / decay_len, 0.0), 1.0) if decay_len > 0 else 1.0


def run_pytorch(threads):
    """The loop a competent PyTorch user writes for EnD^2 (the paper's loss)."""
    torch.set_num_threads(threads)
    start = time.perf_counter()
    student = torch.jit.load(path("student.pt"))
    inputs = torch.from_numpy(np.load(path("x.npy")))
    teacher = torch.from_numpy(np.load(path("logits.npy"))).double()
    opt = torch.optim.Adam(student.parameters(), lr=LR)
    student.train()
    epoch_seconds = 0.0
    for epoch in range(EPOCHS):
        t0 = time.perf_counter()
        T = temperature(epoch)
        for g in opt.param_groups:
            g["lr"] = LR * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * epoch / max(EPOCHS - 1, 1))))
        target = torch.log(torch.softmax(teacher / T, -1) * (1 - EPS) + EPS / K).mean(1)  # [N, K]
        for idx in torch.randperm(N).split(BATCH):
            alpha = torch.exp(student(inputs[idx]).double() / T)
            nll = torch.lgamma(alpha).sum(-1) - torch.lgamma(alpha.sum(-1)) - ((alpha - 1) * target[idx]).sum(-1)
            loss = nll.mean() * T * T
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(student.parameters(), CLIP)
            opt.step()
        epoch_seconds += time.perf_counter() - t0
    return time.perf_counter() - start, epoch_seconds


result = {"inputs": N, "members": M, "classes": K, "epochs": EPOCHS, "batch": BATCH,
          "cpu": open("/proc/cpuinfo").read().split("model name")[1].split(":")[1].split("\n")[0].strip()}
for threads in sorted({1, os.cpu_count()}):
    endd_wall, endd_epochs = run_endd(threads)
    torch_wall, torch_epochs = run_pytorch(threads)
    result["threads_%d" % threads] = {
        "endd_epoch_s": endd_epochs / EPOCHS, "pytorch_epoch_s": torch_epochs / EPOCHS,
        "endd_wall_s": endd_wall, "pytorch_wall_s": torch_wall,
        "speedup_epochs": torch_epochs / endd_epochs, "speedup_wall": torch_wall / endd_wall}
print(json.dumps(result, indent=2))
