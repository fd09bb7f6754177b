#pragma once
// The figures of a regression model's evaluation, each a PNG with its CSV.
#include <ATen/core/Tensor.h>

#include <string>

#include "endd/uncertainty/regression_predictive.h"

namespace endd::report {

/// coverage.{csv,png}: the share of targets inside the predictive's central
/// interval of probability p, for p = 0, 0.05, ..., 1, against p.
void write_coverage_figure(const std::string& dir, const uncertainty::RegressionPredictive& p, bool quiet);

/// rejection.{csv,png}: mean squared error over the whole set (a rejected
/// prediction counts 0) against the fraction rejected, rejecting by total
/// and by knowledge variance, with the oracle (largest errors first) and
/// random (a straight line) curves; PRR in the legend.
void write_squared_error_rejection_figure(const std::string& dir, const uncertainty::RegressionPredictive& p,
                                          const at::Tensor& targets, bool quiet);

}  // namespace endd::report
