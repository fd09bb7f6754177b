// FlatAdam against LibTorch's Adam (the reference it replaces): the same
// trajectory, checkpoints that load either way, gradients that stay bound
// to the flat buffer.
#include "endd/train/flat_adam.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/serialize.h>

#include <cmath>
#include <sstream>

#include "endd/models/mlp_ensemble.h"
#include "endd/train/adam_kernel.h"
#include "endd/train/gradient_clipping.h"

using endd::train::FlatAdam;

namespace {

endd::models::MlpEnsemble student() {
  return endd::models::MlpEnsemble(endd::models::MlpOptions(2, 3).hidden_layers(3).width(16), {7});
}

// One step on a fixed batch of batch `k`: a loss whose gradient reaches every parameter.
template <typename Optimizer>
void train_step(endd::models::MlpEnsemble& net, Optimizer& opt, int64_t k) {
  at::Tensor x = at::randn({1, 32, 2}, at::make_generator<at::CPUGeneratorImpl>(100 + k));
  opt.zero_grad();
  net.forward(x).square().mean().backward();
  opt.step();
}

double max_difference(endd::models::MlpEnsemble& a, endd::models::MlpEnsemble& b) {
  double worst = 0;
  auto pa = a.parameters(), pb = b.parameters();
  for (size_t i = 0; i < pa.size(); ++i) worst = std::max(worst, (pa[i] - pb[i]).abs().max().item<double>());
  return worst;
}

std::string saved(const torch::optim::Optimizer& opt) {
  torch::serialize::OutputArchive archive;
  opt.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

template <typename Optimizer>
void load(Optimizer& opt, const std::string& bytes) {
  torch::serialize::InputArchive archive;
  std::istringstream in(bytes);
  archive.load_from(in);
  opt.load(archive);
}

const auto kOptions = torch::optim::AdamOptions(1e-2).weight_decay(1e-3);

}  // namespace

TEST(FlatAdamTest, FollowsLibTorchAdam) {
  auto a = student(), b = student();
  torch::optim::Adam reference(a.parameters(), kOptions);
  FlatAdam flat(b.parameters(), kOptions);
  ASSERT_EQ(max_difference(a, b), 0.0);  // flattening keeps the weights
  for (int64_t k = 0; k < 50; ++k) {
    train_step(a, reference, k);
    train_step(b, flat, k);
  }
  // The same operations element by element; only vector/scalar tails may
  // round differently.
  EXPECT_LT(max_difference(a, b), 1e-5);
  EXPECT_GT((a.parameters()[0] - student().parameters()[0]).abs().max().item<double>(), 1e-2);  // it moved
}

TEST(FlatAdamTest, GradientsAndParametersLiveInTheBuffer) {
  auto net = student();
  FlatAdam opt(net.parameters(), kOptions);
  train_step(net, opt, 0);
  at::Tensor flat = opt.gradient().clone();
  at::Tensor joined;
  {
    std::vector<at::Tensor> grads;
    for (const auto& p : net.parameters()) grads.push_back(p.grad().reshape(-1));
    joined = at::cat(grads);
  }
  EXPECT_TRUE(at::equal(flat, joined));
  EXPECT_GT(flat.abs().sum().item<double>(), 0.0);
  opt.zero_grad();
  for (const auto& p : net.parameters()) EXPECT_EQ(p.grad().abs().sum().item<double>(), 0.0);
  // Clipping the flat gradient clips every parameter's.
  net.forward(at::randn({1, 8, 2})).square().mean().backward();
  const double before = net.parameters()[0].grad().abs().max().item<double>();
  endd::train::clip_gradients_({opt.gradient()}, 1e-6);
  EXPECT_LT(net.parameters()[0].grad().abs().max().item<double>(), before);
}

TEST(FlatAdamTest, CheckpointsLoadEitherWay) {
  // Five steps with one optimiser, five more after loading its state into the other.
  for (bool flat_first : {true, false}) {
    auto a = student(), b = student();
    torch::optim::Adam reference(a.parameters(), kOptions);
    FlatAdam flat(b.parameters(), kOptions);
    for (int64_t k = 0; k < 5; ++k) {
      train_step(a, reference, k);
      train_step(b, flat, k);
    }
    auto c = student(), d = student();
    for (size_t i = 0; i < c.parameters().size(); ++i) {
      at::NoGradGuard no_grad;
      c.parameters()[i].copy_((flat_first ? b : a).parameters()[i]);
      d.parameters()[i].copy_((flat_first ? b : a).parameters()[i]);
    }
    torch::optim::Adam plain(c.parameters(), kOptions);
    FlatAdam flat_again(d.parameters(), kOptions);
    const std::string bytes = flat_first ? saved(flat) : saved(reference);
    load(plain, bytes);
    load(flat_again, bytes);
    for (int64_t k = 5; k < 10; ++k) {
      train_step(a, reference, k);
      train_step(b, flat, k);
      train_step(c, plain, k);
      train_step(d, flat_again, k);
    }
    EXPECT_LT(max_difference(a, c), 1e-5) << flat_first;
    EXPECT_LT(max_difference(b, d), 1e-5) << flat_first;
    EXPECT_LT(max_difference(a, d), 1e-5) << flat_first;
  }
}

TEST(FlatAdamTest, RefusesAmsgrad) {
  auto net = student();
  EXPECT_THROW(FlatAdam(net.parameters(), torch::optim::AdamOptions(1e-2).amsgrad(true)), std::exception);
}

// The one-pass CPU update (adam_kernel.h) against Adam's formulas in double,
// on a length with vector tails.
TEST(FlatAdamTest, OnePassKernelFollowsTheFormulas) {
  const int64_t n = 37;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
  at::Tensor p = at::randn({n}, gen), g = at::randn({n}, gen), m = at::randn({n}, gen) * 0.1,
             v = at::rand({n}, gen) * 0.01;
  const at::Tensor p0 = p.clone(), m0 = m.clone(), v0 = v.clone();
  endd::train::AdamStepConstants c;
  c.beta1 = 0.9f;
  c.beta2 = 0.999f;
  c.weight_decay = 0.1f;
  const int step = 7;
  const double bias1 = 1 - std::pow(0.9, step), bias2 = 1 - std::pow(0.999, step), lr = 3e-3;
  c.inv_sqrt_bias2 = static_cast<float>(1 / std::sqrt(bias2));
  c.eps = 1e-8f;
  c.step_size = static_cast<float>(lr / bias1);
  endd::train::adam_pass(p.data_ptr<float>(), g.data_ptr<float>(), m.data_ptr<float>(), v.data_ptr<float>(), n, c);
  for (int64_t i = 0; i < n; ++i) {
    const double grad = g[i].item<double>() + 0.1 * p0[i].item<double>();
    const double m1 = 0.9 * m0[i].item<double>() + 0.1 * grad;
    const double v1 = 0.999 * v0[i].item<double>() + 0.001 * grad * grad;
    const double p1 = p0[i].item<double>() - lr / bias1 * m1 / (std::sqrt(v1) / std::sqrt(bias2) + 1e-8);
    EXPECT_NEAR(m[i].item<double>(), m1, 1e-6 * (1 + std::abs(m1))) << i;
    EXPECT_NEAR(v[i].item<double>(), v1, 1e-6 * (1 + std::abs(v1))) << i;
    EXPECT_NEAR(p[i].item<double>(), p1, 1e-6 * (1 + std::abs(p1))) << i;
  }
}
