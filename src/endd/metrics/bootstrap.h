#pragma once
// Percentile bootstrap confidence intervals for any metric of a test set.
#include <cstdint>
#include <functional>
#include <vector>

namespace endd::metrics {

struct Interval {
  double low, high;
};

/// Resamples `n` inputs with replacement `resamples` times (deterministic given
/// `seed`), evaluates `metric` on each resample's indices and returns the
/// central `level` percentile interval. NaN results of a resample are skipped.
Interval bootstrap_interval(int64_t n, const std::function<double(const std::vector<int64_t>&)>& metric,
                            int resamples = 200, uint64_t seed = 0, double level = 0.95);

/// Picks the given indices of a vector (helper for metric lambdas).
template <typename T>
std::vector<T> gather(const std::vector<T>& values, const std::vector<int64_t>& index) {
  std::vector<T> out(index.size());
  for (size_t i = 0; i < index.size(); ++i) out[i] = values[static_cast<size_t>(index[i])];
  return out;
}

}  // namespace endd::metrics
