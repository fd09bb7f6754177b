// MlpEnsemble::cross_entropy_gradients (member after member, raw buffers)
// against the autograd graph of forward() and LibTorch's cross-entropy in
// float64: the same loss and gradients up to float32 rounding, for every
// activation it covers, shared and per-member inputs, odd batch sizes.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "endd/core/error.h"
#include "endd/models/mlp_ensemble.h"

namespace {

using endd::models::Activation;
using endd::models::MlpEnsemble;
using endd::models::MlpOptions;

struct Reference {
  double loss;
  std::vector<at::Tensor> grads;
};

// The loss the trainer's autograd path takes, in float64 on a copy of `net`.
Reference autograd_reference(const MlpOptions& opts, const std::vector<uint64_t>& seeds, const at::Tensor& x,
                             const at::Tensor& y) {
  MlpEnsemble net(opts, seeds);
  net.to(at::kDouble);
  const int64_t B = x.size(-2);
  at::Tensor loss =
      at::cross_entropy_loss(net.forward(x.to(at::kDouble)).flatten(0, 1), y, {}, at::Reduction::Sum) / double(B);
  loss.backward();
  Reference r{loss.item<double>(), {}};
  for (const auto& p : net.parameters()) r.grads.push_back(p.grad().to(at::kFloat));
  return r;
}

::testing::AssertionResult matches_autograd(const MlpOptions& opts, const at::Tensor& x, const at::Tensor& y,
                                            const std::string& where) {
  const std::vector<uint64_t> seeds{5, 6, 7};
  const Reference want = autograd_reference(opts, seeds, x, y);
  MlpEnsemble net(opts, seeds);
  // Stale gradients must not leak in: every element is overwritten.
  for (auto& p : net.parameters()) p.mutable_grad() = at::full_like(p, std::numeric_limits<float>::quiet_NaN());
  const double loss = net.cross_entropy_gradients(x, y);
  if (std::abs(loss - want.loss) > 1e-5 * std::max(1.0, std::abs(want.loss)))
    return ::testing::AssertionFailure() << where << ": loss " << loss << ", autograd " << want.loss;
  const auto params = net.parameters();
  for (size_t p = 0; p < params.size(); ++p) {
    const at::Tensor& got = params[p].grad();
    if (!at::allclose(got, want.grads[p], 1e-4, 1e-6))
      return ::testing::AssertionFailure() << where << ": parameter " << p << " max |diff| "
                                           << (got - want.grads[p]).abs().max().item<double>();
  }
  return ::testing::AssertionSuccess();
}

TEST(MlpMemberMajorStepTest, LossAndGradientsMatchAutograd) {
  at::manual_seed(11);
  for (auto activation : {Activation::kReLU, Activation::kTanh, Activation::kLeakyReLU}) {
    auto opts = MlpOptions(5, 4).hidden_layers(3).width(12).activation(activation);
    for (int64_t B : {1, 9, 70}) {
      const std::string where = endd::models::to_string(activation) + " B " + std::to_string(B);
      at::Tensor y = at::randint(0, 4, {3 * B}, at::kLong);
      EXPECT_TRUE(matches_autograd(opts, at::randn({3, B, 5}), y, where));
      EXPECT_TRUE(matches_autograd(opts, at::randn({B, 5}), y, where + " shared input"));
      // A non-contiguous view of per-member inputs.
      EXPECT_TRUE(matches_autograd(opts, at::randn({3, 5, B}).transpose(1, 2), y, where + " transposed"));
    }
  }
  // No hidden layer (a linear model) and many classes.
  at::Tensor y = at::randint(0, 1000, {3 * 16}, at::kLong);
  EXPECT_TRUE(matches_autograd(MlpOptions(7, 1000).hidden_layers(0), at::randn({3, 16, 7}), y, "linear, K 1000"));
  EXPECT_TRUE(matches_autograd(MlpOptions(7, 1000).hidden_layers(1).width(20), at::randn({3, 16, 7}), y,
                               "one hidden layer, K 1000"));
}

// Members whose logits are in the thousands: the loss and the gradients
// stay finite (the log-sum-exp is shifted by each row's largest logit).
TEST(MlpMemberMajorStepTest, ExtremeLogitsStayFinite) {
  auto opts = MlpOptions(2, 3).hidden_layers(1).width(8);
  MlpEnsemble net(opts, {1, 2});
  {
    at::NoGradGuard no_grad;
    for (auto& p : net.parameters()) p.mul_(300);
  }
  at::Tensor x = at::randn({2, 32, 2}) * 10, y = at::randint(0, 3, {64}, at::kLong);
  const double loss = net.cross_entropy_gradients(x, y);
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_GT(loss, 100.0);  // confidently wrong on some rows
  for (const auto& p : net.parameters()) EXPECT_TRUE(at::isfinite(p.grad()).all().item<bool>());
}

// Members run in parallel across intra-op threads; each member's numbers
// are its own, so the thread count changes nothing.
TEST(MlpMemberMajorStepTest, ThreadCountChangesNothing) {
  const int before = at::get_num_threads();
  auto opts = MlpOptions(3, 5).hidden_layers(2).width(16);
  at::Tensor x = at::randn({6, 40, 3}), y = at::randint(0, 5, {240}, at::kLong);
  auto run = [&](int threads) {
    at::set_num_threads(threads);
    MlpEnsemble net(opts, {1, 2, 3, 4, 5, 6});
    const double loss = net.cross_entropy_gradients(x, y);
    std::vector<at::Tensor> grads{at::tensor(loss, at::kDouble)};
    for (const auto& p : net.parameters()) grads.push_back(p.grad().clone());
    return grads;
  };
  const auto one = run(1), two = run(2);
  at::set_num_threads(before);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(at::equal(one[i], two[i])) << "tensor " << i;
}

TEST(MlpMemberMajorStepTest, RefusesWhatItDoesNotCover) {
  MlpEnsemble net(MlpOptions(2, 3).hidden_layers(1).width(4), {1, 2});
  EXPECT_THROW(net.cross_entropy_gradients(at::randn({2, 5, 2}), at::full({10}, 3, at::kLong)), endd::Error);
  EXPECT_THROW(net.cross_entropy_gradients(at::randn({2, 5, 2}), at::full({10}, -1, at::kLong)), endd::Error);
  EXPECT_THROW(net.cross_entropy_gradients(at::randn({2, 5, 2}), at::zeros({9}, at::kLong)), endd::Error);
  EXPECT_THROW(net.cross_entropy_gradients(at::randn({2, 5, 3}), at::zeros({10}, at::kLong)), endd::Error);
  MlpEnsemble gelu(MlpOptions(2, 3).activation(Activation::kGELU), {1});
  EXPECT_FALSE(gelu.has_member_major_step());
  EXPECT_THROW(gelu.cross_entropy_gradients(at::randn({1, 4, 2}), at::zeros({4}, at::kLong)), endd::Error);
  MlpEnsemble in_double(MlpOptions(2, 3), {1});
  in_double.to(at::kDouble);
  EXPECT_FALSE(in_double.has_member_major_step());
}

}  // namespace
