#!/usr/bin/python3
"""Independent anchors for `endd experiment regression-tabular` (issue 19).

scikit-learn's BayesianRidge (a Bayesian linear model whose predictive is a
Gaussian with mean and standard deviation per input) on the same three tables,
read from the same Debian files, over random 90/10 splits: RMSE, NLL of its
own predictive, and the coverage calibration error of all splits' test targets
together (the same definition as endd's: the mean over p = 0.05 .. 0.95 of
|coverage(p) - p|, in % points). The splits are numpy's, not endd's: compare
means and standard errors, not split by split.

With --calibration-floor it also prints what a perfectly calibrated
predictive (PIT values uniform on [0, 1]) scores per split on each table's
test-set size: the calibration error that sampling noise alone gives.

Usage: /usr/bin/python3 bench/regression_anchors.py [--splits 10] [--calibration-floor] [--out FILE.json]
"""
import argparse
import gzip
import json
import math

import numpy as np
from scipy.stats import norm
from sklearn.linear_model import BayesianRidge
from sklearn.preprocessing import StandardScaler

SKLEARN = "/usr/lib/python3/dist-packages/sklearn/datasets/data"
VEGA = "/usr/lib/python3/dist-packages/vega_datasets/_data"


def diabetes():
    x = np.loadtxt(gzip.open(f"{SKLEARN}/diabetes_data_raw.csv.gz"))
    y = np.loadtxt(gzip.open(f"{SKLEARN}/diabetes_target.csv.gz"))
    return x, y


def boston():
    rows = np.loadtxt(f"{SKLEARN}/boston_house_prices.csv", delimiter=",", skiprows=2)
    return rows[:, :13], rows[:, 13]


def auto_mpg():
    cars = json.load(open(f"{VEGA}/cars.json"))
    keys = ["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration"]
    x, y = [], []
    for c in cars:
        if c.get("Miles_per_Gallon") is None or any(c.get(k) is None for k in keys):
            continue
        origin = c["Origin"]
        x.append([c[k] for k in keys] + [float(c["Year"][:4])] + [origin == o for o in ("USA", "Europe", "Japan")])
        y.append(c["Miles_per_Gallon"])
    return np.array(x, dtype=float), np.array(y, dtype=float)


def calibration_error(pit):
    ps = [0.05 * k for k in range(1, 20)]
    return float(np.mean([abs(100 * np.mean(np.abs(pit - 0.5) <= p / 2) - 100 * p) for p in ps]))


def calibration_floor(n, draws=20000, seed=0):
    """Mean per-split calibration error of a calibrated predictive on n targets."""
    rng = np.random.default_rng(seed)
    return float(np.mean([calibration_error(rng.random(n)) for _ in range(draws)]))


def mean_se(values):
    v = np.asarray(values)
    return {"mean": float(v.mean()), "standard_error": float(v.std(ddof=1) / math.sqrt(len(v)))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--calibration-floor", action="store_true")
    ap.add_argument("--out")
    a = ap.parse_args()
    out = {}
    for name, load in (("diabetes", diabetes), ("boston", boston), ("auto-mpg", auto_mpg)):
        x, y = load()
        rmse, nll, pits = [], [], []
        for s in range(a.splits):
            perm = np.random.RandomState(s).permutation(len(y))
            test = perm[: math.ceil(0.1 * len(y))]
            train = perm[len(test):]
            scale = StandardScaler().fit(x[train])
            model = BayesianRidge().fit(scale.transform(x[train]), y[train])
            mean, sd = model.predict(scale.transform(x[test]), return_std=True)
            rmse.append(math.sqrt(np.mean((mean - y[test]) ** 2)))
            nll.append(float(-np.mean(norm.logpdf(y[test], mean, sd))))
            pits.append(norm.cdf(y[test], mean, sd))
        out[name] = {"rows": len(y), "rmse": mean_se(rmse), "nll": mean_se(nll),
                     "pooled_calibration_error": calibration_error(np.concatenate(pits))}
        r = out[name]
        if a.calibration_floor:
            r["calibrated_per_split_calibration_error"] = calibration_floor(len(test))
            print(f"{name:9s} a calibrated predictive on {len(test)} test targets: per-split calibration error "
                  f"{r['calibrated_per_split_calibration_error']:.2f} on average")
        print(f"{name:9s} BayesianRidge RMSE {r['rmse']['mean']:.2f} ± {r['rmse']['standard_error']:.2f}  "
              f"NLL {r['nll']['mean']:.3f} ± {r['nll']['standard_error']:.3f}  "
              f"pooled calibration error {r['pooled_calibration_error']:.1f}")
    if a.out:
        json.dump(out, open(a.out, "w"), indent=2)


if __name__ == "__main__":
    main()
