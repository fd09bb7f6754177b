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

// The moment fit: its value written out member by member, and its optimum in
// m and kappa (any alpha > 1, beta) where the Normal-Gamma's variance of mu,
// beta / (kappa (alpha - 1)), is the members' spread and m their mean; in
// alpha and beta the Gamma's maximum-likelihood equations hold.
TEST(RegressionLossesTest, MomentFitPutsTheKnowledgeVarianceAtTheMembersSpread) {
  at::Tensor mu = at::tensor({-1.0, 0.5, 2.0, 0.1}, at::kDouble).view({1, 4});
  at::Tensor tau = at::tensor({0.5, 4.0, 1.0, 9.0}, at::kDouble).view({1, 4});
  const double mean = mu.mean().item<double>(), spread = (mu - mean).pow(2).mean().item<double>();
  const double alpha = 3.0, beta = 1.5;
  // By hand: Gamma NLL of each tau plus the Gaussian fit of the mu.
  auto by_hand = [&](double m, double kappa) {
    const double v = beta / (kappa * (alpha - 1));
    double gamma_nll = 0;
    for (int64_t k = 0; k < 4; ++k) {
      const double t = tau[0][k].item<double>();
      gamma_nll -= (alpha * std::log(beta) - std::lgamma(alpha) + (alpha - 1) * std::log(t) - beta * t) / 4;
    }
    return gamma_nll + 0.5 * (std::log(2 * M_PI * v) + (spread + (mean - m) * (mean - m)) / v);
  };
  auto loss_at = [&](double m, double kappa) {
    return endd::distill::normal_gamma_moment_loss(at::tensor({m}, at::kDouble), at::tensor({kappa}, at::kDouble),
                                                   at::tensor({alpha}, at::kDouble), at::tensor({beta}, at::kDouble),
                                                   mu, tau)
        .item<double>();
  };
  EXPECT_NEAR(loss_at(0.3, 2.0), by_hand(0.3, 2.0), 1e-12);
  const double best_kappa = beta / ((alpha - 1) * spread);
  at::Tensor m = at::tensor({mean}, at::kDouble).requires_grad_(), kappa = at::tensor({best_kappa}, at::kDouble).requires_grad_();
  endd::distill::normal_gamma_moment_loss(m, kappa, at::tensor({alpha}, at::kDouble), at::tensor({beta}, at::kDouble),
                                          mu, tau)
      .backward();
  EXPECT_NEAR(m.grad().item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(kappa.grad().item<double>(), 0.0, 1e-12);
  for (double dm : {-0.1, 0.1})
    for (double factor : {0.8, 1.25}) EXPECT_GT(loss_at(mean + dm, best_kappa * factor), loss_at(mean, best_kappa));
  // In beta (alpha fixed) the optimum is the Gamma's: beta = alpha / mean(tau).
  const double best_beta = alpha / tau.mean().item<double>();
  at::Tensor b = at::tensor({best_beta}, at::kDouble).requires_grad_();
  // kappa scaled with beta keeps v, so only the Gamma term moves beta.
  at::Tensor k = (b / ((alpha - 1) * spread)).detach();
  endd::distill::normal_gamma_moment_loss(at::tensor({mean}, at::kDouble), k, at::tensor({alpha}, at::kDouble), b, mu,
                                          tau)
      .backward();
  // d/dbeta at fixed kappa: Gamma term 0 at best_beta, mu term 1/(2 beta) (1 - S / v) = 0 at v = S.
  EXPECT_NEAR(b.grad().item<double>(), 0.0, 1e-12);
}
