#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "endd/experiments/model_table.h"

using endd::experiments::member_errors;

// Four inputs, labels 0 0 1 1; members wrong on 2, 0, 1, 1 and 3 inputs.
TEST(MemberErrorsTest, TypicalMemberHasTheLowerMedianError) {
  const int wrong_counts[5] = {2, 0, 1, 1, 3};
  at::Tensor labels = at::tensor({0, 0, 1, 1}, at::kLong);
  at::Tensor logits = at::zeros({4, 5, 2});
  for (int m = 0; m < 5; ++m)
    for (int i = 0; i < 4; ++i) {
      const int label = labels[i].item<int>();
      const int predicted = i < wrong_counts[m] ? 1 - label : label;
      logits.index_put_({i, m, predicted}, 3.0);
    }
  auto e = member_errors(logits, labels);
  ASSERT_EQ(e.error.size(), 5u);
  EXPECT_DOUBLE_EQ(e.error[0], 50.0);
  EXPECT_DOUBLE_EQ(e.error[4], 75.0);
  // Sorted errors 0, 25, 25, 50, 75: the median 25 belongs to members 2 and 3; the first wins.
  EXPECT_EQ(e.typical, 2);
  auto j = e.summary();
  EXPECT_DOUBLE_EQ(j.mean, 35.0);
  EXPECT_NEAR(j.std, std::sqrt((35.0 * 35 + 10 * 10 * 2 + 15 * 15 + 40 * 40) / 4.0), 1e-12);
  EXPECT_DOUBLE_EQ(j.min, 0.0);
  EXPECT_DOUBLE_EQ(j.median, 25.0);
  EXPECT_DOUBLE_EQ(j.max, 75.0);
  EXPECT_EQ(j.typical_member, 2);
  // With an even count the lower median is taken: drop member 4 -> 0, 25, 25, 50 -> 25 (member 2).
  EXPECT_EQ(member_errors(logits.slice(1, 0, 4), labels).typical, 2);
}
