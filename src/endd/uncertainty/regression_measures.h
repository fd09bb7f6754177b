#pragma once
// Per-input uncertainty of a regression model (MATH.md section 6): an
// ensemble of Gaussians (members' means and variances [N, M]) or a
// Normal-Gamma prior network (m, kappa, alpha, beta [N]). Everything is
// computed in float64; results are float64 CPU tensors of shape [N].
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace endd::uncertainty {

struct RegressionMeasures {
  at::Tensor prediction;  ///< the predictive's mean
  /// Variance form, exact: total = data + knowledge (law of total variance).
  at::Tensor total_variance, data_variance, knowledge_variance;
  /// Entropy form, nats: total = differential entropy of the predictive,
  /// data = expected entropy of the data distribution, knowledge = total -
  /// data (the mutual information), >= 0.
  at::Tensor total, data, knowledge;
  int64_t size() const { return prediction.size(0); }
};

/// An ensemble of M Gaussians N(mu_m, s2_m) (means, variances [N, M], all
/// variances > 0). Knowledge variance divides by M. The mixture's entropy has
/// no closed form; it is -integral p ln p by composite Gauss-Legendre
/// quadrature: 12 nodes on each interval between the sorted points mu_m +
/// {0, +-0.5, +-1, +-2, +-3, +-4, +-6, +-10} sd_m of every member, so that
/// every member is resolved on its own scale however different the widths
/// (deterministic; within 1e-6 of a fine Riemann sum in the tests; exact
/// formula for M = 1). The mutual information is clamped at 0.
RegressionMeasures gaussian_ensemble_measures(const at::Tensor& means, const at::Tensor& variances);

/// A Normal-Gamma prior network NG(mu, tau | m, kappa, alpha, beta) (shape-rate;
/// kappa, beta > 0, alpha > 1), all [N]: predictive Student-t with nu = 2 alpha.
RegressionMeasures normal_gamma_measures(const at::Tensor& m, const at::Tensor& kappa, const at::Tensor& alpha,
                                         const at::Tensor& beta);

/// ln p(y) of the Gaussian mixture (log-sum-exp), [N].
at::Tensor gaussian_mixture_log_density(const at::Tensor& means, const at::Tensor& variances, const at::Tensor& y);
/// P(Y <= y) under the Gaussian mixture, [N] (the probability integral transform).
at::Tensor gaussian_mixture_cdf(const at::Tensor& means, const at::Tensor& variances, const at::Tensor& y);

/// The Normal-Gamma's predictive Student-t (nu = 2 alpha, location m,
/// scale^2 = beta (kappa + 1) / (alpha kappa)): ln p(y) and P(Y <= y), [N].
at::Tensor normal_gamma_log_predictive(const at::Tensor& m, const at::Tensor& kappa, const at::Tensor& alpha,
                                       const at::Tensor& beta, const at::Tensor& y);
at::Tensor normal_gamma_predictive_cdf(const at::Tensor& m, const at::Tensor& kappa, const at::Tensor& alpha,
                                       const at::Tensor& beta, const at::Tensor& y);

/// Nodes x_i and weights w_i with sum_i w_i f(x_i) ~ integral_{-1}^{1} f(x) dx
/// (Golub-Welsch), float64 [n] each.
std::pair<at::Tensor, at::Tensor> gauss_legendre(int64_t n);

}  // namespace endd::uncertainty
