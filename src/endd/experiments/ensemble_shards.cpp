#include "endd/experiments/ensemble_shards.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>

#include "endd/core/error.h"
#include "endd/experiments/lanes.h"

namespace endd::experiments {
namespace {

// Copies every parameter and buffer of `shard` into members [offset, offset +
// shard.members()) of `whole`. Both stack members along dimension 0, each
// member a block of rows of equal size (one row for MLP weights [M, in, out],
// C rows for convolution weights [M * C, ...]).
void copy_members(models::EnsembleNet& shard, models::EnsembleNet& whole, int64_t offset) {
  torch::NoGradGuard no_grad;
  const int64_t part = shard.members(), all = whole.members();
  auto copy = [&](const auto& from, const auto& to, const char* kind) {
    ENDD_CHECK(from.size() == to.size(), "shard and ensemble differ in their number of ", kind);
    for (const auto& item : from) {
      const at::Tensor* target = to.find(item.key());
      ENDD_CHECK(target != nullptr, "ensemble has no ", kind, " '", item.key(), "'");
      const at::Tensor& src = item.value();
      const int64_t rows = src.dim() >= 1 ? src.size(0) / part : 0;
      ENDD_CHECK(rows >= 1 && src.size(0) == rows * part && target->dim() == src.dim() &&
                     target->size(0) == rows * all,
                 kind, " '", item.key(), "' does not stack members along dimension 0");
      target->slice(0, offset * rows, (offset + part) * rows).copy_(src);
    }
  };
  copy(shard.named_parameters(), whole.named_parameters(), "parameters");
  copy(shard.named_buffers(), whole.named_buffers(), "buffers");
}

}  // namespace

size_t shards_for(int64_t members, c10::Device device) {
  if (!device.is_cpu()) return 1;
  return lanes_for(static_cast<size_t>(std::max<int64_t>(members, 1)), device);
}

train::TrainingCurve train_in_shards(models::EnsembleNet& ensemble, const MakeEnsemble& make,
                                     const std::vector<uint64_t>& init_seeds, const at::Tensor& inputs,
                                     const at::Tensor& labels, const std::vector<uint64_t>& order_seeds,
                                     const train::EnsembleTrainOptions& options, size_t shards) {
  const auto M = static_cast<size_t>(ensemble.members());
  ENDD_CHECK(init_seeds.size() == M && order_seeds.size() == M, "need one initialisation and one data-order "
             "seed per member");
  shards = std::max<size_t>(1, std::min(shards, M));
  if (shards == 1) return train::train_ensemble(ensemble, inputs, labels, order_seeds, options);
  const auto device = ensemble.parameters().front().device();
  std::vector<size_t> begin;  // shard s holds members [begin[s], begin[s + 1])
  for (size_t s = 0; s <= shards; ++s) begin.push_back(s * M / shards);
  std::vector<train::TrainingCurve> curves(shards);
  run_in_lanes(shards, shards, [&](size_t s) {
    auto slice = [&](const std::vector<uint64_t>& v) {
      return std::vector<uint64_t>(v.begin() + long(begin[s]), v.begin() + long(begin[s + 1]));
    };
    auto net = make(slice(init_seeds));
    net->to(device);
    auto o = options;
    o.quiet = options.quiet || s > 0;  // one progress line: shard 0's
    o.label = "train " + std::to_string(M) + " members in " + std::to_string(shards) + " shards";
    curves[s] = train::train_ensemble(*net, inputs, labels, slice(order_seeds), o);
    copy_members(*net, ensemble, static_cast<int64_t>(begin[s]));
  });
  train::TrainingCurve curve = curves[0];
  for (size_t e = 0; e < curve.size(); ++e) {
    double loss = 0, seconds = 0;
    for (size_t s = 0; s < shards; ++s) {
      loss += curves[s][e].loss * double(begin[s + 1] - begin[s]);
      seconds = std::max(seconds, curves[s][e].seconds);
    }
    curve[e].loss = loss / double(M);
    curve[e].seconds = seconds;
  }
  return curve;
}

}  // namespace endd::experiments
