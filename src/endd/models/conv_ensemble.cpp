#include "endd/models/conv_ensemble.h"

#include <ATen/ATen.h>

#include <cmath>

#include "endd/core/error.h"
#include "endd/core/seeding.h"
#include "endd/models/max_pool.h"
#include "endd/models/member_matmul.h"

namespace endd::models {

ConvOptions ConvOptions::preset(const std::string& name, int64_t channels, int64_t height, int64_t width,
                                int64_t classes) {
  ConvOptions o(channels, height, width, classes);
  if (name == "cnn") return o;
  if (name == "vgg") return o.stages({32, 64, 128}).convs_per_stage(2).batch_norm(true).dropout(0.3);
  if (name == "resnet") return o.stages({32, 64, 128}).residual(true).batch_norm(true);
  throw Error("arch: expected mlp, cnn, vgg or resnet, got '" + name + "'");
}

namespace {
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) per member from its own generator, stacked.
at::Tensor uniform_stack(const std::vector<at::Generator>& gens, at::IntArrayRef shape, int64_t fan_in) {
  double bound = 1.0 / std::sqrt(double(fan_in));
  std::vector<at::Tensor> parts;
  for (auto g : gens) parts.push_back(at::rand(shape, g, at::kFloat) * (2 * bound) - bound);
  return at::stack(parts);
}
}  // namespace

ConvEnsemble::Conv ConvEnsemble::make_conv(const std::string& name, int64_t in, int64_t out, int64_t kernel,
                                           int64_t stride, const std::vector<at::Generator>& gens) {
  Conv c;
  c.stride = stride;
  c.padding = kernel / 2;
  const int64_t M = members_;
  c.weight = register_parameter(name + "_weight",
                                uniform_stack(gens, {out, in, kernel, kernel}, in * kernel * kernel)
                                    .reshape({M * out, in, kernel, kernel}));
  if (options_.batch_norm_) {
    // No bias before BatchNorm: it cannot change the loss, so its gradient is
    // rounding noise that Adam would scale up into drift visible in eval mode.
    c.bn_weight = register_parameter(name + "_bn_weight", at::ones({M * out}));
    c.bn_bias = register_parameter(name + "_bn_bias", at::zeros({M * out}));
    c.running_mean = register_buffer(name + "_running_mean", at::zeros({M * out}));
    c.running_var = register_buffer(name + "_running_var", at::ones({M * out}));
  } else {
    c.bias = register_parameter(name + "_bias", uniform_stack(gens, {out}, in * kernel * kernel).reshape({M * out}));
  }
  return c;
}

at::Tensor ConvEnsemble::dense_weight(const std::string& name, int64_t in, int64_t out,
                                      const std::vector<at::Generator>& gens, bool bias) {
  if (bias) return register_parameter(name, uniform_stack(gens, {1, out}, in));
  return register_parameter(name, uniform_stack(gens, {in, out}, in));
}

ConvEnsemble::ConvEnsemble(const ConvOptions& o, const std::vector<uint64_t>& member_seeds)
    : options_(o), members_(static_cast<int64_t>(member_seeds.size())) {
  ENDD_CHECK(members_ >= 1, "an ensemble needs at least 1 member");
  ENDD_CHECK(o.channels_ >= 1 && o.height_ >= 1 && o.width_ >= 1 && o.classes_ >= 2,
             "convolutional network needs images of >= 1 channel and >= 2 classes");
  ENDD_CHECK(!o.stages_.empty() && o.convs_per_stage_ >= 1, "convolutional network needs >= 1 stage");
  ENDD_CHECK(o.dropout_ >= 0 && o.dropout_ < 1, "dropout must lie in [0, 1), got ", o.dropout_);
  std::vector<at::Generator> gens;
  for (auto s : member_seeds) gens.push_back(cpu_generator(s));
  int64_t in = o.channels_, h = o.height_, w = o.width_;
  for (size_t s = 0; s < o.stages_.size(); ++s) {
    const int64_t out = o.stages_[s];
    const std::string p = "stage" + std::to_string(s);
    std::vector<Conv> convs;
    if (o.residual_) {
      convs.push_back(make_conv(p + "_conv0", in, out, 3, 2, gens));
      convs.push_back(make_conv(p + "_conv1", out, out, 3, 1, gens));
      convs.push_back(make_conv(p + "_shortcut", in, out, 1, 2, gens));
    } else {
      for (int64_t k = 0; k < o.convs_per_stage_; ++k)
        convs.push_back(make_conv(p + "_conv" + std::to_string(k), k == 0 ? in : out, out, 3, 1, gens));
    }
    stages_.push_back(std::move(convs));
    in = out;
    // Stride-2 convolution (residual) keeps ceil(h/2); 2x2 max-pooling floor(h/2).
    h = o.residual_ ? (h + 1) / 2 : h / 2;
    w = o.residual_ ? (w + 1) / 2 : w / 2;
    ENDD_CHECK(h >= 1 && w >= 1, "images of ", o.height_, "x", o.width_, " are too small for ", o.stages_.size(),
               " stages");
  }
  flat_features_ = in * h * w;
  int64_t features = flat_features_;
  if (o.hidden_ > 0) {
    dense_w_.push_back(dense_weight("fc0_weight", features, o.hidden_, gens, false));
    dense_b_.push_back(dense_weight("fc0_bias", features, o.hidden_, gens, true));
    features = o.hidden_;
  }
  dense_w_.push_back(dense_weight("fc1_weight", features, o.classes_, gens, false));
  dense_b_.push_back(dense_weight("fc1_bias", features, o.classes_, gens, true));
}

