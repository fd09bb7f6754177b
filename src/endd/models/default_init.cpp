#include "endd/models/default_init.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/jit/api/module.h>

#include <cmath>
#include <string>

#include "endd/core/error.h"

namespace endd::models {
namespace {

// "__torch__.torch.nn.modules.linear.Linear" -> "Linear" (a mangled
// "...___torch_mangle_3.Linear" too: the mangle is a namespace part).
std::string layer_type(const torch::jit::Module& m) { return m.type()->name() ? m.type()->name()->name() : ""; }

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

void uniform(at::Tensor t, double bound, at::Generator& g) { t.uniform_(-bound, bound, g); }

// fan_in as torch.nn.init computes it: size(1) times the receptive field.
double fan_in(const at::Tensor& weight) {
  return weight.dim() < 2 ? double(weight.numel()) : double(weight.numel() / weight.size(0));
}

void init_layer(const std::string& path, const std::string& type, torch::jit::Module& m, at::Generator& g) {
  auto params = m.named_parameters(/*recurse=*/false);
  if (params.size() == 0 && !starts_with(type, "BatchNorm")) return;
  auto get = [&](const char* name) -> at::Tensor { return m.hasattr(name) && m.attr(name).isTensor() ? m.attr(name).toTensor() : at::Tensor(); };
  if (type == "Linear" || starts_with(type, "Conv")) {
    at::Tensor w = get("weight"), b = get("bias");
    const double bound = 1.0 / std::sqrt(fan_in(w));
    uniform(w, bound, g);  // kaiming_uniform_(a=sqrt(5)) has exactly this bound
    if (b.defined()) uniform(b, bound, g);
  } else if (type == "Bilinear") {
    at::Tensor w = get("weight"), b = get("bias");
    const double bound = 1.0 / std::sqrt(double(w.size(1)));
    uniform(w, bound, g);
    if (b.defined()) uniform(b, bound, g);
  } else if (starts_with(type, "BatchNorm") || starts_with(type, "InstanceNorm") || type == "LayerNorm" ||
             type == "GroupNorm" || type == "SyncBatchNorm") {
    if (at::Tensor w = get("weight"); w.defined()) w.fill_(1);
    if (at::Tensor b = get("bias"); b.defined()) b.zero_();
    if (at::Tensor rm = get("running_mean"); rm.defined()) rm.zero_();
    if (at::Tensor rv = get("running_var"); rv.defined()) rv.fill_(1);
    if (at::Tensor n = get("num_batches_tracked"); n.defined()) n.zero_();
  } else if (type == "Embedding") {
    get("weight").normal_(0, 1, g);
  } else if (type == "RNN" || type == "LSTM" || type == "GRU") {
    double hidden = 0;
    for (const auto& p : params)
      if (starts_with(p.name, "weight_hh")) hidden = double(p.value.size(1));
    ENDD_CHECK(hidden > 0, "layer '", path, "' (", type, "): no weight_hh parameter to read its hidden size from");
    for (const auto& p : params) uniform(p.value, 1.0 / std::sqrt(hidden), g);
  } else {
    std::string names;
    for (const auto& p : params) names += (names.empty() ? "" : ", ") + p.name;
    throw Error("layer '" + path + "' of type " + type + " holds parameters (" + names +
                ") that endd does not know how to initialise; known layers: Linear, Conv*, ConvTranspose*, "
                "Bilinear, BatchNorm*, InstanceNorm*, LayerNorm, GroupNorm, Embedding, RNN, LSTM, GRU "
                "(put custom parameters inside one of these, or distil into the module as --student, which "
                "keeps its own initial weights)");
  }
}

}  // namespace

void reset_to_default_init(torch::jit::Module& module, at::Generator& generator) {
  torch::NoGradGuard no_grad;
  for (const auto& named : module.named_modules()) {
    torch::jit::Module m = named.value;
    init_layer(named.name.empty() ? "(top level)" : named.name, layer_type(m), m, generator);
  }
}

}  // namespace endd::models
