// Regression measures (MATH.md section 6) against independent computations:
// a fine Riemann sum and Monte Carlo for the Gaussian mixture, sampling the
// Normal-Gamma hierarchy for the prior network's closed forms.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "endd/core/seeding.h"
#include "endd/uncertainty/regression_measures.h"

using endd::uncertainty::RegressionMeasures;

namespace {

at::Tensor t(std::vector<std::vector<double>> rows) {
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return at::tensor(flat, at::kDouble).view({static_cast<int64_t>(rows.size()), -1});
}

// -integral p ln p over a grid wide enough for every component (Riemann sum).
double mixture_entropy_by_grid(const at::Tensor& mu, const at::Tensor& s2) {
  const double lo = (mu - 12 * at::sqrt(s2)).min().item<double>(), hi = (mu + 12 * at::sqrt(s2)).max().item<double>();
  const int64_t n = 400001;
  at::Tensor y = at::linspace(lo, hi, n, at::kDouble);
  at::Tensor log_p = endd::uncertainty::gaussian_mixture_log_density(mu.expand({n, mu.size(0)}),
                                                                    s2.expand({n, s2.size(0)}), y);
  return -(log_p.exp() * log_p).sum().item<double>() * (hi - lo) / double(n - 1);
}

}  // namespace

TEST(RegressionMeasuresTest, GaussLegendreIsExactForPolynomials) {
  auto [x, w] = endd::uncertainty::gauss_legendre(8);
  EXPECT_NEAR(w.sum().item<double>(), 2.0, 1e-13);
  EXPECT_NEAR((w * x.pow(2)).sum().item<double>(), 2.0 / 3.0, 1e-13);
  EXPECT_NEAR((w * x.pow(14)).sum().item<double>(), 2.0 / 15.0, 1e-13);  // degree 2n - 2
}

TEST(RegressionMeasuresTest, GaussianEnsembleAgainstGridAndMonteCarlo) {
  // Overlapping members, far-apart members, very different widths (a narrow
  // member inside a wide one), identical members.
  at::Tensor mu = t({{0.0, 0.5, -0.3}, {-20.0, 0.0, 20.0}, {1.0, 1.0, 4.0}, {2.0, 2.0, 2.0}, {0.0, 0.3, 0.0}});
  at::Tensor s2 = t({{1.0, 2.0, 0.5}, {1.0, 1.0, 1.0}, {0.01, 9.0, 0.25}, {3.0, 3.0, 3.0}, {1e-6, 1e-4, 100.0}});
  RegressionMeasures r = endd::uncertainty::gaussian_ensemble_measures(mu, s2);
  at::Generator g = endd::cpu_generator(11);
  const int64_t S = 1000000;
  for (int64_t i = 0; i < mu.size(0); ++i) {
    const double total = mixture_entropy_by_grid(mu[i], s2[i]);
    EXPECT_NEAR(r.total[i].item<double>(), total, 1e-6) << "input " << i;
    // Monte Carlo: a member drawn uniformly, then y from it.
    at::Tensor member = at::randint(mu.size(1), {S}, g, at::kLong);
    at::Tensor y = mu[i].index_select(0, member) + at::sqrt(s2[i].index_select(0, member)) * at::randn({S}, g, at::kDouble);
    at::Tensor log_p = endd::uncertainty::gaussian_mixture_log_density(mu[i].expand({S, mu.size(1)}),
                                                                      s2[i].expand({S, mu.size(1)}), y);
    const double se = log_p.std().item<double>() / std::sqrt(double(S));
    EXPECT_NEAR(r.total[i].item<double>(), -log_p.mean().item<double>(), 5 * se + 1e-12) << "input " << i;
    EXPECT_NEAR(r.total_variance[i].item<double>(), y.var().item<double>(), 0.01 * y.var().item<double>());
    EXPECT_NEAR(r.prediction[i].item<double>(), y.mean().item<double>(), 5 * y.std().item<double>() / std::sqrt(double(S)));
    double data = 0;
    for (int64_t m = 0; m < mu.size(1); ++m) data += 0.5 * std::log(2 * M_PI * M_E * s2[i][m].item<double>()) / 3.0;
    EXPECT_NEAR(r.data[i].item<double>(), data, 1e-12);
    EXPECT_NEAR(r.knowledge[i].item<double>(), total - data, 1e-6);
  }
  // Identical members: no knowledge uncertainty, in either form.
  EXPECT_NEAR(r.knowledge_variance[3].item<double>(), 0.0, 1e-15);
  EXPECT_NEAR(r.knowledge[3].item<double>(), 0.0, 1e-9);
  // Far apart: knowledge entropy near ln 3 (three separate modes), variance 800/3.
  EXPECT_NEAR(r.knowledge[1].item<double>(), std::log(3.0), 1e-6);
  EXPECT_NEAR(r.knowledge_variance[1].item<double>(), 800.0 / 3.0, 1e-9);
}

