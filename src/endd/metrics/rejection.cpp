#include "endd/metrics/rejection.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "endd/core/error.h"

namespace endd::metrics {

RejectionResult prediction_rejection(const std::vector<double>& uncertainty,
                                     const std::vector<uint8_t>& is_error, int grid) {
  ENDD_CHECK(uncertainty.size() == is_error.size(), "rejection: ", uncertainty.size(),
             " uncertainties but ", is_error.size(), " error flags");
  ENDD_CHECK(grid >= 2, "rejection: grid needs at least 2 points");
  const int64_t n = static_cast<int64_t>(uncertainty.size());
  RejectionResult r;
  if (n == 0) {
    r.prr = r.base_error = std::nan("");
    return r;
  }
  for (double u : uncertainty) ENDD_CHECK(!std::isnan(u), "rejection: an uncertainty is NaN");
  const int64_t errors = std::accumulate(is_error.begin(), is_error.end(), int64_t{0});
  const double e0 = double(errors) / double(n);
  r.base_error = 100.0 * e0;

  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return uncertainty[a] > uncertainty[b]; });

  // Knots of the piecewise-linear curve: (rejected fraction, whole-set error).
  std::vector<double> knot_r{0.0}, knot_e{e0};
  int64_t rejected = 0, rejected_errors = 0;
  for (int64_t i = 0; i < n;) {
    double u = uncertainty[order[i]];
    while (i < n && uncertainty[order[i]] == u) {
      rejected_errors += is_error[order[i]];
      ++rejected;
      ++i;
    }
    knot_r.push_back(double(rejected) / double(n));
    knot_e.push_back(double(errors - rejected_errors) / double(n));
  }
  double area = 0;
  for (size_t k = 1; k < knot_r.size(); ++k)
    area += 0.5 * (knot_e[k] + knot_e[k - 1]) * (knot_r[k] - knot_r[k - 1]);

  const double ar_random_area = 0.5 * e0;       // under e0 (1 - r)
  const double ar_oracle = 0.5 * e0 - 0.5 * e0 * e0;  // random minus oracle's e0^2/2
  r.prr = ar_oracle > 0 ? 100.0 * (ar_random_area - area) / ar_oracle : std::nan("");

  r.fraction.resize(grid);
  r.error.resize(grid);
  r.oracle.resize(grid);
  r.random.resize(grid);
  size_t k = 1;
  for (int g = 0; g < grid; ++g) {
    double f = double(g) / double(grid - 1);
    while (k + 1 < knot_r.size() && knot_r[k] < f) ++k;
    double span = knot_r[k] - knot_r[k - 1];
    double t = span > 0 ? std::clamp((f - knot_r[k - 1]) / span, 0.0, 1.0) : 1.0;
    r.fraction[g] = f;
    r.error[g] = 100.0 * (knot_e[k - 1] + t * (knot_e[k] - knot_e[k - 1]));
    r.oracle[g] = 100.0 * std::max(e0 - f, 0.0);
    r.random[g] = 100.0 * e0 * (1.0 - f);
  }
  return r;
}

}  // namespace endd::metrics