at::Tensor ConvEnsemble::apply(const Conv& c, const at::Tensor& x, bool relu, int64_t member) {
  at::Tensor y;
  if (member >= 0) {  // member m's channels: rows [m*out, (m+1)*out) of every tensor
    const int64_t out = c.weight.size(0) / members_;
    auto mine = [&](const at::Tensor& t) { return t.defined() ? t.narrow(0, member * out, out) : t; };
    y = at::conv2d(x, mine(c.weight), mine(c.bias), {c.stride, c.stride}, {c.padding, c.padding});
    if (options_.batch_norm_)
      y = at::batch_norm(y, mine(c.bn_weight), mine(c.bn_bias), mine(c.running_mean), mine(c.running_var),
                         is_training(), 0.1, 1e-5, true);
    return relu ? at::relu(y) : y;
  }
  if (x.is_cuda() || members_ == 1) {
    // One grouped convolution (groups = M) for all members.
    y = at::conv2d(x, c.weight, c.bias, {c.stride, c.stride}, {c.padding, c.padding}, {1, 1}, members_);
  } else {
    // LibTorch's CPU grouped convolution measured ~1.2x slower than separate
    // convolutions (bench/train_bench.cpp), so on the CPU each member's
    // channel slice is convolved on its own; same parameters, same numbers.
    auto xs = x.chunk(members_, 1);
    auto ws = c.weight.chunk(members_, 0);
    std::vector<at::Tensor> bs = c.bias.defined() ? c.bias.chunk(members_, 0) : std::vector<at::Tensor>(members_);
    std::vector<at::Tensor> ys;
    for (int64_t m = 0; m < members_; ++m)
      ys.push_back(at::conv2d(xs[m], ws[m], bs[m], {c.stride, c.stride}, {c.padding, c.padding}));
    y = at::cat(ys, 1);
  }
  if (options_.batch_norm_)
    y = at::batch_norm(y, c.bn_weight, c.bn_bias, c.running_mean, c.running_var, is_training(), 0.1, 1e-5, true);
  return relu ? at::relu(y) : y;
}

at::Tensor ConvEnsemble::forward(const at::Tensor& inputs) {
  const auto& o = options_;
  const int64_t M = members_;
  at::Tensor x = inputs;
  // Rows [B, C*H*W] or [M, B, C*H*W], as endd's run workflow passes inputs.
  const int64_t pixels = o.channels_ * o.height_ * o.width_;
  if (x.dim() == 2 && x.size(1) == pixels) x = x.view({x.size(0), o.channels_, o.height_, o.width_});
  if (x.dim() == 3 && x.size(0) == M && x.size(2) == pixels)
    x = x.view({M, x.size(1), o.channels_, o.height_, o.width_});
  if (x.dim() == 4) x = x.unsqueeze(0).expand({M, x.size(0), x.size(1), x.size(2), x.size(3)});
  ENDD_CHECK(x.dim() == 5 && x.size(0) == M && x.size(2) == o.channels_ && x.size(3) == o.height_ &&
                 x.size(4) == o.width_,
             "convolutional ensemble expects images [B, ", o.channels_, ", ", o.height_, ", ", o.width_, "] or [",
             M, ", B, ...], got ", inputs.sizes());
  const int64_t B = x.size(1);
  at::Tensor h;
  if (member_major_ && x.device().is_cpu() && M > 1) {
    std::vector<at::Tensor> features;
    for (int64_t m = 0; m < M; ++m) features.push_back(stages_forward(x.select(0, m), m).reshape({B, flat_features_}));
    h = at::stack(features);  // [M, B, C*h*w]
  } else {
    // [M, B, C, H, W] -> [B, M*C, H, W]: member m's channels are group m.
    h = stages_forward(x.transpose(0, 1).reshape({B, M * o.channels_, o.height_, o.width_}), -1);
    // [B, M*C, h, w] -> [M, B, C*h*w]
    h = h.reshape({B, M, flat_features_}).transpose(0, 1);
  }
  for (size_t l = 0; l < dense_w_.size(); ++l) {
    if (l + 1 == dense_w_.size() && o.dropout_ > 0 && is_training()) h = member_dropout(h);
    h = member_linear(h, dense_w_[l], dense_b_[l]);
    if (l + 1 < dense_w_.size()) h = at::relu(h);
  }
  return h;
}

at::Tensor ConvEnsemble::stages_forward(at::Tensor h, int64_t member) {
  for (const auto& stage : stages_) {
    if (options_.residual_) {
      at::Tensor main = apply(stage[1], apply(stage[0], h, true, member), false, member);
      h = at::relu(main + apply(stage[2], h, false, member));
    } else {
      for (const auto& c : stage) h = apply(c, h, true, member);
      h = max_pool_2x2(h);
    }
  }
  return h;
}

// Dropout on [M, B, H] with member m's mask drawn from its own seed (set by
// the trainer for each step); PyTorch's global generator only when no seeds
// were set (a caller outside endd's trainers).
at::Tensor ConvEnsemble::member_dropout(const at::Tensor& h) const {
  const double keep = 1.0 - options_.dropout_;
  if (noise_seeds_.size() != static_cast<size_t>(members_)) return at::dropout(h, options_.dropout_, true);
  std::vector<at::Tensor> masks;
  for (uint64_t seed : noise_seeds_)
    masks.push_back(at::bernoulli(at::full({h.size(1), h.size(2)}, keep, at::kFloat), cpu_generator(seed)));
  return h * (at::stack(masks).to(h.device(), h.scalar_type()) / keep);
}

}  // namespace endd::models
