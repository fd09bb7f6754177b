#pragma once
// The results.json sections of a regression model (docs/results-json.md):
// its metrics, prediction rejection by squared error and OOD detection, from
// per-input measures and targets.
#include "endd/metrics/regression.h"
#include "endd/report/results.h"
#include "endd/uncertainty/regression_measures.h"
#include "endd/uncertainty/regression_predictive.h"

namespace endd::report {

/// total_variance, data_variance, knowledge_variance, total, data, knowledge.
NamedScores regression_scores(const uncertainty::RegressionMeasures& m);

/// {rmse, nll, coverage_50, coverage_90, coverage_95, calibration_error, count}.
json regression_json(const metrics::RegressionResult& r);

/// One row per input: prediction,total_variance,data_variance,knowledge_variance,total,data,knowledge
/// (`endd uncertainty --gaussian` and `endd predict` on regression runs).
void write_regression_measures_csv(const std::string& path, const uncertainty::RegressionMeasures& m);

/// The same, of a predictive with its targets' log densities and PITs.
json regression_json(const uncertainty::RegressionPredictive& p, const at::Tensor& targets);

/// {measure: {prr}}: rejecting the most uncertain predictions, by squared error.
json squared_error_rejection_json(const uncertainty::RegressionMeasures& m, const at::Tensor& targets);

}  // namespace endd::report
