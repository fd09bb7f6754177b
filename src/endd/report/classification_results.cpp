#include "endd/report/classification_results.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "endd/core/error.h"
#include "endd/metrics/ranking.h"
#include "endd/metrics/rejection.h"
#include "endd/report/results.h"

namespace endd::report {

using nlohmann::json;

ByMeasure<Rejection> misclassification(const uncertainty::Measures& m, const at::Tensor& labels) {
  at::Tensor wrong = (m.prediction != labels.to(at::kLong).cpu()).to(at::kByte).contiguous();
  std::vector<uint8_t> is_error(wrong.data_ptr<uint8_t>(), wrong.data_ptr<uint8_t>() + wrong.numel());
  ByMeasure<Rejection> out;
  for (const auto& [name, score] : uncertainty_scores(m))
    out.emplace_back(name, Rejection{100.0 * metrics::auroc(score, is_error),
                                     metrics::prediction_rejection(score, is_error).prr});
  return out;
}

ByMeasure<Detection> detection(const NamedScores& in_scores, const NamedScores& out_scores) {
  ENDD_CHECK(in_scores.size() == out_scores.size(), "OOD detection: ", in_scores.size(), " in-domain and ",
             out_scores.size(), " OOD scores");
  ByMeasure<Detection> out;
  for (size_t i = 0; i < in_scores.size(); ++i) {
    auto d = metrics::ood_detection(in_scores[i].second, out_scores[i].second);
    out.emplace_back(in_scores[i].first, Detection{d.auroc, d.aupr_in, d.aupr_out, d.fpr95});
  }
  return out;
}

ByMeasure<Detection> detection(const uncertainty::Measures& in_domain, const uncertainty::Measures& ood) {
  return detection(uncertainty_scores(in_domain), uncertainty_scores(ood));
}

Fidelity fidelity(const uncertainty::Measures& student, const uncertainty::Measures& ensemble) {
  auto s = to_vector(student.knowledge);
  auto e = to_vector(ensemble.knowledge);
  Fidelity f;
  f.knowledge_mean = std::accumulate(s.begin(), s.end(), 0.0) / double(s.size());
  f.ensemble_knowledge_mean = std::accumulate(e.begin(), e.end(), 0.0) / double(e.size());
  f.knowledge_mean_ratio = f.ensemble_knowledge_mean > 0 ? f.knowledge_mean / f.ensemble_knowledge_mean : std::nan("");
  // KL(pbar_ensemble || p_student), floored where a log needs it.
  at::Tensor pe = ensemble.mean_probs, ps = student.mean_probs;
  f.kl_to_ensemble = (pe * (pe.clamp_min(uncertainty::kLogFloor).log() - ps.clamp_min(uncertainty::kLogFloor).log()))
                         .sum(-1)
                         .mean()
                         .item<double>();
  f.agreement = 100.0 * student.prediction.eq(ensemble.prediction).to(at::kDouble).mean().item<double>();
  f.count = student.size();
  f.knowledge_spearman = spearman(s, e);
  f.knowledge_pearson = pearson(s, e);
  f.total_spearman = spearman(to_vector(student.total), to_vector(ensemble.total));
  f.data_spearman = spearman(to_vector(student.data), to_vector(ensemble.data));
  if (student.precision) {
    const at::Tensor& a0 = *student.precision;
    f.alpha0_median = a0.median().item<double>();
    f.alpha0_max = a0.max().item<double>();
  }
  return f;
}

json to_json(const metrics::ClassificationResult& r) {
  return json{{"error", r.error}, {"nll", r.nll},     {"ece", r.ece},
              {"ece_equal_mass", r.ece_equal_mass}, {"brier", r.brier}, {"count", r.count}};
}

json to_json(const ByMeasure<Rejection>& r) {
  json out = json::object();
  for (const auto& [name, v] : r) out[name] = {{"auroc", v.auroc}, {"prr", v.prr}};
  return out;
}

json to_json(const ByMeasure<Detection>& d) {
  json out = json::object();
  for (const auto& [name, v] : d)
    out[name] = {{"auroc", v.auroc}, {"aupr_in", v.aupr_in}, {"aupr_out", v.aupr_out}, {"fpr95", v.fpr95}};
  return out;
}

json to_json(const Fidelity& f) {
  json out{{"agreement", f.agreement},
           {"count", f.count},
           {"knowledge_spearman", f.knowledge_spearman},
           {"knowledge_pearson", f.knowledge_pearson},
           {"total_spearman", f.total_spearman},
           {"data_spearman", f.data_spearman},
           {"knowledge_mean_ratio", f.knowledge_mean_ratio},
           {"knowledge_mean", f.knowledge_mean},
           {"ensemble_knowledge_mean", f.ensemble_knowledge_mean},
           {"kl_to_ensemble", f.kl_to_ensemble}};
  if (f.alpha0_median) out["alpha0_median"] = *f.alpha0_median;
  if (f.alpha0_max) out["alpha0_max"] = *f.alpha0_max;
  return out;
}

json to_json(const MemberErrorSummary& e) {
  return {{"typical_member", e.typical_member}, {"mean", e.mean}, {"std", e.std},
          {"min", e.min}, {"median", e.median}, {"max", e.max}};
}

json to_json(const ModelRow& row) {
  json m = to_json(row.test);
  if (row.error_ci95) m["error_ci95"] = {(*row.error_ci95)[0], (*row.error_ci95)[1]};
  m["members"] = row.members;
  if (row.parameters) m["parameters"] = *row.parameters;
  if (row.train_seconds) m["train_seconds"] = *row.train_seconds;
  return m;
}

namespace {

template <class T>
const T* find_measure(const ByMeasure<T>& figures, const std::string& measure) {
  for (const auto& [name, v] : figures)
    if (name == measure) return &v;
  return nullptr;
}

std::string fmt(double x, int digits = 2) {
  if (std::isnan(x)) return "n/a";
  char buf[48];
  // A ratio over a near-zero mean (a far set where every member agrees) would
  // print 30 digits; beyond a million, 3 significant digits say as much.
  if (std::fabs(x) < 1e6) {
    std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  } else {
    std::snprintf(buf, sizeof buf, "%.3e", x);
  }
  return buf;
}

std::string fmt(const double* x, int digits = 2) { return x ? fmt(*x, digits) : "n/a"; }

}  // namespace

const Detection* ClassificationResults::ood_by(const std::string& set, const std::string& model,
                                               const std::string& measure) const {
  auto s = ood.find(set);
  if (s == ood.end()) return nullptr;
  auto m = s->second.find(model);
  return m == s->second.end() ? nullptr : find_measure(m->second, measure);
}

const Rejection* ClassificationResults::misclassification_by(const std::string& model,
                                                             const std::string& measure) const {
  auto m = misclassification.find(model);
  return m == misclassification.end() ? nullptr : find_measure(m->second, measure);
}

void ClassificationResults::write_sections(json& r) const {
  if (member_errors) r["member_errors"] = to_json(*member_errors);
  r["models"] = json::object();
  r["misclassification"] = json::object();
  r["ood"] = json::object();
  for (const auto& set : ood_sets) r["ood"][set] = json::object();
  r["fidelity"] = json::object();
  for (const auto& [name, row] : models) r["models"][name] = to_json(row);
  for (const auto& [name, figures] : misclassification) r["misclassification"][name] = to_json(figures);
  for (const auto& [set, per_model] : ood)
    for (const auto& [name, figures] : per_model) r["ood"][set][name] = to_json(figures);
  for (const auto& [name, per_set] : fidelity)
    for (const auto& [set, f] : per_set) r["fidelity"][name][set] = to_json(f);
}

std::string ClassificationResults::markdown(const std::string& title) const {
  std::ostringstream md;
  md << "# " << title << "\n\nTest error in % (95% bootstrap interval)"
     << (paper_error.empty() ? "" : "; paper figures from Malinin et al. (2019)")
     << ". Misclassification detection by total uncertainty; OOD detection AUROC by knowledge uncertainty.\n\n"
     << "| model | error | 95% CI | paper error | NLL | ECE | Brier | misc. AUROC | PRR |";
  for (const auto& set : ood_sets) md << " " << set << " AUROC |";
  md << "\n|---|---|---|---|---|---|---|---|---|";
  for (size_t i = 0; i < ood_sets.size(); ++i) md << "---|";
  md << "\n";
  for (const auto& name : order) {
    auto it = models.find(name);
    if (it == models.end()) continue;
    const ModelRow& m = it->second;
    const Rejection* total = misclassification_by(name, "total");
    auto paper = paper_error.find(name);
    md << "| " << name << " | " << fmt(m.test.error) << " | "
       << (m.error_ci95 ? fmt((*m.error_ci95)[0]) + " - " + fmt((*m.error_ci95)[1]) : std::string("n/a")) << " | "
       << (paper == paper_error.end() ? "-" : fmt(paper->second)) << " | " << fmt(m.test.nll, 3) << " | "
       << fmt(m.test.ece) << " | " << fmt(m.test.brier, 3) << " | " << fmt(total ? &total->auroc : nullptr)
       << " | " << fmt(total ? &total->prr : nullptr) << " |";
    for (const auto& set : ood_sets) {
      const Detection* d = ood_by(set, name, "knowledge");
      md << " " << fmt(d ? &d->auroc : nullptr) << " |";
    }
    md << "\n";
  }
  if (member_errors && models.count("ensemble")) {
    const auto& e = *member_errors;
    md << "\n`single` is member " << e.typical_member << ", the typical member (median test error). All "
       << models.at("ensemble").members << " members: mean " << fmt(e.mean) << " (sd " << fmt(e.std) << "), range "
       << fmt(e.min) << " - " << fmt(e.max) << ".\n";
  }
  if (fidelity.empty()) return md.str();  // no students
  md << "\nFidelity to the ensemble's knowledge uncertainty per input (Spearman / Pearson; mean ratio = student's "
        "mean over the ensemble's):\n\n| student | test Spearman | test Pearson | KL to ensemble (test) |";
  for (const auto& set : ood_sets) md << " " << set << " Spearman | " << set << " Pearson | " << set << " mean ratio |";
  md << "\n|---|---|---|---|";
  for (size_t i = 0; i < ood_sets.size(); ++i) md << "---|---|---|";
  md << "\n";
  for (const auto& [name, per_set] : fidelity) {
    auto figures = [&](const std::string& set) -> const Fidelity* {
      auto it = per_set.find(set);
      return it == per_set.end() ? nullptr : &it->second;
    };
    const Fidelity* test = figures("test");
    md << "| " << name << " | " << fmt(test ? &test->knowledge_spearman : nullptr, 3) << " | "
       << fmt(test ? &test->knowledge_pearson : nullptr, 3) << " | " << fmt(test ? &test->kl_to_ensemble : nullptr, 4)
       << " |";
    for (const auto& set : ood_sets) {
      const Fidelity* f = figures(set);
      md << " " << fmt(f ? &f->knowledge_spearman : nullptr, 3) << " | " << fmt(f ? &f->knowledge_pearson : nullptr, 3)
         << " | " << fmt(f ? &f->knowledge_mean_ratio : nullptr, 3) << " |";
    }
    md << "\n";
  }
  return md.str();
}

}  // namespace endd::report
