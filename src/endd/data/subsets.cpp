#include "endd/data/subsets.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "endd/core/error.h"
#include "endd/core/seeding.h"

namespace endd::data {

Dataset take_rows(const Dataset& d, const at::Tensor& index) {
  Dataset out = d;
  out.inputs = d.inputs.index_select(0, index);
  if (d.labels.defined()) out.labels = d.labels.index_select(0, index);
  if (d.targets.defined()) out.targets = d.targets.index_select(0, index);
  return out;
}

Dataset limit_rows(const Dataset& d, int64_t n, bool random, uint64_t seed) {
  if (n <= 0 || n >= d.size()) return d;
  if (!random) return take_rows(d, at::arange(n, at::kLong));
  at::Generator g = cpu_generator(seed);
  at::Tensor pick = std::get<0>(at::randperm(d.size(), g, at::kLong).slice(0, 0, n).sort());
  return take_rows(d, pick);
}

std::pair<Dataset, Dataset> stratified_split(const Dataset& d, double fraction, uint64_t seed) {
  ENDD_CHECK(std::isfinite(fraction) && fraction > 0 && fraction < 1, "validation fraction must lie in (0, 1), got ",
             fraction);
  const int64_t n = d.size();
  if (!d.labels.defined() && d.targets.defined()) {  // regression: a seeded random share of the rows
    const int64_t held = static_cast<int64_t>(std::llround(fraction * double(n)));
    ENDD_CHECK(held >= 1 && held < n, d.name, ": a validation fraction of ", fraction, " of ", n, " rows leaves ",
               held, " validation and ", n - held, " training rows; both need at least one");
    at::Generator g = cpu_generator(seed);
    at::Tensor perm = at::randperm(n, g, at::kLong);
    return {take_rows(d, std::get<0>(perm.slice(0, held).sort())), take_rows(d, std::get<0>(perm.slice(0, 0, held).sort()))};
  }
  ENDD_CHECK(d.labels.defined(), d.name, ": a validation split needs labels");
  const int64_t k = static_cast<int64_t>(d.classes.size());
  at::Tensor labels = d.labels.contiguous();
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(k));
  for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(labels.data_ptr<int64_t>()[i])].push_back(i);
  // Per-class shares by largest remainder, so the total is round(fraction * N).
  const int64_t total = static_cast<int64_t>(std::llround(fraction * double(n)));
  std::vector<int64_t> take(static_cast<size_t>(k));
  std::vector<std::pair<double, int64_t>> remainders;
  int64_t given = 0;
  for (int64_t c = 0; c < k; ++c) {
    double exact = fraction * double(rows[static_cast<size_t>(c)].size());
    take[static_cast<size_t>(c)] = static_cast<int64_t>(std::floor(exact));
    given += take[static_cast<size_t>(c)];
    remainders.push_back({exact - std::floor(exact), c});
  }
  std::stable_sort(remainders.begin(), remainders.end(), [](auto a, auto b) { return a.first > b.first; });
  for (size_t r = 0; r < remainders.size() && given < total; ++r) {
    ++take[static_cast<size_t>(remainders[r].second)];
    ++given;
  }
  at::Generator g = cpu_generator(seed);
  std::vector<int64_t> val;
  for (int64_t c = 0; c < k; ++c) {
    const auto& rc = rows[static_cast<size_t>(c)];
    if (rc.empty()) continue;
    at::Tensor perm = at::randperm(static_cast<int64_t>(rc.size()), g, at::kLong);
    for (int64_t j = 0; j < take[static_cast<size_t>(c)]; ++j) val.push_back(rc[static_cast<size_t>(perm[j].item<int64_t>())]);
  }
  std::sort(val.begin(), val.end());
  std::vector<int64_t> train;
  std::vector<bool> in_val(static_cast<size_t>(n), false);
  for (int64_t i : val) in_val[static_cast<size_t>(i)] = true;
  for (int64_t i = 0; i < n; ++i)
    if (!in_val[static_cast<size_t>(i)]) train.push_back(i);
  ENDD_CHECK(!val.empty() && !train.empty(), d.name, ": a validation fraction of ", fraction, " of ", n,
             " rows leaves ", val.size(), " validation and ", train.size(), " training rows; both need at least one");
  return {take_rows(d, at::tensor(train, at::kLong)), take_rows(d, at::tensor(val, at::kLong))};
}

}  // namespace endd::data
