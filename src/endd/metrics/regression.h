#pragma once
// Regression metrics (MATH.md sections 4 and 6) of a model's predictive
// distribution on labelled data: RMSE, NLL, central-interval coverage and its
// calibration error, and prediction rejection with the squared error.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace endd::metrics {

struct RegressionResult {
  int64_t count = 0;
  double rmse = 0;
  double nll = 0;  ///< mean -ln p(y) under the model's own predictive
  /// % of targets inside the predictive's central interval of probability p.
  double coverage_50 = 0, coverage_90 = 0, coverage_95 = 0;
  /// mean over p = 0.05, 0.10, ..., 0.95 of |coverage(p) - p|, in % points.
  double calibration_error = 0;
};

/// prediction: the predictive mean [N]; log_likelihood: ln p(y_i) [N];
/// pit: P(Y <= y_i) under the predictive [N] (the probability integral
/// transform; y_i lies in the central p-interval iff |pit - 1/2| <= p/2).
RegressionResult regression_metrics(const at::Tensor& prediction, const at::Tensor& log_likelihood,
                                    const at::Tensor& pit, const at::Tensor& targets);

/// mean over p = 0.05, 0.10, ..., 0.95 of |central_coverage(pit, p) - 100 p|, % points (NaN without values).
double coverage_calibration_error(const at::Tensor& pit);

/// % of PIT values inside the central interval of probability p.
double central_coverage(const at::Tensor& pit, double p);

/// Prediction rejection with a continuous loss (MATH.md section 4 with the
/// squared error in place of the 0/1 error): rejecting a prediction sets its
/// loss to 0; the oracle rejects the largest losses first. PRR in %, NaN when
/// every loss is 0. `base` is the mean loss with nothing rejected.
struct LossRejection {
  double prr = 0, base = 0;
};
LossRejection loss_rejection(const std::vector<double>& uncertainty, const std::vector<double>& loss);

}  // namespace endd::metrics
