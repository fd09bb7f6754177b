// PyTorch's default initialisation applied to a TorchScript module's layers
// (models/default_init.h). The modules are built here with the layer type
// names TorchScript gives nn.Linear etc.; the bounds are nn.init's formulas.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/jit/api/module.h>

#include <cmath>

#include "endd/core/error.h"
#include "endd/core/seeding.h"
#include "endd/models/default_init.h"

namespace {

torch::jit::Module layer(const std::string& type, const std::vector<std::pair<std::string, at::Tensor>>& params,
                         const std::vector<std::pair<std::string, at::Tensor>>& buffers = {}) {
  torch::jit::Module m("__torch__.torch.nn.modules." + type);
  for (const auto& [name, t] : params) m.register_parameter(name, t.clone(), false);
  for (const auto& [name, t] : buffers) m.register_buffer(name, t.clone());
  return m;
}

torch::jit::Module network() {
  torch::jit::Module net("__torch__.Net");
  net.register_module("fc", layer("Linear", {{"weight", at::zeros({40, 50})}, {"bias", at::zeros({40})}}));
  net.register_module("conv", layer("Conv2d", {{"weight", at::zeros({16, 3, 3, 3})}, {"bias", at::zeros({16})}}));
  net.register_module("norm", layer("BatchNorm2d", {{"weight", at::zeros({16})}, {"bias", at::ones({16})}},
                                    {{"running_mean", at::ones({16})}, {"running_var", at::zeros({16})}}));
  return net;
}

}  // namespace

TEST(DefaultInitTest, EachLayerTypeGetsPyTorchsScheme) {
  torch::jit::Module net = network();
  at::Generator g = endd::cpu_generator(7);
  endd::models::reset_to_default_init(net, g);
  // Linear: U(-b, b) with b = 1/sqrt(fan_in) for weight and bias; sd b/sqrt(3).
  at::Tensor w = net.attr("fc").toModule().attr("weight").toTensor();
  const double b = 1.0 / std::sqrt(50.0);
  EXPECT_LE(w.abs().max().item<double>(), b);
  EXPECT_NEAR(w.std().item<double>(), b / std::sqrt(3.0), 0.05 * b);
  EXPECT_LE(net.attr("fc").toModule().attr("bias").toTensor().abs().max().item<double>(), b);
  EXPECT_GT(net.attr("fc").toModule().attr("bias").toTensor().abs().max().item<double>(), 0.5 * b);
  // Conv: fan_in = in_channels * kernel area = 27.
  at::Tensor c = net.attr("conv").toModule().attr("weight").toTensor();
  EXPECT_LE(c.abs().max().item<double>(), 1.0 / std::sqrt(27.0));
  EXPECT_GT(c.abs().max().item<double>(), 0.8 / std::sqrt(27.0));
  // Norms: weight 1, bias 0, running statistics of a fresh layer.
  auto norm = net.attr("norm").toModule();
  EXPECT_TRUE(at::equal(norm.attr("weight").toTensor(), at::ones({16})));
  EXPECT_TRUE(at::equal(norm.attr("bias").toTensor(), at::zeros({16})));
  EXPECT_TRUE(at::equal(norm.attr("running_mean").toTensor(), at::zeros({16})));
  EXPECT_TRUE(at::equal(norm.attr("running_var").toTensor(), at::ones({16})));
}

TEST(DefaultInitTest, TheSeedDecides) {
  torch::jit::Module a = network(), b = network(), c = network();
  at::Generator ga = endd::cpu_generator(1), gb = endd::cpu_generator(1), gc = endd::cpu_generator(2);
  endd::models::reset_to_default_init(a, ga);
  endd::models::reset_to_default_init(b, gb);
  endd::models::reset_to_default_init(c, gc);
  auto weight = [](torch::jit::Module& m) { return m.attr("fc").toModule().attr("weight").toTensor(); };
  EXPECT_TRUE(at::equal(weight(a), weight(b)));
  EXPECT_FALSE(at::equal(weight(a), weight(c)));
}

TEST(DefaultInitTest, UnknownLayersWithParametersAreRefusedByName) {
  torch::jit::Module net = network();
  net.register_module("gate", layer("Gate", {{"alpha", at::zeros({3})}}));
  at::Generator g = endd::cpu_generator(0);
  try {
    endd::models::reset_to_default_init(net, g);
    FAIL() << "expected an error";
  } catch (const endd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 'gate' of type Gate holds parameters (alpha)"), std::string::npos)
        << e.what();
  }
}
