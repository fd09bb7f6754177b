#pragma once
// M multilayer perceptrons trained in one vectorised graph: each layer's
// weights are stacked to [M, in, out] and applied with one batched matrix
// product, so M members cost one call per layer instead of M.
#include <cstdint>
#include <string>
#include <vector>

#include "endd/models/ensemble_net.h"

namespace endd::models {

enum class Activation { kReLU, kTanh, kGELU, kLeakyReLU };
Activation parse_activation(const std::string& name);  ///< "relu", "tanh", "gelu", "leaky_relu"
std::string to_string(Activation a);

struct MlpOptions {
  MlpOptions(int64_t inputs, int64_t classes) : inputs_(inputs), classes_(classes) {}
  int64_t inputs_, classes_;
  int64_t hidden_layers_ = 3;
  int64_t width_ = 64;
  Activation activation_ = Activation::kReLU;
  MlpOptions& hidden_layers(int64_t v) { hidden_layers_ = v; return *this; }
  MlpOptions& width(int64_t v) { width_ = v; return *this; }
  MlpOptions& activation(Activation v) { activation_ = v; return *this; }
};

class MlpEnsemble : public EnsembleNet {
 public:
  /// Member m is initialised from its own seed `member_seeds[m]` exactly as a
  /// one-member ensemble with that seed would be (nn.Linear's default scheme:
  /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases).
  MlpEnsemble(const MlpOptions& options, const std::vector<uint64_t>& member_seeds);

  at::Tensor forward(const at::Tensor& inputs) override;
  int64_t members() const override { return members_; }
  int64_t num_classes() const override { return options_.classes_; }
  const MlpOptions& options() const { return options_; }

  /// Member m's parameters as a one-member ensemble would hold them.
  std::vector<at::Tensor> member_parameters(int64_t m) const;

 private:
  MlpOptions options_;
  int64_t members_;
  std::vector<at::Tensor> weights_;  ///< [M, in, out]
  std::vector<at::Tensor> biases_;   ///< [M, 1, out]
};

}  // namespace endd::models
