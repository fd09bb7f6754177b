#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/variable.h>

#include <cmath>
#include <functional>
#include <string>

#include "endd/distill/losses.h"
#include "endd/distill/teacher_statistics.h"

using namespace endd::distill;

namespace {
// Direct Dirichlet log-density ln Dir(pi | alpha), written from its definition.
double log_dirichlet(const std::vector<double>& pi, const std::vector<double>& alpha) {
  double a0 = 0, out = 0;
  for (size_t c = 0; c < pi.size(); ++c) {
    a0 += alpha[c];
    out += (alpha[c] - 1) * std::log(pi[c]) - std::lgamma(alpha[c]);
  }
  return out + std::lgamma(a0);
}
}  // namespace

TEST(EnD2LossTest, EqualsAverageDirichletNllOfMembers) {
  at::manual_seed(1);
  const int64_t B = 5, M = 4, K = 3;
  at::Tensor teacher = at::randn({B, M, K}, at::kDouble) * 2;
  at::Tensor student = at::randn({B, K}, at::kDouble);
  for (double T : {1.0, 2.5}) {
    for (double eps : {0.0, 1e-3}) {
      double expected = 0;
      for (int64_t i = 0; i < B; ++i) {
        std::vector<double> alpha(K);
        for (int64_t c = 0; c < K; ++c) alpha[c] = std::exp(student[i][c].item<double>() / T);
        for (int64_t m = 0; m < M; ++m) {
          at::Tensor p = at::softmax(teacher[i][m] / T, -1);
          std::vector<double> pi(K);
          for (int64_t c = 0; c < K; ++c) pi[c] = (1 - eps) * p[c].item<double>() + eps / K;
          expected -= log_dirichlet(pi, alpha) / double(M * B);
        }
      }
      expected *= T * T;
      at::Tensor loss = end2_loss(student, teacher_mean_log_probs(teacher, T, eps), T);
      EXPECT_NEAR(loss.item<double>(), expected, 1e-10) << "T " << T << " eps " << eps;
    }
  }
}

TEST(EnD2LossTest, GradientMatchesFiniteDifferencesAndClosedForm) {
  at::manual_seed(2);
  const int64_t B = 3, M = 6, K = 4;
  const double T = 2.0;
  at::Tensor teacher = at::randn({B, M, K}, at::kDouble);
  at::Tensor stat = teacher_mean_log_probs(teacher, T, 1e-4);
  at::Tensor z = at::randn({B, K}, at::kDouble).requires_grad_(true);
  at::Tensor loss = end2_loss(z, stat, T);
  loss.backward();
  at::Tensor grad = z.grad();
  const double h = 1e-6;
  for (int64_t i = 0; i < B; ++i) {
    for (int64_t c = 0; c < K; ++c) {
      at::Tensor zp = z.detach().clone(), zm = z.detach().clone();
      zp.index_put_({i, c}, zp[i][c].item<double>() + h);
      zm.index_put_({i, c}, zm[i][c].item<double>() - h);
      double fd = (end2_loss(zp, stat, T).item<double>() - end2_loss(zm, stat, T).item<double>()) / (2 * h);
      EXPECT_NEAR(grad[i][c].item<double>(), fd, 1e-6);
      // MATH.md: dL/dz_c = (alpha_c / T)[psi(alpha_c) - psi(alpha_0) - stat_c] * T^2 / B.
      at::Tensor alpha = (z.detach()[i] / T).exp();
      double closed = (alpha[c].item<double>() / T) *
                      (at::digamma(alpha[c]).item<double>() - at::digamma(alpha.sum()).item<double>() -
                       stat[i][c].item<double>()) * T * T / B;
      EXPECT_NEAR(grad[i][c].item<double>(), closed, 1e-9);
    }
  }
}

TEST(EnDLossTest, IsTemperatureScaledCrossEntropyToTheMean) {
  at::Tensor teacher = at::tensor({0.0, 1.0, 2.0, 2.0, 1.0, 0.0}, at::kDouble).view({1, 2, 3});
  at::Tensor z = at::tensor({0.5, -0.5, 1.0}, at::kDouble).view({1, 3});
  const double T = 3.0;
  at::Tensor pbar = (at::softmax(teacher[0][0] / T, -1) + at::softmax(teacher[0][1] / T, -1)) / 2;
  double expected = -(pbar * at::log_softmax(z[0] / T, -1)).sum().item<double>() * T * T;
  EXPECT_NEAR(end_loss(z, teacher_mean_probs(teacher, T), T).item<double>(), expected, 1e-12);
}

