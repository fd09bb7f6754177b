// Sync-free gradient clipping against a hand example and against LibTorch's
// clip_grad_norm_ (the reference it replaces).
#include "endd/train/gradient_clipping.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/utils/clip_grad.h>

#include <cmath>

using endd::train::clip_gradient_norm_;

namespace {
at::Tensor with_grad(const at::Tensor& values, const at::Tensor& grad) {
  at::Tensor p = values.clone().set_requires_grad(true);
  p.mutable_grad() = grad.clone();
  return p;
}
}  // namespace

TEST(GradientClippingTest, HandExample) {
  // Gradients (3, 4) and (12): joint norm sqrt(9 + 16 + 144) = 13.
  auto a = with_grad(at::zeros({2}), at::tensor({3.0f, 4.0f}));
  auto b = with_grad(at::zeros({1}), at::tensor({12.0f}));
  at::Tensor norm = clip_gradient_norm_({a, b}, 6.5);
  EXPECT_NEAR(norm.item<double>(), 13.0, 1e-5);
  const double scale = 6.5 / (13.0 + 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 3 * scale, 1e-5);
  EXPECT_NEAR(a.grad()[1].item<double>(), 4 * scale, 1e-5);
  EXPECT_NEAR(b.grad()[0].item<double>(), 12 * scale, 1e-5);
}

TEST(GradientClippingTest, LeavesSmallGradientsAlone) {
  auto a = with_grad(at::zeros({2}), at::tensor({0.3f, 0.4f}));
  clip_gradient_norm_({a}, 10.0);
  EXPECT_FLOAT_EQ(a.grad()[0].item<float>(), 0.3f);
  EXPECT_FLOAT_EQ(a.grad()[1].item<float>(), 0.4f);
}

TEST(GradientClippingTest, MatchesLibTorchAndSkipsParametersWithoutGradient) {
  at::manual_seed(3);
  for (double max_norm : {0.1, 1.0, 5.0, 100.0}) {
    std::vector<at::Tensor> ours, theirs;
    for (auto shape : {std::vector<int64_t>{4, 5}, {7}, {2, 3, 3}}) {
      at::Tensor v = at::randn(shape), g = at::randn(shape) * 2;
      ours.push_back(with_grad(v, g));
      theirs.push_back(with_grad(v, g));
    }
    ours.push_back(at::zeros({3}).set_requires_grad(true));  // no gradient
    at::Tensor norm = clip_gradient_norm_(ours, max_norm);
    const double reference = torch::nn::utils::clip_grad_norm_(theirs, max_norm);
    EXPECT_NEAR(norm.item<double>(), reference, 1e-5 * reference);
    for (size_t i = 0; i < theirs.size(); ++i)
      EXPECT_TRUE(at::allclose(ours[i].grad(), theirs[i].grad(), 1e-6, 1e-7)) << "max_norm " << max_norm;
    EXPECT_FALSE(ours.back().grad().defined());
  }
}

TEST(GradientClippingTest, NonFiniteNormPoisonsTheGradients) {
  // As in PyTorch: the epoch's loss check then reports the failure.
  auto a = with_grad(at::zeros({2}), at::tensor({NAN, 1.0f}));
  clip_gradient_norm_({a}, 1.0);
  EXPECT_FALSE(std::isfinite(a.grad()[1].item<float>()));
}

TEST(GradientClippingTest, NoGradientsGiveAnUndefinedNorm) {
  EXPECT_FALSE(clip_gradient_norm_({at::zeros({2}).set_requires_grad(true)}, 1.0).defined());
}

// One flat float32 gradient on the CPU takes a one-pass path: against
// LibTorch on a length with tails, clipped and not.
TEST(GradientClippingTest, OneFlatGradientMatchesLibTorch) {
  at::manual_seed(4);
  for (double max_norm : {0.5, 10.0, 1e3}) {
    at::Tensor g = at::randn({8707}) * 0.1;
    at::Tensor ours = g.clone();
    auto theirs = with_grad(at::zeros({8707}), g);
    at::Tensor norm = endd::train::clip_gradients_({ours}, max_norm);
    const double reference = torch::nn::utils::clip_grad_norm_({theirs}, max_norm);
    EXPECT_NEAR(norm.item<double>(), reference, 1e-5 * reference) << max_norm;
    EXPECT_TRUE(at::allclose(ours, theirs.grad(), 1e-6, 1e-9)) << max_norm;
    if (max_norm > reference) EXPECT_TRUE(at::equal(ours, g)) << "left alone below the bound";
  }
  at::Tensor bad = at::tensor({1.0f, INFINITY, 2.0f});
  endd::train::clip_gradients_({bad}, 1.0);
  EXPECT_FALSE(std::isfinite(bad[1].item<float>()));
}
