// A convolutional ensemble's stages run member after member (member-major)
// against all members' channels stacked in one tensor: the same logits,
// gradients and BatchNorm statistics bit for bit, for every preset, so the
// layout can be chosen by speed alone.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <string>

#include "endd/models/conv_ensemble.h"

namespace {

using endd::models::ConvEnsemble;
using endd::models::ConvOptions;

// One training step's logits and parameter gradients and the buffers after
// it, then the logits in eval mode, for `net` on per-member images `x`.
std::vector<at::Tensor> step_outputs(ConvEnsemble& net, const at::Tensor& x) {
  net.train();
  at::Tensor logits = net.forward(x);
  logits.pow(2).sum().backward();
  std::vector<at::Tensor> out{logits.detach()};
  for (const auto& p : net.parameters()) out.push_back(p.grad().clone());
  for (const auto& b : net.buffers()) out.push_back(b.clone());
  net.eval();
  torch::NoGradGuard no_grad;
  out.push_back(net.forward(x));
  return out;
}

::testing::AssertionResult layouts_agree(const std::string& preset, int64_t members) {
  auto opts = ConvOptions::preset(preset, 3, 12, 12, 5).stages({4, 6}).hidden(8);
  std::vector<uint64_t> seeds;
  for (int64_t m = 0; m < members; ++m) seeds.push_back(static_cast<uint64_t>(20 + m));
  ConvEnsemble stacked(opts, seeds), member_major(opts, seeds);
  member_major.set_member_major(true);
  stacked.set_noise_seeds(seeds);  // vgg's dropout: the same masks for both
  member_major.set_noise_seeds(seeds);
  at::manual_seed(7);
  at::Tensor x = at::randn({members, 16, 3, 12, 12});
  const auto a = step_outputs(stacked, x), b = step_outputs(member_major, x);
  if (a.size() != b.size()) return ::testing::AssertionFailure() << preset << ": different numbers of tensors";
  for (size_t i = 0; i < a.size(); ++i)
    if (!at::equal(a[i], b[i]))
      return ::testing::AssertionFailure() << preset << " (" << members << " members): tensor " << i
                                           << " differs, max |diff| " << (a[i] - b[i]).abs().max().item<double>();
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(ConvLayoutTest, MemberMajorStagesGiveTheStackedNumbers) {
  for (const char* preset : {"cnn", "vgg", "resnet"}) {
    EXPECT_TRUE(layouts_agree(preset, 3));
    EXPECT_TRUE(layouts_agree(preset, 1));
  }
}

TEST(ConvLayoutTest, SharedImagesGoToEveryMember) {
  // [B, C, H, W] images for all members: member-major takes each member's
  // view of the same images.
  auto opts = ConvOptions::preset("cnn", 1, 8, 8, 3).stages({4}).hidden(0);
  ConvEnsemble stacked(opts, {1, 2}), member_major(opts, {1, 2});
  member_major.set_member_major(true);
  at::manual_seed(2);
  at::Tensor x = at::randn({5, 1, 8, 8});
  at::Tensor a = stacked.forward(x), b = member_major.forward(x);
  EXPECT_EQ(b.sizes(), (std::vector<int64_t>{2, 5, 3}));
  EXPECT_TRUE(at::equal(a, b)) << (a - b).abs().max().item<double>();
}