TEST(EnD2LossTest, FiniteForNearOneHotTeachersAndManyClasses) {
  // Members that put 1 - 1e-12 on one class (logit gap ~ 28 + ln K), K = 1000.
  const int64_t K = 1000;
  at::Tensor teacher = at::zeros({2, 3, K}, at::kDouble);
  teacher.index_put_({at::indexing::Slice(), at::indexing::Slice(), 0}, 28.0 + std::log(double(K)));
  at::Tensor z = (at::randn({2, K}, at::kDouble) * 5).requires_grad_(true);
  for (bool f64 : {false, true}) {
    at::Tensor loss = end2_loss(f64 ? z : z.to(at::kFloat), teacher_mean_log_probs(teacher, 1.0, 1e-4), 1.0, f64);
    loss.backward();
    EXPECT_TRUE(std::isfinite(loss.item<double>()));
    EXPECT_TRUE(z.grad().isfinite().all().item<bool>());
    z.grad().zero_();
  }
}

TEST(EnD2LossTest, FiniteAfterTheTemperatureFallsOnAnOvergrownPrecision) {
  // Members that agree closely at T = 10 let z / T climb to ~10; at T = 1 the
  // same logits mean alpha = exp(100 .. 1000): beyond float32, or float64.
  at::Tensor teacher = at::randn({4, 3, 5}, at::kDouble) * 0.01;
  for (double scale : {100.0, 1000.0}) {
    at::Tensor z = (at::rand({4, 5}, at::kFloat) * scale).requires_grad_(true);
    for (bool f64 : {false, true}) {
      at::Tensor loss = end2_loss(z, teacher_mean_log_probs(teacher, 1.0, 1e-4), 1.0, f64);
      loss.backward();
      EXPECT_TRUE(std::isfinite(loss.item<double>())) << scale << " " << f64;
      EXPECT_TRUE(z.grad().isfinite().all().item<bool>()) << scale << " " << f64;
      z.grad().zero_();
    }
  }
}

TEST(TeacherStatisticsTest, SmoothingIsExactForTinyProbabilities) {
  // ln((1 - eps) p + eps / K) with p = e^-200: the floor eps / K dominates.
  at::Tensor teacher = at::tensor({0.0, -200.0}, at::kDouble).view({1, 1, 2});
  double eps = 1e-3;
  at::Tensor stat = teacher_mean_log_probs(teacher, 1.0, eps);
  EXPECT_NEAR(stat[0][1].item<double>(), std::log(eps / 2), 1e-12);
  EXPECT_NEAR(stat[0][0].item<double>(), std::log((1 - eps) + eps / 2), 1e-12);
}

TEST(TeacherStatisticsTest, MatchTheDefiningFormulasAtEveryScale) {
  // Reference: the definitions as ATen chains in float64 (log-sum-exp and
  // logaddexp for the smoothing), on logits from mild to one-hot, K 3 and 1000,
  // smoothing from none to strong.
  at::manual_seed(4);
  for (int64_t K : {3, 1000}) {
    for (double scale : {1.0, 30.0, 400.0}) {
      // 50 members: more than one chunk of members per logarithm.
      at::Tensor teacher = at::randn({5, K == 3 ? 50 : 7, K}, at::kDouble) * scale;
      for (double T : {1.0, 2.5}) {
        at::Tensor log_p = at::log_softmax(teacher / T, -1);
        at::Tensor mean_p = at::softmax(teacher / T, -1).mean(1);
        EXPECT_TRUE(at::allclose(teacher_mean_probs(teacher, T), mean_p, 1e-12, 1e-15)) << K << " " << scale;
        EXPECT_TRUE(at::allclose(teacher_mean_probs(teacher.to(at::kFloat), T),
                                 at::softmax(teacher.to(at::kFloat).to(at::kDouble) / T, -1).mean(1), 1e-12, 1e-15));
        for (double eps : {0.0, 1e-12, 1e-6, 1e-3}) {
          at::Tensor expected = eps == 0 ? log_p.mean(1)
                                         : at::logaddexp(log_p + std::log1p(-eps),
                                                         at::full_like(log_p, std::log(eps / double(K))))
                                               .mean(1);
          at::Tensor got = teacher_mean_log_probs(teacher, T, eps);
          EXPECT_TRUE(at::allclose(got, expected, 1e-12, 1e-12))
              << "K " << K << " scale " << scale << " T " << T << " eps " << eps << " max diff "
              << (got - expected).abs().max().item<double>();
        }
      }
    }
  }
}

