#pragma once
// M convolutional networks in one graph: every convolution is a grouped
// convolution with groups = M (member m's channels form group m), BatchNorm
// runs over the M*C channels (so its statistics stay per member), and the
// fully connected head is a batched matrix product, as in MlpEnsemble.
#include <cstdint>
#include <string>
#include <vector>

#include "endd/models/ensemble_net.h"

namespace endd::models {

struct ConvOptions {
  ConvOptions(int64_t channels, int64_t height, int64_t width, int64_t classes)
      : channels_(channels), height_(height), width_(width), classes_(classes) {}
  int64_t channels_, height_, width_, classes_;
  /// Output channels of each stage; every stage ends with 2x2 max-pooling
  /// (plain) or a stride-2 convolution (residual).
  std::vector<int64_t> stages_{16, 32};
  int64_t convs_per_stage_ = 1;
  bool batch_norm_ = false;
  bool residual_ = false;  ///< ResNet-style stages: conv-conv with a 1x1 projection shortcut
  int64_t hidden_ = 128;   ///< fully connected layer before the classifier (0 = none)
  double dropout_ = 0;     ///< before the classifier, training only

  ConvOptions& stages(std::vector<int64_t> v) { stages_ = std::move(v); return *this; }
  ConvOptions& convs_per_stage(int64_t v) { convs_per_stage_ = v; return *this; }
  ConvOptions& batch_norm(bool v) { batch_norm_ = v; return *this; }
  ConvOptions& residual(bool v) { residual_ = v; return *this; }
  ConvOptions& hidden(int64_t v) { hidden_ = v; return *this; }
  ConvOptions& dropout(double v) { dropout_ = v; return *this; }

  /// Presets: "cnn" (28x28 grey: 2 stages 16-32, FC 128), "vgg" (32x32
  /// colour: 3 stages 32-64-128, 2 convs each, BatchNorm, dropout 0.3),
  /// "resnet" (3 residual stages 32-64-128, BatchNorm).
  static ConvOptions preset(const std::string& name, int64_t channels, int64_t height, int64_t width,
                            int64_t classes);
};

class ConvEnsemble : public EnsembleNet {
 public:
  ConvEnsemble(const ConvOptions& options, const std::vector<uint64_t>& member_seeds);

  /// Images [B, C, H, W] shared by all members or [M, B, C, H, W] per member;
  /// or the same as rows, [B, C*H*W] or [M, B, C*H*W].
  at::Tensor forward(const at::Tensor& inputs) override;
  int64_t members() const override { return members_; }
  void set_noise_seeds(const std::vector<uint64_t>& seeds) override { noise_seeds_ = seeds; }
  int64_t num_classes() const override { return options_.classes_; }
  const ConvOptions& options() const { return options_; }
  /// How the convolutional stages run on the CPU: each member's images
  /// through its own convolutions one member after another (true), or all
  /// members' channels stacked in one tensor (false). The same numbers either
  /// way; which is faster depends on the machine (conv_layout.h).
  void set_member_major(bool v) { member_major_ = v; }
  bool member_major() const { return member_major_; }
  int64_t flat_features() const { return flat_features_; }  ///< per member, after the last stage

 private:
  struct Conv {
    at::Tensor weight, bias;            // [M*out, in, k, k], [M*out] (no bias with BatchNorm)
    at::Tensor bn_weight, bn_bias, running_mean, running_var;  // when batch_norm
    int64_t stride = 1, padding = 1;
  };
  Conv make_conv(const std::string& name, int64_t in, int64_t out, int64_t kernel, int64_t stride,
                 const std::vector<at::Generator>& gens);
  // A convolution (+ BatchNorm, ReLU) of every member's channels stacked
  // ([B, M*C, H, W]; member -1) or of member m's alone ([B, C, H, W]).
  at::Tensor apply(const Conv& c, const at::Tensor& x, bool relu, int64_t member = -1);
  at::Tensor stages_forward(at::Tensor h, int64_t member);
  at::Tensor dense_weight(const std::string& name, int64_t in, int64_t out, const std::vector<at::Generator>& gens,
                          bool bias);

  ConvOptions options_;
  int64_t members_;
  std::vector<uint64_t> noise_seeds_;  ///< per member, for the next training forward's dropout
  at::Tensor member_dropout(const at::Tensor& h) const;
  std::vector<std::vector<Conv>> stages_;  ///< plain: convs; residual: conv, conv, shortcut
  std::vector<at::Tensor> dense_w_, dense_b_;
  int64_t flat_features_ = 0;
  bool member_major_ = false;
};

}  // namespace endd::models
