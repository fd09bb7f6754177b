#include "endd/metrics/regression.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "endd/core/error.h"

namespace endd::metrics {
namespace {

// Area under the curve "mean remaining loss after rejecting a fraction r",
// rejecting in the order of `score` (highest first; ties together, linear
// across them), over r in [0, 1].
double rejection_area(const std::vector<double>& score, const std::vector<double>& loss) {
  const size_t n = loss.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  double remaining = std::accumulate(loss.begin(), loss.end(), 0.0) / double(n);
  double area = 0;
  for (size_t i = 0; i < n;) {
    const double s = score[order[i]];
    double removed = 0;
    size_t count = 0;
    while (i < n && score[order[i]] == s) {
      removed += loss[order[i]];
      ++count;
      ++i;
    }
    const double next = remaining - removed / double(n);
    area += 0.5 * (remaining + next) * double(count) / double(n);
    remaining = next;
  }
  return area;
}

}  // namespace

double central_coverage(const at::Tensor& pit, double p) {
  if (pit.numel() == 0) return std::nan("");
  return 100.0 * ((pit.to(at::kDouble) - 0.5).abs() <= p / 2).to(at::kDouble).mean().item<double>();
}

RegressionResult regression_metrics(const at::Tensor& prediction, const at::Tensor& log_likelihood,
                                    const at::Tensor& pit, const at::Tensor& targets) {
  const int64_t n = targets.numel();
  ENDD_CHECK(prediction.numel() == n && log_likelihood.numel() == n && pit.numel() == n, "regression metrics: ",
             prediction.numel(), " predictions, ", log_likelihood.numel(), " likelihoods and ", pit.numel(),
             " PIT values for ", n, " targets");
  RegressionResult r;
  r.count = n;
  if (n == 0) {
    r.rmse = r.nll = r.coverage_50 = r.coverage_90 = r.coverage_95 = r.calibration_error = std::nan("");
    return r;
  }
  const at::Tensor y = targets.to(at::kDouble).flatten();
  r.rmse = std::sqrt((prediction.to(at::kDouble).flatten() - y).pow(2).mean().item<double>());
  r.nll = -log_likelihood.to(at::kDouble).mean().item<double>();
  r.coverage_50 = central_coverage(pit, 0.5);
  r.coverage_90 = central_coverage(pit, 0.9);
  r.coverage_95 = central_coverage(pit, 0.95);
  r.calibration_error = coverage_calibration_error(pit);
  return r;
}

double coverage_calibration_error(const at::Tensor& pit) {
  if (pit.numel() == 0) return std::nan("");
  double gap = 0;
  for (int k = 1; k <= 19; ++k) gap += std::abs(central_coverage(pit, 0.05 * k) - 5.0 * k);
  return gap / 19.0;
}

LossRejection loss_rejection(const std::vector<double>& uncertainty, const std::vector<double>& loss) {
  ENDD_CHECK(uncertainty.size() == loss.size(), "rejection: ", uncertainty.size(), " uncertainties but ", loss.size(),
             " losses");
  LossRejection r;
  if (loss.empty()) return {std::nan(""), std::nan("")};
  for (size_t i = 0; i < loss.size(); ++i)
    ENDD_CHECK(std::isfinite(uncertainty[i]) && std::isfinite(loss[i]) && loss[i] >= 0,
               "rejection: input ", i, " has uncertainty ", uncertainty[i], " and loss ", loss[i]);
  r.base = std::accumulate(loss.begin(), loss.end(), 0.0) / double(loss.size());
  const double random = 0.5 * r.base;  // the mean loss falls linearly to 0
  const double oracle = rejection_area(loss, loss);
  const double mine = rejection_area(uncertainty, loss);
  r.prr = random > oracle ? 100.0 * (random - mine) / (random - oracle) : std::nan("");
  return r;
}

}  // namespace endd::metrics
