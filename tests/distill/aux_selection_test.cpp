// AUX selection by the members' disagreement, on hand-made member outputs
// whose mutual-information order is known without computing it.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "endd/core/error.h"
#include "endd/distill/aux_selection.h"

using endd::distill::select_most_disagreed;

namespace {
// Two members, two classes. Candidate i: member 0 puts logit +d on class 0,
// member 1 puts -d; the larger d, the more they disagree (d = 0: identical).
at::Tensor two_members(const std::vector<double>& d) {
  at::Tensor z = at::zeros({static_cast<int64_t>(d.size()), 2, 2}, at::kDouble);
  for (size_t i = 0; i < d.size(); ++i) {
    z[static_cast<int64_t>(i)][0][0] = d[i];
    z[static_cast<int64_t>(i)][1][0] = -d[i];
  }
  return z;
}
std::vector<int64_t> as_vector(const at::Tensor& t) {
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}
}  // namespace

TEST(AuxSelectionTest, EachGroupKeepsItsMostDisagreedCandidates) {
  // Group 0: candidates 0-3 with d = 0, 3, 1, 2; group 1: candidates 4-6 with d = 5, 0, 4.
  at::Tensor z = two_members({0, 3, 1, 2, 5, 0, 4});
  EXPECT_EQ(as_vector(select_most_disagreed(z, {4, 3}, {2, 1})), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(as_vector(select_most_disagreed(z, {4, 3}, {1, 2})), (std::vector<int64_t>{1, 4, 6}));
  // Keeping all, or none, of a group.
  EXPECT_EQ(as_vector(select_most_disagreed(z, {4, 3}, {4, 0})), (std::vector<int64_t>{0, 1, 2, 3}));
  // A group's choice does not depend on the others' candidates (group 1 holds
  // the largest disagreements, yet group 0 still keeps its own two).
  EXPECT_EQ(as_vector(select_most_disagreed(z, {4, 3}, {2, 0})), (std::vector<int64_t>{1, 3}));
}

TEST(AuxSelectionTest, TiesKeepTheEarlierCandidate) {
  at::Tensor z = two_members({1, 2, 1, 2, 1});
  EXPECT_EQ(as_vector(select_most_disagreed(z, {5}, {3})), (std::vector<int64_t>{0, 1, 3}));
}

TEST(AuxSelectionTest, MismatchedGroupsAreRefused) {
  at::Tensor z = two_members({0, 1, 2});
  EXPECT_THROW(select_most_disagreed(z, {2}, {1}), endd::Error);         // groups hold 2, logits 3
  EXPECT_THROW(select_most_disagreed(z, {2, 1}, {1}), endd::Error);      // counts per group
  EXPECT_THROW(select_most_disagreed(z, {2, 1}, {3, 0}), endd::Error);   // keep more than a group has
  EXPECT_THROW(select_most_disagreed(z, {2, 1}, {-1, 0}), endd::Error);
  EXPECT_THROW(select_most_disagreed(z[0], {1}, {1}), endd::Error);      // not [N, M, K]
}