namespace {
// KL(Dir(alpha) || Dir(beta)) by Monte Carlo: the mean of ln Dir(pi | alpha) -
// ln Dir(pi | beta) over pi ~ Dir(alpha) (normalised Gamma draws).
double monte_carlo_dirichlet_kl(const std::vector<double>& alpha, const std::vector<double>& beta, int n) {
  const int64_t K = static_cast<int64_t>(alpha.size());
  at::Tensor a = at::tensor(alpha, at::kDouble).expand({n, K}).contiguous();
  at::Generator g = at::detail::createCPUGenerator(17);
  at::Tensor gam = at::_standard_gamma(a, g);
  at::Tensor pi = gam / gam.sum(-1, true);
  double total = 0;
  auto acc = pi.accessor<double, 2>();
  for (int i = 0; i < n; ++i) {
    std::vector<double> p(acc[i].data(), acc[i].data() + K);
    total += log_dirichlet(p, alpha) - log_dirichlet(p, beta);
  }
  return total / n;
}
}  // namespace

TEST(EnD2ProxyLossTest, IsTheDirichletKlCheckedByMonteCarlo) {
  const std::vector<double> alpha{2, 0.7, 5, 1.3}, beta{3, 1.5, 2.5, 0.9};
  at::Tensor z = at::log(at::tensor(alpha, at::kDouble)).view({1, 4});
  at::Tensor b = at::tensor(beta, at::kDouble).view({1, 4});
  const double kl = end2_proxy_loss(z, b, 1.0).item<double>();
  EXPECT_NEAR(kl, monte_carlo_dirichlet_kl(alpha, beta, 400000), 0.01);
  EXPECT_GT(kl, 0.1);
  // At temperature T the student is exp(z / T) and the loss is scaled by T^2.
  EXPECT_NEAR(end2_proxy_loss(z * 2, b, 2.0).item<double>(), 4 * kl, 1e-10);
  // Zero where the student is the target.
  EXPECT_NEAR(end2_proxy_loss(at::log(b), b, 1.0).item<double>(), 0, 1e-12);
}

TEST(EnD2ProxyLossTest, GradientMatchesFiniteDifferences) {
  at::manual_seed(8);
  const int64_t B = 3, K = 5;
  const double T = 1.5;
  at::Tensor beta = at::rand({B, K}, at::kDouble) * 20 + 0.05;
  at::Tensor z = (at::randn({B, K}, at::kDouble) * 2).requires_grad_(true);
  end2_proxy_loss(z, beta, T).backward();
  const double h = 1e-6;
  for (int64_t i = 0; i < B; ++i)
    for (int64_t c = 0; c < K; ++c) {
      at::Tensor zp = z.detach().clone(), zm = z.detach().clone();
      zp.index_put_({i, c}, zp[i][c].item<double>() + h);
      zm.index_put_({i, c}, zm[i][c].item<double>() - h);
      double fd = (end2_proxy_loss(zp, beta, T).item<double>() - end2_proxy_loss(zm, beta, T).item<double>()) / (2 * h);
      EXPECT_NEAR(z.grad()[i][c].item<double>(), fd, 1e-5 * std::max(1.0, std::abs(fd)));
    }
}

TEST(TeacherStatisticsTest, ProxyDirichletTargetByHand) {
  // Two members on three classes; the formulas written out for one input.
  const std::vector<std::vector<double>> p{{0.7, 0.2, 0.1}, {0.5, 0.3, 0.2}};
  at::Tensor logits = at::log(at::tensor({0.7, 0.2, 0.1, 0.5, 0.3, 0.2}, at::kDouble)).view({1, 2, 3});
  double mkl = 0;
  std::vector<double> pbar(3);
  for (int c = 0; c < 3; ++c) {
    pbar[c] = (p[0][c] + p[1][c]) / 2;
    mkl += pbar[c] * (std::log(pbar[c]) - (std::log(p[0][c]) + std::log(p[1][c])) / 2);
  }
  const double precision = 2.0 / (2 * mkl);  // (K - 1) / (2 MKL)
  at::Tensor beta = teacher_proxy_dirichlet(logits, 1.0, 0.0, 0.5, 1e6);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(beta[0][c].item<double>(), pbar[c] * precision + 0.5, 1e-9);
  // Members that agree exactly have no spread: the precision is the cap.
  at::Tensor same = at::log(at::tensor({0.7, 0.2, 0.1, 0.7, 0.2, 0.1}, at::kDouble)).view({1, 2, 3});
  EXPECT_NEAR(teacher_proxy_dirichlet(same, 1.0, 0.0, 0.0, 500).sum().item<double>(), 500, 1e-9);
}

