#pragma once
// What every experiment evaluates and reports: per model, its measures on
// each evaluation set, and the results.json sections and markdown table
// built from them (shared/reference/results-schema.md).
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "endd/data/dataset.h"
#include "endd/uncertainty/measures.h"

namespace endd::experiments {

/// The sets every model of an experiment is evaluated on: the labelled test
/// set ("test") and the named OOD sets (inputs only).
struct EvaluationSets {
  data::Dataset test;
  std::vector<std::pair<std::string, at::Tensor>> ood;
  std::vector<std::string> ood_names() const;
  std::map<std::string, at::Tensor> all() const;  ///< "test" and each OOD set's inputs
};

/// Each member's test error (%) and which member is typical: the one with the
/// median error (the lower median; the lowest index among equals). Tables use
/// it as `single`, so the ensemble is compared with an ordinary network rather
/// than with whichever member happens to come first.
struct MemberErrors {
  std::vector<double> error;
  int64_t typical = 0;
  /// {"typical_member", "mean", "std", "min", "median", "max"}: the median is the typical member's error
  nlohmann::json to_json() const;
};
/// `logits` [N, M, K] of the members on the test set.
MemberErrors member_errors(const at::Tensor& logits, const at::Tensor& labels);

struct ModelTable {
  std::vector<std::string> order;  ///< models in report order (single, ensemble, end, ...)
  std::map<std::string, std::map<std::string, uncertainty::Measures>> measures;  ///< model -> set -> measures
  std::map<std::string, int64_t> members, parameters;
  std::map<std::string, double> train_seconds;
  nlohmann::json member_errors;  ///< MemberErrors::to_json(), reported as r["member_errors"]

  void add(const std::string& model, int64_t members, int64_t parameters, double seconds);
  /// The rows "single" (the typical member) and "ensemble" from the members'
  /// logits [N, M, K] per set ("test" among them, scored against
  /// `test_labels`); `seconds` trained all `parameters`.
  void add_ensemble(const std::map<std::string, at::Tensor>& member_logits, const at::Tensor& test_labels,
                    int64_t parameters, double seconds);
};

/// Fills r["member_errors"] (when set), r["models"], r["misclassification"], r["ood"][set] for each of
/// `ood_sets` and r["fidelity"] (every model but single/ensemble against
/// "ensemble", on "test" and each OOD set). In-domain set: "test".
void add_evaluation_sections(nlohmann::json& r, const ModelTable& t, const at::Tensor& test_labels,
                             const std::vector<std::string>& ood_sets, int bootstrap, uint64_t seed);

/// The results.md tables: per model error (CI), the paper's error where
/// r["paper"]["error"] has one, NLL, ECE, Brier, misclassification AUROC/PRR
/// by total uncertainty, OOD AUROC by knowledge uncertainty per set; then the
/// fidelity table.
std::string results_markdown(const nlohmann::json& r, const std::string& title, const ModelTable& t,
                             const std::vector<std::string>& ood_sets);

}  // namespace endd::experiments
