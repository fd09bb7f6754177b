#include "endd/report/results.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/metrics/ranking.h"
#include "endd/metrics/rejection.h"

namespace endd::report {

std::vector<double> to_vector(const at::Tensor& t) {
  at::Tensor c = t.to(at::kDouble).cpu().contiguous();
  const double* p = c.data_ptr<double>();
  return std::vector<double>(p, p + c.numel());
}

std::vector<std::pair<std::string, std::vector<double>>> uncertainty_scores(const uncertainty::Measures& m) {
  std::vector<std::pair<std::string, std::vector<double>>> out;
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

json classification_json(const metrics::ClassificationResult& r) {
  return json{{"error", r.error}, {"nll", r.nll},     {"ece", r.ece},
              {"ece_equal_mass", r.ece_equal_mass}, {"brier", r.brier}, {"count", r.count}};
}

json misclassification_json(const uncertainty::Measures& m, const at::Tensor& labels) {
  at::Tensor wrong = (m.prediction != labels.to(at::kLong).cpu()).to(at::kByte).contiguous();
  std::vector<uint8_t> is_error(wrong.data_ptr<uint8_t>(), wrong.data_ptr<uint8_t>() + wrong.numel());
  json out = json::object();
  for (const auto& [name, score] : uncertainty_scores(m)) {
    out[name] = {{"auroc", 100.0 * metrics::auroc(score, is_error)},
                 {"prr", metrics::prediction_rejection(score, is_error).prr}};
  }
  return out;
}

json ood_json(const uncertainty::Measures& in_domain, const uncertainty::Measures& ood) {
  return ood_json(uncertainty_scores(in_domain), uncertainty_scores(ood));
}

json ood_json(const NamedScores& in_scores, const NamedScores& out_scores) {
  ENDD_CHECK(in_scores.size() == out_scores.size(), "OOD detection: ", in_scores.size(), " in-domain and ",
             out_scores.size(), " OOD scores");
  json out = json::object();
  for (size_t i = 0; i < in_scores.size(); ++i) {
    auto d = metrics::ood_detection(in_scores[i].second, out_scores[i].second);
    out[in_scores[i].first] = {
        {"auroc", d.auroc}, {"aupr_in", d.aupr_in}, {"aupr_out", d.aupr_out}, {"fpr95", d.fpr95}};
  }
  return out;
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

json fidelity_json(const uncertainty::Measures& student, const uncertainty::Measures& ensemble) {
  auto s = to_vector(student.knowledge);
  auto e = to_vector(ensemble.knowledge);
  double mean_s = std::accumulate(s.begin(), s.end(), 0.0) / double(s.size());
  double mean_e = std::accumulate(e.begin(), e.end(), 0.0) / double(e.size());
  // KL(pbar_ensemble || p_student), floored where a log needs it.
  at::Tensor pe = ensemble.mean_probs, ps = student.mean_probs;
  at::Tensor kl = (pe * (pe.clamp_min(uncertainty::kLogFloor).log() -
                         ps.clamp_min(uncertainty::kLogFloor).log()))
                      .sum(-1)
                      .mean();
  json out{{"agreement", 100.0 * student.prediction.eq(ensemble.prediction).to(at::kDouble).mean().item<double>()},
              {"count", student.size()},
              {"knowledge_spearman", spearman(s, e)},
              {"knowledge_pearson", pearson(s, e)},
              {"total_spearman", spearman(to_vector(student.total), to_vector(ensemble.total))},
              {"data_spearman", spearman(to_vector(student.data), to_vector(ensemble.data))},
              {"knowledge_mean_ratio", mean_e > 0 ? mean_s / mean_e : std::nan("")},
              {"knowledge_mean", mean_s},
              {"ensemble_knowledge_mean", mean_e},
              {"kl_to_ensemble", kl.item<double>()}};
  if (student.precision) {
    // How far precision climbed (MATH.md: no finite optimum where members agree).
    at::Tensor a0 = *student.precision;
    out["alpha0_median"] = a0.median().item<double>();
    out["alpha0_max"] = a0.max().item<double>();
  }
  return out;
}

void write_json(const std::string& path, const json& document) {
  write_file_atomic(path, document.dump(2) + "\n");
}

}  // namespace endd::report
