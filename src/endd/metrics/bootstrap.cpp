#include "endd/metrics/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "endd/core/error.h"

namespace endd::metrics {

Interval bootstrap_interval(int64_t n, const std::function<double(const std::vector<int64_t>&)>& metric,
                            int resamples, uint64_t seed, double level) {
  ENDD_CHECK(resamples >= 2, "bootstrap needs at least 2 resamples, got ", resamples);
  ENDD_CHECK(level > 0 && level < 1, "bootstrap level must lie in (0, 1), got ", level);
  if (n <= 0) return {std::nan(""), std::nan("")};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, n - 1);
  std::vector<double> values;
  values.reserve(resamples);
  std::vector<int64_t> index(static_cast<size_t>(n));
  for (int b = 0; b < resamples; ++b) {
    for (auto& i : index) i = pick(rng);
    double v = metric(index);
    if (!std::isnan(v)) values.push_back(v);
  }
  if (values.empty()) return {std::nan(""), std::nan("")};
  std::sort(values.begin(), values.end());
  auto quantile = [&](double q) {
    double pos = q * double(values.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (pos - double(lo)) * (values[hi] - values[lo]);
  };
  double tail = (1.0 - level) / 2.0;
  return {quantile(tail), quantile(1.0 - tail)};
}

}  // namespace endd::metrics
