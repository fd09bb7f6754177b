#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/variable.h>

#include <cmath>

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
