#!/usr/bin/python3
"""The whole spiral job in plain PyTorch, as a practitioner would write it
(issue 21, deliverable 4): one member after another, then the ensemble's
outputs on the transfer inputs, then one student after another (EnD, EnD^2,
EnD^2+AUX), each with its own loop. The same networks, epochs, batches,
transfer sets and losses as

  endd experiment spiral --width W --epochs E --batch-size B \\
      --distill-epochs D --distill-batch-size B2 --transfer-copies 0 \\
      --aux-copies 0 --aux-count A

with the experiment's other defaults (configs/experiments/spiral.toml): a
3-class spiral of 1,000 training points per class (noise 0.36, MATH.md
section 5), inputs standardised on the training set, MLP 2-W-W-W-3 (ReLU),
Adam 1e-2 with a per-epoch cosine schedule, cross-entropy for the members;
students: temperature 10 held for 20% of the epochs then decayed linearly to
1 over 30%, EnD = T^2 cross-entropy to the members' mean probabilities,
EnD^2 = T^2 Dirichlet NLL of the members' (smoothed, eps 1e-4) probabilities
in float64, gradient norm clipped to 10; AUX = A inputs uniform in the disc
of radius 2R. Prints one JSON object: seconds per stage and in all, and each
model's test error. Run with Debian's python3-torch (the LibTorch version
under endd). Usage:

  pytorch_spiral_job.py [--threads N] [--members M] [--width W] [--epochs E]
      [--batch-size B] [--distill-epochs D] [--distill-batch-size B2]
      [--aux-count A] [--per-class P] [--seed S]
"""
import argparse
import json
import math
import time

import torch
from torch import nn
import torch.nn.functional as F

ARMS = 3
R = (6 * math.pi) ** 2


def spiral(per_class, noise, gen):
    """MATH.md section 5: arm k at angle offset 2 pi k / 3, n = 6 pi sqrt(u)."""
    xs, ys = [], []
    for k in range(ARMS):
        n = 6 * math.pi * torch.sqrt(torch.rand(per_class, generator=gen, dtype=torch.float64))
        a = 2 * math.pi * k / ARMS
        e = torch.randn(per_class, 2, generator=gen, dtype=torch.float64)
        x = torch.stack([-torch.cos(n + a) * n ** 2 + e[:, 0] * noise * n ** 1.5,
                         torch.sin(n + a) * n ** 2 + e[:, 1] * noise * n ** 1.5], 1)
        xs.append(x)
        ys.append(torch.full((per_class,), k, dtype=torch.long))
    return torch.cat(xs).float(), torch.cat(ys)


def disc(count, radius, gen):
    r = radius * torch.sqrt(torch.rand(count, generator=gen, dtype=torch.float64))
    t = 2 * math.pi * torch.rand(count, generator=gen, dtype=torch.float64)
    return torch.stack([r * torch.cos(t), r * torch.sin(t)], 1).float()


def mlp(width):
    return nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, width), nn.ReLU(), nn.Linear(width, ARMS))


def cosine(lr, epoch, epochs):
    return 0.5 * lr * (1 + math.cos(math.pi * epoch / epochs))


def temperature(epoch, epochs, t0=10.0, hold=0.2, decay=0.3):
    start, length = hold * epochs, decay * epochs
    if epoch < start:
        return t0
    if epoch >= start + length:
        return 1.0
    return t0 + (1.0 - t0) * (epoch - start) / length


def train_member(x, y, width, epochs, batch, seed):
    torch.manual_seed(seed)
    net = mlp(width)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for epoch in range(epochs):
        for g in opt.param_groups:
            g["lr"] = cosine(1e-2, epoch, epochs)
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net


def end_loss(z, teacher_logits, t):
    mean_probs = F.softmax(teacher_logits / t, -1).mean(1)
    return -(mean_probs * F.log_softmax(z / t, -1)).sum(-1).mean() * t * t


def end2_loss(z, teacher_logits, t, eps=1e-4):
    k = z.shape[-1]
    probs = (1 - eps) * F.softmax(teacher_logits.double() / t, -1) + eps / k
    mean_log_probs = probs.log().mean(1)
    alpha = (z.double() / t).exp()
    nll = torch.lgamma(alpha).sum(-1) - torch.lgamma(alpha.sum(-1)) - ((alpha - 1) * mean_log_probs).sum(-1)
    return nll.mean() * t * t


def train_student(x, teacher_logits, loss_fn, width, epochs, batch, seed):
    torch.manual_seed(seed)
    net = mlp(width)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for epoch in range(epochs):
        for g in opt.param_groups:
            g["lr"] = cosine(1e-2, epoch, epochs)
        t = temperature(epoch, epochs)
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            loss = loss_fn(net(x[idx]), teacher_logits[idx], t)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 10.0)
            opt.step()
    return net


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--members", type=int, default=100)
    p.add_argument("--width", type=int, default=100)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--distill-epochs", type=int, default=900)
    p.add_argument("--distill-batch-size", type=int, default=100)
    p.add_argument("--aux-count", type=int, default=3000)
    p.add_argument("--per-class", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(a.seed)
    x_train, y_train = spiral(a.per_class, 0.36, gen)
    x_test, y_test = spiral(10000, 0.36, gen)
    x_aux = disc(a.aux_count, 2 * R, gen)
    mean, std = x_train.mean(0), x_train.std(0)
    scale = lambda x: (x - mean) / std
    x_train, x_test, x_aux = scale(x_train), scale(x_test), scale(x_aux)

    seconds = {}
    start = time.perf_counter()
    members = [train_member(x_train, y_train, a.width, a.epochs, a.batch_size, a.seed * 1000 + m)
               for m in range(a.members)]
    seconds["ensemble"] = time.perf_counter() - start

    t = time.perf_counter()
    transfer = torch.cat([x_train, x_aux])
    with torch.no_grad():
        teacher = torch.stack([net(transfer) for net in members], 1)  # [N, M, K]
        test_probs = torch.stack([F.softmax(net(x_test), -1) for net in members], 1)
    seconds["teacher_outputs"] = time.perf_counter() - t

    n = len(x_train)
    jobs = {"end": (x_train, teacher[:n], end_loss), "end2": (x_train, teacher[:n], end2_loss),
            "end2_aux": (transfer, teacher, end2_loss)}
    students = {}
    for i, (name, (x, logits, loss_fn)) in enumerate(jobs.items()):
        t = time.perf_counter()
        students[name] = train_student(x, logits, loss_fn, a.width, a.distill_epochs, a.distill_batch_size,
                                       a.seed * 1000 + 500 + i)
        seconds[name] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - start

    def error(pred):
        return 100.0 * (pred != y_test).double().mean().item()

    with torch.no_grad():
        errors = {"single": error(test_probs[:, 0].argmax(-1)), "ensemble": error(test_probs.mean(1).argmax(-1))}
        for name, net in students.items():
            errors[name] = error(net(x_test).argmax(-1))
    print(json.dumps({"settings": vars(a), "seconds": seconds, "test_error": errors}))


if __name__ == "__main__":
    main()
