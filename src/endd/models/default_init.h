#pragma once
// PyTorch's default initialisation of each layer type, applied to a
// TorchScript module's layers from a seeded generator, so that members built
// from one scripted architecture start where `nn.Linear(...)` etc. would, each
// from its own seed.
#include <ATen/core/Generator.h>

namespace torch::jit {
struct Module;
}

namespace endd::models {

/// Re-initialises every parameter (and resets normalisation statistics) of
/// `module` as PyTorch's `reset_parameters()` would for its layer type:
/// Linear, Conv*/ConvTranspose* and Bilinear (uniform +-1/sqrt(fan_in), the
/// kaiming_uniform(a=sqrt(5)) bound), the norms (weight 1, bias 0, running
/// mean 0 and variance 1), Embedding (N(0, 1)) and RNN/LSTM/GRU (uniform
/// +-1/sqrt(hidden)). Throws endd::Error naming the first layer that holds
/// parameters of another type: endd would not know how to initialise it.
void reset_to_default_init(torch::jit::Module& module, at::Generator& generator);

}  // namespace endd::models