TEST(RegressionMeasuresTest, NormalGammaClosedFormsAgainstSampling) {
  at::Tensor m = at::tensor({0.5, -3.0}, at::kDouble), kappa = at::tensor({2.0, 0.3}, at::kDouble);
  at::Tensor alpha = at::tensor({3.0, 6.5}, at::kDouble), beta = at::tensor({1.5, 0.2}, at::kDouble);
  RegressionMeasures r = endd::uncertainty::normal_gamma_measures(m, kappa, alpha, beta);
  at::Generator g = endd::cpu_generator(5);
  const int64_t S = 2000000;
  for (int64_t i = 0; i < 2; ++i) {
    const double a = alpha[i].item<double>(), b = beta[i].item<double>(), k = kappa[i].item<double>();
    at::Tensor tau = at::_standard_gamma(at::full({S}, a, at::kDouble), g) / b;  // rate b
    at::Tensor mu = m[i].item<double>() + at::randn({S}, g, at::kDouble) / at::sqrt(k * tau);
    at::Tensor y = mu + at::randn({S}, g, at::kDouble) / at::sqrt(tau);
    EXPECT_NEAR(r.data_variance[i].item<double>(), (1 / tau).mean().item<double>(), 0.01 * r.data_variance[i].item<double>());
    EXPECT_NEAR(r.knowledge_variance[i].item<double>(), mu.var().item<double>(), 0.02 * r.knowledge_variance[i].item<double>());
    EXPECT_NEAR(r.total_variance[i].item<double>(), y.var().item<double>(), 0.02 * r.total_variance[i].item<double>());
    at::Tensor data_entropy = 0.5 * at::log(2 * M_PI * M_E / tau);
    EXPECT_NEAR(r.data[i].item<double>(), data_entropy.mean().item<double>(),
                5 * data_entropy.std().item<double>() / std::sqrt(double(S)));
    // Total entropy: -E[ln t(y)] over the samples, the Student-t density written out.
    const double nu = 2 * a, scale2 = b * (k + 1) / (a * k);
    at::Tensor z2 = (y - m[i].item<double>()).pow(2) / scale2;
    at::Tensor log_t = std::lgamma((nu + 1) / 2) - std::lgamma(nu / 2) - 0.5 * std::log(nu * M_PI * scale2) -
                       (nu + 1) / 2 * at::log1p(z2 / nu);
    EXPECT_NEAR(r.total[i].item<double>(), -log_t.mean().item<double>(), 5 * log_t.std().item<double>() / std::sqrt(double(S)));
    EXPECT_GT(r.knowledge[i].item<double>(), 0.0);
  }
  EXPECT_THROW(endd::uncertainty::normal_gamma_measures(m, kappa, at::tensor({1.0, 2.0}, at::kDouble), beta),
               std::exception);
}

TEST(RegressionMeasuresTest, StudentTPredictiveDensityAndCdf) {
  // m 1, kappa 2, alpha 1.5 (nu 3), beta 0.75: scale^2 = 0.75 * 3 / 3 = 0.75.
  at::Tensor m = at::tensor({1.0}, at::kDouble), kappa = at::tensor({2.0}, at::kDouble);
  at::Tensor alpha = at::tensor({1.5}, at::kDouble), beta = at::tensor({0.75}, at::kDouble);
  // The density integrates to the CDF: a fine Riemann sum from far below.
  const int64_t n = 2000001;
  at::Tensor y = at::linspace(-2000.0, 3.0, n, at::kDouble);
  at::Tensor p = endd::uncertainty::normal_gamma_log_predictive(m.expand({n}), kappa.expand({n}), alpha.expand({n}),
                                                                beta.expand({n}), y).exp();
  const double dy = 2003.0 / double(n - 1);
  const double integral = ((p.sum() - 0.5 * (p[0] + p[n - 1])) * dy).item<double>();
  const double cdf = endd::uncertainty::normal_gamma_predictive_cdf(m, kappa, alpha, beta, at::tensor({3.0}, at::kDouble))
                         .item<double>();
  EXPECT_NEAR(cdf, integral, 2e-6);  // the tail below -2000 holds ~1e-10
  // Symmetric about m; 1/2 at m; t_3's 0.975 quantile 3.182446305284263 gives 0.975.
  EXPECT_NEAR(endd::uncertainty::normal_gamma_predictive_cdf(m, kappa, alpha, beta, m).item<double>(), 0.5, 1e-15);
  const double q = 1.0 + 3.182446305284263 * std::sqrt(0.75);
  EXPECT_NEAR(endd::uncertainty::normal_gamma_predictive_cdf(m, kappa, alpha, beta, at::tensor({q}, at::kDouble)).item<double>(),
              0.975, 1e-12);
}
