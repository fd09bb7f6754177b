#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "endd/metrics/ranking.h"

using namespace endd::metrics;

namespace {
// O(N^2) reference: pairs (positive, negative), ties count 1/2.
double auroc_by_pairs(const std::vector<double>& s, const std::vector<uint8_t>& pos) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i)
    for (size_t j = 0; j < s.size(); ++j)
      if (pos[i] && !pos[j]) {
        pairs += 1;
        wins += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
      }
  return wins / pairs;
}
}  // namespace

TEST(RankingTest, AurocMatchesPairCountWithTies) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> s(300);
    std::vector<uint8_t> pos(300);
    for (size_t i = 0; i < s.size(); ++i) {
      s[i] = double(rng() % 7);  // many ties
      pos[i] = rng() % 3 == 0;
    }
    EXPECT_NEAR(auroc(s, pos), auroc_by_pairs(s, pos), 1e-12);
  }
}

TEST(RankingTest, AurocEdgeCases) {
  EXPECT_DOUBLE_EQ(auroc({3, 2, 1, 0}, {1, 1, 0, 0}), 1.0);
  EXPECT_DOUBLE_EQ(auroc({0, 1, 2, 3}, {1, 1, 0, 0}), 0.0);
  EXPECT_DOUBLE_EQ(auroc({1, 1, 1, 1}, {1, 0, 1, 0}), 0.5);
  EXPECT_TRUE(std::isnan(auroc({1, 2}, {1, 1})));  // no negatives
}

TEST(RankingTest, AveragePrecisionHandExample) {
  // Descending: 0.9(+) 0.8(-) 0.7(+) 0.6(-): AP = 0.5 * 1 + 0.5 * 2/3.
  EXPECT_NEAR(average_precision({0.9, 0.8, 0.7, 0.6}, {1, 0, 1, 0}), 0.5 + 1.0 / 3.0, 1e-12);
  // A tie of one positive and one negative at the top counts as one threshold: P = 1/2.
  EXPECT_NEAR(average_precision({1, 1}, {1, 0}), 0.5, 1e-12);
}

TEST(RankingTest, FprAtTprHandExample) {
  // 20 positives scored 1..20, 10 negatives scored 0.5..9.5.
  std::vector<double> s;
  std::vector<uint8_t> pos;
  for (int i = 1; i <= 20; ++i) { s.push_back(i); pos.push_back(1); }
  for (int i = 0; i < 10; ++i) { s.push_back(i + 0.5); pos.push_back(0); }
  // 95% of 20 = 19 positives: threshold 2 -> negatives above 2 are 2.5..9.5 = 8.
  EXPECT_NEAR(fpr_at_tpr(s, pos, 0.95), 0.8, 1e-12);
}

TEST(RankingTest, OodDetectionOrientation) {
  auto d = ood_detection({0.1, 0.2, 0.3}, {0.8, 0.9});
  EXPECT_DOUBLE_EQ(d.auroc, 100.0);
  EXPECT_DOUBLE_EQ(d.aupr_out, 100.0);
  EXPECT_DOUBLE_EQ(d.aupr_in, 100.0);
  EXPECT_DOUBLE_EQ(d.fpr95, 0.0);
}

TEST(RankingTest, RocCurveEndsAtCorners) {
  auto roc = roc_curve({0.3, 0.1, 0.2, 0.4}, {1, 0, 0, 1});
  EXPECT_DOUBLE_EQ(roc.fpr.front(), 0.0);
  EXPECT_DOUBLE_EQ(roc.tpr.back(), 1.0);
  EXPECT_DOUBLE_EQ(roc.fpr.back(), 1.0);
}
