#pragma once
// A regression model's predictive distribution on a set of inputs: its
// measures (regression_measures.h) and, where targets are given, the log
// density and the probability integral transform of each target, from which
// metrics/regression.h scores it. Float64 CPU tensors [N].
#include <ATen/core/Tensor.h>

#include "endd/uncertainty/regression_measures.h"

namespace endd::uncertainty {

struct RegressionPredictive {
  RegressionMeasures measures;
  at::Tensor log_likelihood, pit;  ///< undefined without targets
};

/// The parameters of a Normal-Gamma prior network's outputs (shape-rate), [N] each.
struct NormalGammaParams {
  at::Tensor m, kappa, alpha, beta;
};

/// An ensemble of Gaussians (means, variances [N, M]; M = 1 for one network).
RegressionPredictive gaussian_predictive(const at::Tensor& means, const at::Tensor& variances,
                                         const at::Tensor& targets = {});

/// A Normal-Gamma prior network (its predictive is a Student-t).
RegressionPredictive normal_gamma_predictive(const NormalGammaParams& p, const at::Tensor& targets = {});

}  // namespace endd::uncertainty
