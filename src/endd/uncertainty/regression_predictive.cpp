#include "endd/uncertainty/regression_predictive.h"

#include <ATen/ATen.h>

namespace endd::uncertainty {

RegressionPredictive gaussian_predictive(const at::Tensor& means, const at::Tensor& variances,
                                         const at::Tensor& targets) {
  RegressionPredictive p{gaussian_ensemble_measures(means, variances), {}, {}};
  if (targets.defined()) {
    at::Tensor y = targets.to(at::kDouble);
    p.log_likelihood = gaussian_mixture_log_density(means, variances, y);
    p.pit = gaussian_mixture_cdf(means, variances, y);
  }
  return p;
}

RegressionPredictive normal_gamma_predictive(const NormalGammaParams& g, const at::Tensor& targets) {
  RegressionPredictive p{normal_gamma_measures(g.m, g.kappa, g.alpha, g.beta), {}, {}};
  if (targets.defined()) {
    at::Tensor y = targets.to(at::kDouble);
    p.log_likelihood = normal_gamma_log_predictive(g.m, g.kappa, g.alpha, g.beta, y);
    p.pit = normal_gamma_predictive_cdf(g.m, g.kappa, g.alpha, g.beta, y);
  }
  return p;
}

}  // namespace endd::uncertainty
