#include "endd/models/mlp_ensemble.h"

#include <ATen/ATen.h>

#include <cmath>

#include "endd/core/error.h"
#include "endd/core/seeding.h"
#include "endd/models/activation_kernels.h"
#include "endd/models/member_matmul.h"

namespace endd::models {

namespace {

// Whether the taped pass applies `a` (or its derivative) to `t` in place in
// a loop of its own (activation_kernels.h): a float32 CPU tensor in one dense
// buffer, and not tanh, whose LibTorch kernels round differently from a plain
// loop (Sleef's tanh, a contracted FMA) and so stay LibTorch's.
bool own_loop(Activation a, const at::Tensor& t) {
  return a != Activation::kTanh && t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous();
}

}  // namespace

Activation parse_activation(const std::string& name) {
  if (name == "relu") return Activation::kReLU;
  if (name == "tanh") return Activation::kTanh;
  if (name == "gelu") return Activation::kGELU;
  if (name == "leaky_relu") return Activation::kLeakyReLU;
  throw Error("activation: expected relu, tanh, gelu or leaky_relu, got '" + name + "'");
}

std::string to_string(Activation a) {
  switch (a) {
    case Activation::kReLU: return "relu";
    case Activation::kTanh: return "tanh";
    case Activation::kGELU: return "gelu";
    case Activation::kLeakyReLU: return "leaky_relu";
  }
  return "?";
}

MlpEnsemble::MlpEnsemble(const MlpOptions& options, const std::vector<uint64_t>& member_seeds)
    : options_(options), members_(static_cast<int64_t>(member_seeds.size())) {
  ENDD_CHECK(members_ >= 1, "an ensemble needs at least 1 member");
  ENDD_CHECK(options.inputs_ >= 1 && options.classes_ >= 2, "MLP needs >= 1 input and >= 2 classes, got ",
             options.inputs_, " and ", options.classes_);
  ENDD_CHECK(options.hidden_layers_ >= 0 && options.width_ >= 1, "MLP needs hidden_layers >= 0 and width >= 1");
  std::vector<int64_t> sizes{options.inputs_};
  for (int64_t l = 0; l < options.hidden_layers_; ++l) sizes.push_back(options.width_);
  sizes.push_back(options.classes_);
  const size_t layers = sizes.size() - 1;
  std::vector<std::vector<at::Tensor>> w(layers), b(layers);
  for (int64_t m = 0; m < members_; ++m) {
    at::Generator gen = cpu_generator(member_seeds[static_cast<size_t>(m)]);
    for (size_t l = 0; l < layers; ++l) {
      double bound = 1.0 / std::sqrt(double(sizes[l]));
      w[l].push_back(at::rand({sizes[l], sizes[l + 1]}, gen, at::kFloat) * (2 * bound) - bound);
      b[l].push_back(at::rand({1, sizes[l + 1]}, gen, at::kFloat) * (2 * bound) - bound);
    }
  }
  for (size_t l = 0; l < layers; ++l) {
    weights_.push_back(register_parameter("w" + std::to_string(l), at::stack(w[l])));
    biases_.push_back(register_parameter("b" + std::to_string(l), at::stack(b[l])));
  }
}

at::Tensor MlpEnsemble::forward(const at::Tensor& inputs) {
  at::Tensor h = inputs;
  if (h.dim() == 2) h = h.unsqueeze(0).expand({members_, h.size(0), h.size(1)});
  ENDD_CHECK(h.dim() == 3 && h.size(0) == members_ && h.size(2) == options_.inputs_,
             "MLP ensemble expects inputs [B, ", options_.inputs_, "] or [", members_, ", B, ",
             options_.inputs_, "], got ", inputs.sizes());
  for (size_t l = 0; l < weights_.size(); ++l) {
    h = member_linear(h, weights_[l], biases_[l]);
    if (l + 1 == weights_.size()) break;
    switch (options_.activation_) {
      case Activation::kReLU: h = at::relu(h); break;
      case Activation::kTanh: h = at::tanh(h); break;
      case Activation::kGELU: h = at::gelu(h); break;
      case Activation::kLeakyReLU: h = at::leaky_relu(h, kLeakyReluSlope); break;
    }
  }
  return h;
}

bool MlpEnsemble::has_taped_backward() const { return options_.activation_ != Activation::kGELU; }

at::Tensor MlpEnsemble::forward_taped(const at::Tensor& inputs, Tape& tape) const {
  ENDD_CHECK(has_taped_backward(), "MLP: no taped backward pass for ", to_string(options_.activation_));
  at::NoGradGuard no_grad;
  at::Tensor h = inputs;
  if (h.dim() == 2) h = h.unsqueeze(0).expand({members_, h.size(0), h.size(1)});
  ENDD_CHECK(h.dim() == 3 && h.size(0) == members_ && h.size(2) == options_.inputs_,
             "MLP ensemble expects inputs [B, ", options_.inputs_, "] or [", members_, ", B, ",
             options_.inputs_, "], got ", inputs.sizes());
  tape.layer_inputs.clear();
  for (size_t l = 0; l < weights_.size(); ++l) {
    tape.layer_inputs.push_back(h);
    h = member_affine(h, weights_[l], biases_[l]);  // a new contiguous tensor
    if (l + 1 == weights_.size()) break;
    if (own_loop(options_.activation_, h)) {
      activate_in_place(options_.activation_, h.data_ptr<float>(), h.numel());
      continue;
    }
    switch (options_.activation_) {
      case Activation::kReLU: h = at::relu(h); break;
      case Activation::kTanh: h = at::tanh(h); break;
      case Activation::kLeakyReLU: h = at::leaky_relu(h, kLeakyReluSlope); break;
      case Activation::kGELU: break;  // refused above
    }
  }
  return h;
}

void MlpEnsemble::backward_taped(const Tape& tape, const at::Tensor& output_gradient) {
  at::NoGradGuard no_grad;
  ENDD_CHECK(tape.layer_inputs.size() == weights_.size(), "MLP: backward_taped without a forward_taped tape");
  auto grad_of = [](at::Tensor& p) -> at::Tensor& {
    if (!p.mutable_grad().defined()) p.mutable_grad() = at::zeros_like(p);
    return p.mutable_grad();
  };
  at::Tensor g = output_gradient;
  for (size_t l = weights_.size(); l-- > 0;) {
    const at::Tensor& input = tape.layer_inputs[l];
    // baddbmm(b, h, W): d/db = g summed over the batch (b broadcasts over it),
    // d/dW = h^T g, d/dh = g W^T.
    at::sum_out(grad_of(biases_[l]), g, {1}, /*keepdim=*/true);
    member_matmul_into(grad_of(weights_[l]), input.transpose(1, 2), g);
    if (l == 0) break;  // the inputs need no gradient
    g = member_matmul(g, weights_[l].transpose(1, 2));
    // `input` is the previous layer's activation output.
    if (own_loop(options_.activation_, g) && own_loop(options_.activation_, input)) {
      activation_backward_in_place(options_.activation_, g.data_ptr<float>(), input.data_ptr<float>(), g.numel());
      continue;
    }
    switch (options_.activation_) {
      case Activation::kReLU: g = at::threshold_backward(g, input, 0); break;
      case Activation::kTanh: g = at::tanh_backward(g, input); break;
      case Activation::kLeakyReLU:
        g = at::leaky_relu_backward(g, input, kLeakyReluSlope, /*self_is_result=*/true);
        break;
      case Activation::kGELU: break;
    }
  }
}

std::vector<at::Tensor> MlpEnsemble::member_parameters(int64_t m) const {
  std::vector<at::Tensor> out;
  for (size_t l = 0; l < weights_.size(); ++l) {
    out.push_back(weights_[l][m].detach());
    out.push_back(biases_[l][m].detach());
  }
  return out;
}

}  // namespace endd::models