TEST(EnD2ProxyLossTest, FiniteForNearOneHotTeachersAndManyClasses) {
  const int64_t K = 1000;
  at::Tensor teacher = at::zeros({2, 3, K}, at::kDouble);
  teacher.index_put_({at::indexing::Slice(), at::indexing::Slice(), 0}, 28.0 + std::log(double(K)));
  teacher.index_put_({1, 2, 1}, 30.0 + std::log(double(K)));  // one member disagrees on input 1
  at::Tensor beta = teacher_proxy_dirichlet(teacher, 1.0, 1e-4, 0.0, 1e4);
  EXPECT_TRUE(beta.isfinite().all().item<bool>());
  EXPECT_GT(beta.min().item<double>(), 0);
  at::Tensor z = (at::randn({2, K}, at::kDouble) * 5).requires_grad_(true);
  for (bool f64 : {false, true}) {
    at::Tensor loss = end2_proxy_loss(f64 ? z : z.to(at::kFloat), beta, 1.0, f64);
    loss.backward();
    EXPECT_TRUE(std::isfinite(loss.item<double>()));
    EXPECT_TRUE(z.grad().isfinite().all().item<bool>());
    z.grad().zero_();
  }
}

// The taped step's losses (outside autograd) against autograd's gradient of
// the same losses, for each method, at several temperatures and dtypes.
TEST(LossAndGradientTest, EqualAutogradsLossAndGradient) {
  at::manual_seed(9);
  const int64_t B = 7, M = 5, K = 4;
  at::Tensor teacher = at::randn({B, M, K}, at::kDouble) * 3;
  for (bool float64 : {true, false}) {
    for (double T : {1.0, 3.0}) {
      at::Tensor z0 = (at::randn({B, K}) * 2).to(at::kFloat);
      struct Case {
        const char* name;
        at::Tensor target;
        std::function<at::Tensor(const at::Tensor&)> autograd_loss;
        std::function<LossAndGradient(const at::Tensor&)> taped;
      };
      at::Tensor mean_probs = teacher_mean_probs(teacher, T), stat = teacher_mean_log_probs(teacher, T, 1e-4);
      at::Tensor proxy = teacher_proxy_dirichlet(teacher, T, 1e-4, 1.0, 1e4);
      // A zero row: an input left out of the EnD term (the AUX inputs of
      // distill.mean_on_aux = false); autograd differentiates it exactly.
      at::Tensor some_left_out = mean_probs.clone();
      some_left_out.slice(0, 4).zero_();
      std::vector<Case> cases{
          {"EnD", mean_probs, [&](const at::Tensor& z) { return end_loss(z, mean_probs, T, float64); },
           [&](const at::Tensor& z) { return end_loss_and_gradient(z, mean_probs, T, float64); }},
          {"EnD, rows left out", some_left_out,
           [&](const at::Tensor& z) { return end_loss(z, some_left_out, T, float64); },
           [&](const at::Tensor& z) { return end_loss_and_gradient(z, some_left_out, T, float64); }},
          {"EnD^2", stat, [&](const at::Tensor& z) { return end2_loss(z, stat, T, float64); },
           [&](const at::Tensor& z) { return end2_loss_and_gradient(z, stat, T, float64); }},
          {"proxy", proxy, [&](const at::Tensor& z) { return end2_proxy_loss(z, proxy, T, float64); },
           [&](const at::Tensor& z) { return end2_proxy_loss_and_gradient(z, proxy, T, float64); }},
      };
      for (const auto& c : cases) {
        at::Tensor z = z0.clone().requires_grad_(true);
        at::Tensor loss = c.autograd_loss(z);
        loss.backward();
        LossAndGradient taped = c.taped(z0);
        const std::string where = std::string(c.name) + (float64 ? " float64" : " float32") + " T " +
                                  std::to_string(T);
        EXPECT_FALSE(taped.loss.requires_grad()) << where;
        EXPECT_EQ(taped.gradient.scalar_type(), at::kFloat) << where;
        EXPECT_NEAR(taped.loss.item<double>(), loss.item<double>(), 1e-6 * std::abs(loss.item<double>())) << where;
        // The Dirichlet losses share their code with the autograd node:
        // identical; EnD's gradient is the closed form of log_softmax's.
        const double tolerance = std::string(c.name).rfind("EnD,", 0) == 0 || std::string(c.name) == "EnD" ? 1e-6 : 0.0;
        EXPECT_LE((taped.gradient - z.grad()).abs().max().item<double>(),
                  tolerance * (1 + z.grad().abs().max().item<double>()))
            << where;
      }
    }
  }
}
