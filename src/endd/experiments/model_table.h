#pragma once
// What every experiment evaluates: per model, its measures on each
// evaluation set, and the typed results built from them
// (report/classification_results.h).
#include <ATen/core/Tensor.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "endd/data/dataset.h"
#include "endd/report/classification_results.h"
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
  /// The median is the typical member's error.
  report::MemberErrorSummary summary() const;
};
/// `logits` [N, M, K] of the members on the test set.
MemberErrors member_errors(const at::Tensor& logits, const at::Tensor& labels);

struct ModelTable {
  std::vector<std::string> order;  ///< models in report order (single, ensemble, end, ...)
  std::map<std::string, std::map<std::string, uncertainty::Measures>> measures;  ///< model -> set -> measures
  std::map<std::string, int64_t> members, parameters;
  std::map<std::string, double> train_seconds;
  std::optional<report::MemberErrorSummary> member_errors;  ///< when the table has an ensemble

  void add(const std::string& model, int64_t members, int64_t parameters, double seconds);
  /// The rows "single" (the typical member) and "ensemble" from the members'
  /// logits [N, M, K] per set ("test" among them, scored against
  /// `test_labels`); `seconds` trained all `parameters`.
  void add_ensemble(const std::map<std::string, at::Tensor>& member_logits, const at::Tensor& test_labels,
                    int64_t parameters, double seconds);

  /// Every model's results on "test" (against `test_labels`; the error's
  /// bootstrap interval from `bootstrap` resamples of `seed`'s stream) and on
  /// each of `ood_sets`; the fidelity of every model but single and ensemble
  /// to "ensemble" on each set.
  report::ClassificationResults evaluate(const at::Tensor& test_labels, const std::vector<std::string>& ood_sets,
                                         int bootstrap, uint64_t seed) const;
};

}  // namespace endd::experiments
