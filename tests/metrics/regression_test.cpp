// Regression metrics against hand examples and closed forms.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "endd/core/seeding.h"
#include "endd/metrics/regression.h"

using namespace endd::metrics;

TEST(RegressionMetricsTest, HandExamples) {
  at::Tensor pit = at::tensor({0.5, 0.2, 0.96, 0.04, 0.74}, at::kDouble);
  EXPECT_DOUBLE_EQ(central_coverage(pit, 0.5), 40.0);
  EXPECT_DOUBLE_EQ(central_coverage(pit, 0.9), 60.0);   // 0.96 and 0.04 lie 0.46 from 1/2
  EXPECT_DOUBLE_EQ(central_coverage(pit, 0.95), 100.0);
  auto r = regression_metrics(at::tensor({1.0, 2.0, 3.0}, at::kDouble), at::tensor({-1.0, -2.0, -3.0}, at::kDouble),
                              at::tensor({0.5, 0.5, 0.5}, at::kDouble), at::tensor({1.0, 2.0, 5.0}, at::kDouble));
  EXPECT_DOUBLE_EQ(r.rmse, std::sqrt(4.0 / 3.0));
  EXPECT_DOUBLE_EQ(r.nll, 2.0);
  EXPECT_EQ(r.count, 3);
}

TEST(RegressionMetricsTest, CoverageOfAnOverconfidentGaussianFollowsItsClosedForm) {
  at::Generator g = endd::cpu_generator(3);
  const int64_t n = 200000;
  at::Tensor y = at::randn({n}, g, at::kDouble);
  auto phi = [](const at::Tensor& z) { return 0.5 * at::erfc(-z / std::sqrt(2.0)); };
  // Calibrated: N(0, 1) for N(0, 1) targets.
  auto calibrated = regression_metrics(at::zeros({n}, at::kDouble), at::zeros({n}, at::kDouble), phi(y), y);
  EXPECT_NEAR(calibrated.coverage_90, 90.0, 0.3);
  EXPECT_LT(calibrated.calibration_error, 0.3);
  // Predicting sd 0.5: coverage(p) = 2 Phi(0.5 z_p) - 1 with z_p = Phi^-1((1 + p) / 2).
  auto tight = regression_metrics(at::zeros({n}, at::kDouble), at::zeros({n}, at::kDouble), phi(y / 0.5), y);
  const double z90 = 1.6448536269514722;
  EXPECT_NEAR(tight.coverage_90, 100.0 * (2 * 0.5 * std::erfc(-0.5 * z90 / std::sqrt(2.0)) - 1), 0.3);
  EXPECT_GT(tight.calibration_error, 15.0);
}

TEST(RegressionMetricsTest, LossRejectionHandExample) {
  // Rejecting by uncertainty removes losses 9, 1, 0, 4; the oracle 9, 4, 1, 0.
  // Areas: 1.25 (uncertainty), 0.8125 (oracle), 1.75 (random): PRR = 0.5 / 0.9375.
  auto r = loss_rejection({0.1, 0.2, 0.3, 0.4}, {4, 0, 1, 9});
  EXPECT_DOUBLE_EQ(r.base, 3.5);
  EXPECT_NEAR(r.prr, 100.0 * 0.5 / 0.9375, 1e-12);
  EXPECT_NEAR(loss_rejection({4, 0, 1, 9}, {4, 0, 1, 9}).prr, 100.0, 1e-12);
  EXPECT_LT(loss_rejection({-4, 0, -1, -9}, {4, 0, 1, 9}).prr, 0.0);
  EXPECT_TRUE(std::isnan(loss_rejection({1, 2}, {0, 0}).prr));
}
