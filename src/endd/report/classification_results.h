#pragma once
// The results of evaluating classification models, typed: built once from
// the models' measures, then written as results.json sections and as the
// results.md tables (docs/results-json.md); command-line summaries read the
// fields. Units: % for error, ECE, AUROC, AUPR, FPR and PRR; nats for NLL.
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "endd/metrics/classification.h"
#include "endd/report/results.h"
#include "endd/uncertainty/measures.h"

namespace endd::report {

/// Per uncertainty measure (confidence, total, data, knowledge, epkl, and
/// for Dirichlet models diff_entropy), in that order.
template <class T>
using ByMeasure = std::vector<std::pair<std::string, T>>;

/// Misclassification detection by one measure: misclassified inputs are the positives.
struct Rejection {
  double auroc = 0, prr = 0;
};
ByMeasure<Rejection> misclassification(const uncertainty::Measures& m, const at::Tensor& labels);

/// OOD detection by one measure: OOD inputs are the positives.
struct Detection {
  double auroc = 0, aupr_in = 0, aupr_out = 0, fpr95 = 0;
};
/// From named scores (in-domain and OOD lists with the same names, in order).
ByMeasure<Detection> detection(const NamedScores& in_domain, const NamedScores& ood);
ByMeasure<Detection> detection(const uncertainty::Measures& in_domain, const uncertainty::Measures& ood);

/// A student against the ensemble it was distilled from, on one set.
struct Fidelity {
  double agreement = 0;  ///< % of inputs with the same prediction
  int64_t count = 0;
  double knowledge_spearman = 0, knowledge_pearson = 0, total_spearman = 0, data_spearman = 0;
  double knowledge_mean_ratio = 0, knowledge_mean = 0, ensemble_knowledge_mean = 0;
  double kl_to_ensemble = 0;  ///< mean KL(ensemble mean || student mean)
  /// Dirichlet students: how far the precision alpha_0 climbed (MATH.md).
  std::optional<double> alpha0_median, alpha0_max;
};
Fidelity fidelity(const uncertainty::Measures& student, const uncertainty::Measures& ensemble);

/// Every member's test error summarised; `single` is the typical member.
struct MemberErrorSummary {
  int64_t typical_member = 0;
  double mean = 0, std = 0, min = 0, median = 0, max = 0;
};

/// results.json models.<name>.
struct ModelRow {
  metrics::ClassificationResult test;  ///< error, nll, ece, ece_equal_mass, brier, count
  std::optional<std::array<double, 2>> error_ci95;  ///< bootstrap interval of the error
  int64_t members = 1;
  std::optional<int64_t> parameters;
  std::optional<double> train_seconds;
};

struct ClassificationResults {
  std::vector<std::string> order;  ///< the models in table order
  std::map<std::string, ModelRow> models;
  std::map<std::string, ByMeasure<Rejection>> misclassification;  ///< per model
  std::vector<std::string> ood_sets;
  std::map<std::string, std::map<std::string, ByMeasure<Detection>>> ood;  ///< set -> model
  std::map<std::string, std::map<std::string, Fidelity>> fidelity;      ///< student -> set ("test", OOD sets)
  std::optional<MemberErrorSummary> member_errors;
  std::map<std::string, double> paper_error;  ///< the paper's error per model, where it gives one

  /// A model's figures for one measure (nullptr where it has none).
  const Detection* ood_by(const std::string& set, const std::string& model, const std::string& measure) const;
  const Rejection* misclassification_by(const std::string& model, const std::string& measure) const;

  /// Sets `document`'s sections member_errors (when known), models,
  /// misclassification, ood (one object per OOD set) and fidelity.
  void write_sections(nlohmann::json& document) const;
  /// The results.md tables under `title`: per model error (CI), the paper's
  /// error where known, NLL, ECE, Brier, misclassification AUROC/PRR by total
  /// uncertainty, OOD AUROC by knowledge uncertainty per set; then fidelity
  /// (when there are students).
  std::string markdown(const std::string& title) const;
};

nlohmann::json to_json(const metrics::ClassificationResult& r);  ///< {error, nll, ece, ece_equal_mass, brier, count}
nlohmann::json to_json(const ByMeasure<Rejection>& r);            ///< {measure: {auroc, prr}}
nlohmann::json to_json(const ByMeasure<Detection>& d);            ///< {measure: {auroc, aupr_in, aupr_out, fpr95}}
nlohmann::json to_json(const Fidelity& f);
nlohmann::json to_json(const MemberErrorSummary& e);
nlohmann::json to_json(const ModelRow& row);

}  // namespace endd::report
