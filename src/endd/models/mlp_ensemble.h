#pragma once
// M multilayer perceptrons in one module: each layer's weights are stacked
// to [M, in, out] and applied with one batched matrix product, so M members
// cost one call per layer instead of M. Classifiers on the CPU train member
// after member instead (cross_entropy_gradients), for the cache.
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

  // Training without autograd. A distillation step on a small MLP is
  // dominated by per-operation overhead, which autograd's recording and its
  // engine's node calls about double (bench/distill_bench.cpp). The taped
  // pair runs the same operations autograd would (baddbmm's and the
  // activation's backward formulas), so it gives the same gradients.

  /// What the backward pass needs: each layer's input.
  struct Tape {
    std::vector<at::Tensor> layer_inputs;
  };
  /// Whether the activation's derivative follows from its output (ReLU,
  /// tanh, leaky ReLU; not GELU): only then can the tape hold outputs alone.
  bool has_taped_backward() const;
  /// forward(), recording the tape; outside autograd.
  at::Tensor forward_taped(const at::Tensor& inputs, Tape& tape) const;
  /// Writes d loss / d parameter into every parameter's grad() (allocated if
  /// undefined; FlatAdam's views into its flat buffer are written in place)
  /// from `output_gradient` = d loss / d forward_taped(...), [M, B, K].
  void backward_taped(const Tape& tape, const at::Tensor& output_gradient);

  // The members' training step member after member (mlp_member_major_step.cpp).
  // Through the stacked layers, each layer's products for all members leave
  // its activations (100 members x batch 128 x 64 floats: 3 MB) out of
  // cache by the time the next layer reads them; one member's whole forward
  // and backward pass stays in the core's cache (issue 21).

  /// Whether cross_entropy_gradients() can run: float32 parameters on the
  /// CPU, a BLAS, and an activation with a taped backward pass.
  bool has_member_major_step() const;
  /// Writes into every parameter's grad() (allocated if undefined; every
  /// element overwritten) the gradient of the sum over members of each
  /// member's mean cross-entropy on its batch, and returns that sum: the
  /// loss `at::cross_entropy_loss(forward(inputs).flatten(0, 1), labels,
  /// {}, Sum) / B` and its gradients, up to rounding. inputs [M, B, I] (or
  /// [B, I] shared), labels [M * B] in [0, K). Members run in parallel
  /// across intra-op threads; the result does not depend on how many.
  double cross_entropy_gradients(const at::Tensor& inputs, const at::Tensor& labels);

 private:
  MlpOptions options_;
  int64_t members_;
  std::vector<at::Tensor> weights_;  ///< [M, in, out]
  std::vector<at::Tensor> biases_;   ///< [M, 1, out]
};

}  // namespace endd::models
