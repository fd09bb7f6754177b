// The 2x2 max-pooling loop against LibTorch's own max_pool2d: outputs and
// gradients bit for bit, ties, NaN and -inf included.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <limits>

#include "endd/models/max_pool.h"

namespace {

// Outputs and input gradients of pool(x) with upstream gradient g.
std::pair<at::Tensor, at::Tensor> pooled_and_grad(at::Tensor (*pool)(const at::Tensor&), const at::Tensor& x,
                                                  const at::Tensor& g) {
  at::Tensor leaf = x.detach().clone().requires_grad_(true);
  at::Tensor y = pool(leaf);
  y.backward(g);
  return {y.detach(), leaf.grad()};
}

at::Tensor libtorch_pool(const at::Tensor& x) { return at::max_pool2d(x, {2, 2}); }

// Whether the loop's outputs (NaN where LibTorch has NaN) and input
// gradients equal at::max_pool2d's, bit for bit.
::testing::AssertionResult same_as_libtorch(const at::Tensor& x) {
  at::Tensor g = at::randn({x.size(0), x.size(1), x.size(2) / 2, x.size(3) / 2}, x.options());
  auto [want_y, want_g] = pooled_and_grad(&libtorch_pool, x, g);
  auto [got_y, got_g] = pooled_and_grad(&endd::models::max_pool_2x2, x, g);
  if (got_y.sizes() != want_y.sizes())
    return ::testing::AssertionFailure() << "outputs " << got_y.sizes() << ", LibTorch's " << want_y.sizes();
  if (!at::equal(at::isnan(got_y), at::isnan(want_y))) return ::testing::AssertionFailure() << "NaN outputs differ";
  if (!at::equal(at::nan_to_num(got_y, 0, 1e30, -1e30), at::nan_to_num(want_y, 0, 1e30, -1e30)))
    return ::testing::AssertionFailure() << "outputs differ";
  if (!at::equal(got_g, want_g))
    return ::testing::AssertionFailure() << "gradients differ, max |diff| "
                                         << (got_g - want_g).abs().max().item<double>();
  return ::testing::AssertionSuccess();
}

TEST(MaxPool2x2Test, MatchesLibTorchOnRandomImagesOfEveryParity) {
  at::manual_seed(3);
  for (auto shape : std::vector<std::vector<int64_t>>{{2, 3, 8, 8}, {1, 1, 7, 9}, {4, 16, 28, 28}, {3, 2, 2, 5}})
    EXPECT_TRUE(same_as_libtorch(at::randn(shape))) << at::IntArrayRef(shape);
  EXPECT_TRUE(same_as_libtorch(at::randn({2, 3, 6, 7}, at::kDouble)));
}

TEST(MaxPool2x2Test, TiesGoToTheFirstMaximumAsInLibTorch) {
  at::manual_seed(4);
  // Three levels: most windows hold a tie; after ReLU, whole windows of 0.
  at::Tensor x = at::relu(at::randint(-1, 2, {3, 4, 10, 10}).to(at::kFloat));
  EXPECT_TRUE(same_as_libtorch(x));
  // A hand window: all four equal, the gradient goes to the top-left.
  at::Tensor leaf = at::full({1, 1, 2, 2}, 5.0f).requires_grad_(true);
  endd::models::max_pool_2x2(leaf).sum().backward();
  EXPECT_TRUE(at::equal(leaf.grad(), at::tensor({1.0f, 0.0f, 0.0f, 0.0f}).view({1, 1, 2, 2})));
}

TEST(MaxPool2x2Test, NaNAndInfinitiesPropagateAsInLibTorch) {
  at::manual_seed(5);
  at::Tensor x = at::randn({2, 2, 6, 6});
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  auto a = x.accessor<float, 4>();
  a[0][0][0][0] = nan;           // NaN first in its window
  a[0][0][1][1] = nan;           // and last: the later NaN takes the gradient
  a[0][1][2][3] = nan;           // one NaN among numbers
  a[1][0][0][0] = -inf;          // a window of -inf only
  a[1][0][0][1] = -inf;
  a[1][0][1][0] = -inf;
  a[1][0][1][1] = -inf;
  a[1][1][4][4] = inf;
  EXPECT_TRUE(same_as_libtorch(x));
  // By hand: the window of two NaNs gives NaN and its gradient to the later one.
  at::Tensor leaf = x.clone().requires_grad_(true);
  at::Tensor y = endd::models::max_pool_2x2(leaf);
  EXPECT_TRUE(std::isnan(y[0][0][0][0].item<float>()));
  y.sum().backward();
  EXPECT_EQ(leaf.grad()[0][0][1][1].item<float>(), 1.0f);
  EXPECT_EQ(leaf.grad()[0][0][0][0].item<float>(), 0.0f);
}

TEST(MaxPool2x2Test, TakesStridedInputsAndInferenceWithoutGradients) {
  at::manual_seed(6);
  EXPECT_TRUE(same_as_libtorch(at::randn({2, 8, 6, 6}).contiguous(at::MemoryFormat::ChannelsLast)));
  EXPECT_TRUE(same_as_libtorch(at::randn({6, 6, 3, 2}).permute({2, 3, 0, 1})));
  at::Tensor x = at::randn({2, 3, 8, 8});
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(endd::models::max_pool_2x2(x), at::max_pool2d(x, {2, 2})));
  EXPECT_EQ(endd::models::max_pool_2x2(at::randn({0, 3, 8, 8})).sizes(), (std::vector<int64_t>{0, 3, 4, 4}));
}

TEST(MaxPool2x2Test, ImagesTooSmallGetLibTorchsError) {
  EXPECT_THROW(endd::models::max_pool_2x2(at::randn({1, 1, 1, 4})), c10::Error);
}

}  // namespace
