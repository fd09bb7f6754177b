// Regression distillation losses: each against its formula written out member
// by member, gradients against central finite differences, and EnD's optimum
// at the mixture's moments.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "endd/core/seeding.h"
#include "endd/distill/regression_losses.h"

namespace {

// ln NG(mu, tau | m, kappa, alpha, beta), term by term (MATH.md section 6).
double log_normal_gamma(double mu, double tau, double m, double kappa, double alpha, double beta) {
  return 0.5 * std::log(kappa) + 0.5 * std::log(tau) - 0.5 * std::log(2 * M_PI) - 0.5 * kappa * tau * (mu - m) * (mu - m) +
         alpha * std::log(beta) - std::lgamma(alpha) + (alpha - 1) * std::log(tau) - beta * tau;
}

}  // namespace

TEST(RegressionLossesTest, NormalGammaNllMatchesTheDensityAndItsGradient) {
  at::Generator g = endd::cpu_generator(2);
  const int64_t B = 4, M = 5;
  at::Tensor mu = at::randn({B, M}, g, at::kDouble), tau = at::rand({B, M}, g, at::kDouble) * 3 + 0.2;
  at::Tensor m = at::randn({B}, g, at::kDouble), kappa = at::rand({B}, g, at::kDouble) + 0.5;
  at::Tensor alpha = at::rand({B}, g, at::kDouble) * 4 + 1.5, beta = at::rand({B}, g, at::kDouble) + 0.3;
  double direct = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < M; ++k)
      direct -= log_normal_gamma(mu[b][k].item<double>(), tau[b][k].item<double>(), m[b].item<double>(),
                                 kappa[b].item<double>(), alpha[b].item<double>(), beta[b].item<double>());
  direct /= double(B * M);
  EXPECT_NEAR(endd::distill::normal_gamma_nll(m, kappa, alpha, beta, mu, tau).item<double>(), direct, 1e-12);

  std::vector<at::Tensor> params{m.clone().requires_grad_(), kappa.clone().requires_grad_(),
                                 alpha.clone().requires_grad_(), beta.clone().requires_grad_()};
  at::Tensor loss = endd::distill::normal_gamma_nll(params[0], params[1], params[2], params[3], mu, tau);
  loss.backward();
  for (size_t p = 0; p < params.size(); ++p)
    for (int64_t b = 0; b < B; ++b) {
      const double h = 1e-6;
      auto at_offset = [&](double d) {
        std::vector<at::Tensor> q;
        for (const auto& t : params) q.push_back(t.detach().clone());
        q[p][b] += d;
        return endd::distill::normal_gamma_nll(q[0], q[1], q[2], q[3], mu, tau).item<double>();
      };
      EXPECT_NEAR(params[p].grad()[b].item<double>(), (at_offset(h) - at_offset(-h)) / (2 * h), 1e-7) << "param " << p;
    }
}

TEST(RegressionLossesTest, EndIsMinimisedByTheMixturesMoments) {
  at::Tensor mu = at::tensor({-1.0, 0.5, 2.0}, at::kDouble).view({1, 3}), s2 = at::tensor({0.5, 1.0, 2.0}, at::kDouble).view({1, 3});
  const double mean = mu.mean().item<double>();
  const double var = s2.mean().item<double>() + (mu - mean).pow(2).mean().item<double>();
  at::Tensor a = at::tensor({mean}, at::kDouble).requires_grad_(), v = at::tensor({var}, at::kDouble).requires_grad_();
  at::Tensor loss = endd::distill::gaussian_end_loss(a, v, mu, s2);
  loss.backward();
  EXPECT_NEAR(a.grad().item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(v.grad().item<double>(), 0.0, 1e-12);
  // Anywhere else the loss is higher.
  for (double dm : {-0.1, 0.1})
    for (double dv : {-0.2, 0.2})
      EXPECT_GT(endd::distill::gaussian_end_loss(at::tensor({mean + dm}, at::kDouble), at::tensor({var + dv}, at::kDouble),
                                                 mu, s2).item<double>(),
                loss.item<double>());
}

TEST(RegressionLossesTest, GaussianNllHandExample) {
  // y = 3 under N(1, 4): 0.5 (ln(8 pi) + 1).
  EXPECT_NEAR(endd::distill::gaussian_nll(at::tensor({1.0}, at::kDouble), at::tensor({4.0}, at::kDouble),
                                          at::tensor({3.0}, at::kDouble)).item<double>(),
              0.5 * (std::log(8 * M_PI) + 1), 1e-14);
}
