#pragma once
// A regression network's outputs in the user's units. Networks learn
// standardised targets (y - mean) / sd; their Gaussians and Normal-Gammas are
// mapped back here: means by sd and mean, variances by sd^2, the Gamma's rate
// beta by sd^2 (tau scales by 1 / sd^2; kappa and alpha are unit-free).
#include <ATen/core/Tensor.h>

#include "endd/models/ensemble_net.h"
#include "endd/models/regression_heads.h"
#include "endd/uncertainty/regression_predictive.h"

namespace endd::models {

/// The training targets' mean and standard deviation (sd 1 for a constant
/// target, scikit-learn's convention for a zero-variance feature).
struct TargetScale {
  double mean = 0, sd = 1;
  static TargetScale fit(const at::Tensor& targets);
  at::Tensor standardise(const at::Tensor& targets) const { return (targets - mean) / sd; }
};

/// Each member's Gaussian on inputs x (as the network takes them), float64
/// CPU [N, M] means and variances, in `batch`-row passes without gradients.
struct MemberGaussians {
  at::Tensor means, variances;
};
MemberGaussians member_gaussians(EnsembleNet& net, const at::Tensor& x, const TargetScale& scale,
                                 int64_t batch = 4096);

/// A one-network Normal-Gamma prior network's parameters on x, float64 CPU [N].
uncertainty::NormalGammaParams normal_gamma_outputs(EnsembleNet& net, const at::Tensor& x, const TargetScale& scale,
                                                    PositiveLink link, int64_t batch = 4096);

}  // namespace endd::models
