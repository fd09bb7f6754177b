#pragma once
// The results of evaluating regression models, typed (docs/results-json.md,
// regression keys): per model its metrics, prediction rejection by squared
// error and OOD detection, built once from per-input measures and targets,
// then written as results.json sections.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "endd/metrics/regression.h"
#include "endd/report/classification_results.h"
#include "endd/report/results.h"
#include "endd/uncertainty/regression_measures.h"
#include "endd/uncertainty/regression_predictive.h"

namespace endd::report {

/// total_variance, data_variance, knowledge_variance, total, data, knowledge.
NamedScores regression_scores(const uncertainty::RegressionMeasures& m);

/// The metrics of a predictive with its targets' log densities and PITs.
metrics::RegressionResult regression_metrics(const uncertainty::RegressionPredictive& p, const at::Tensor& targets);

/// Per measure, the PRR of rejecting the most uncertain predictions, by squared error.
ByMeasure<double> squared_error_rejection(const uncertainty::RegressionMeasures& m, const at::Tensor& targets);

/// results.json models.<name> of a regression model.
struct RegressionRow {
  metrics::RegressionResult test;  ///< rmse, nll, coverage_50/90/95, calibration_error, count
  std::optional<int64_t> members, parameters;
};

struct RegressionResults {
  std::vector<std::string> order;  ///< the models in table order
  std::map<std::string, RegressionRow> models;
  std::map<std::string, ByMeasure<double>> rejection;  ///< per model: measure -> PRR
  /// set -> model -> detection by each measure; absent when nothing was
  /// evaluated out of domain (the experiments), empty for no OOD sets.
  std::optional<std::map<std::string, std::map<std::string, ByMeasure<Detection>>>> ood;

  /// Sets `document`'s sections models, rejection and (when known) ood.
  void write_sections(nlohmann::json& document) const;
};

/// {rmse, nll, coverage_50, coverage_90, coverage_95, calibration_error, count}.
nlohmann::json to_json(const metrics::RegressionResult& r);
nlohmann::json to_json(const RegressionRow& row);
nlohmann::json rejection_json(const ByMeasure<double>& prr);  ///< {measure: {prr}}

/// One row per input: prediction,total_variance,data_variance,knowledge_variance,total,data,knowledge
/// (`endd uncertainty --gaussian` and `endd predict` on regression runs).
void write_regression_measures_csv(const std::string& path, const uncertainty::RegressionMeasures& m);

}  // namespace endd::report
