#include "endd/report/results.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"

namespace endd::report {

std::vector<double> to_vector(const at::Tensor& t) {
  at::Tensor c = t.to(at::kDouble).cpu().contiguous();
  const double* p = c.data_ptr<double>();
  return std::vector<double>(p, p + c.numel());
}

NamedScores uncertainty_scores(const uncertainty::Measures& m) {
  NamedScores out;
  out.emplace_back("confidence", to_vector(-m.confidence));
  out.emplace_back("total", to_vector(m.total));
  out.emplace_back("data", to_vector(m.data));
  out.emplace_back("knowledge", to_vector(m.knowledge));
  out.emplace_back("epkl", to_vector(m.epkl));
  if (m.diff_entropy) out.emplace_back("diff_entropy", to_vector(*m.diff_entropy));
  return out;
}

metrics::ClassificationResult classify(const uncertainty::Measures& m, const at::Tensor& labels) {
  metrics::ClassificationMeter meter;
  meter.update(m.mean_probs, labels);
  return meter.compute();
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  ENDD_CHECK(a.size() == b.size(), "pearson: sizes differ");
  const double n = double(a.size());
  if (a.size() < 2) return std::nan("");
  double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return (saa > 0 && sbb > 0) ? sab / std::sqrt(saa * sbb) : std::nan("");
}

namespace {
// Average ranks (ties share the mean of their positions).
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return v[x] < v[y]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && v[order[j]] == v[order[i]]) ++j;
    double avg = 0.5 * double(i + j - 1) + 1.0;
    for (size_t k = i; k < j; ++k) r[order[k]] = avg;
    i = j;
  }
  return r;
}
}  // namespace

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  return pearson(ranks(a), ranks(b));
}

void write_json(const std::string& path, const json& document) {
  write_file_atomic(path, document.dump(2) + "\n");
}

}  // namespace endd::report
