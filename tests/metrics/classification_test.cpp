#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "endd/metrics/classification.h"

using namespace endd::metrics;

TEST(ClassificationMeterTest, HandWorkedExample) {
  // Two classes. Rows: p(class 1) = 0.95 (label 1), 0.95 (label 0), 0.45 (label 0), 0.45 (label 0).
  at::Tensor probs = at::tensor({0.05, 0.95, 0.05, 0.95, 0.55, 0.45, 0.55, 0.45}, at::kDouble).view({4, 2});
  at::Tensor labels = at::tensor({1, 0, 0, 0}, at::kLong);
  ClassificationMeter meter;
  meter.update(probs, labels);
  auto r = meter.compute();
  EXPECT_NEAR(r.error, 25.0, 1e-12);  // row 2 is wrong
  // NLL: -(ln .95 + ln .05 + 2 ln .55) / 4
  EXPECT_NEAR(r.nll, -(std::log(0.95) + std::log(0.05) + 2 * std::log(0.55)) / 4, 1e-12);
  // Brier: (2*.05^2 + 2*.95^2 + 2*(2*.45^2)) / 4
  EXPECT_NEAR(r.brier, (2 * 0.0025 + 2 * 0.9025 + 4 * 0.2025) / 4, 1e-12);
  // ECE, 15 bins: confidence .95 (bin 14): acc 1/2 -> |.5 - .95| * 2/4;
  // confidence .55 (bin 8): acc 1 -> |1 - .55| * 2/4. Total 0.45 -> 45%.
  EXPECT_NEAR(r.ece, 45.0, 1e-9);
}

TEST(ClassificationMeterTest, MergeEqualsOneUpdate) {
  at::manual_seed(0);
  at::Tensor probs = at::softmax(at::randn({100, 5}, at::kDouble), -1);
  at::Tensor labels = at::randint(0, 5, {100}, at::kLong);
  ClassificationMeter whole, a, b;
  whole.update(probs, labels);
  a.update(probs.slice(0, 0, 40), labels.slice(0, 0, 40));
  b.update(probs.slice(0, 40), labels.slice(0, 40));
  a.merge(b);
  auto x = whole.compute(), y = a.compute();
  EXPECT_NEAR(x.nll, y.nll, 1e-12);
  EXPECT_NEAR(x.ece, y.ece, 1e-12);
  EXPECT_NEAR(x.brier, y.brier, 1e-12);
  EXPECT_NEAR(x.ece_equal_mass, y.ece_equal_mass, 1e-12);
}

TEST(CalibrationTest, ConfidenceOneFallsInTheLastBin) {
  // conf 1.0 correct: in the closed last bin, zero gap. conf 0 would be bin 0.
  EXPECT_NEAR(expected_calibration_error({1.0, 1.0}, {1, 1}, 15), 0.0, 1e-12);
  auto bins = reliability_bins({1.0, 0.0}, {1, 0}, 15);
  EXPECT_EQ(bins.back().count, 1);
  EXPECT_EQ(bins.front().count, 1);
}

TEST(CalibrationTest, EqualMassBinsHandExample) {
  // 4 inputs, 2 equal-mass bins: {0.2, 0.4} acc 0 -> |0 - .3| * 2/4; {0.6, 0.8} acc 1 -> |1 - .7| * 2/4.
  EXPECT_NEAR(expected_calibration_error({0.8, 0.2, 0.6, 0.4}, {1, 0, 1, 0}, 2, Binning::kEqualMass), 30.0, 1e-9);
}

TEST(ClassificationMeterTest, RejectsOutOfRangeLabels) {
  ClassificationMeter meter;
  EXPECT_THROW(meter.update(at::full({2, 3}, 1.0 / 3, at::kDouble), at::tensor({0, 3}, at::kLong)),
               std::exception);
}
