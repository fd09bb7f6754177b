#include "endd/models/conv_layout.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>

#include "endd/core/seeding.h"

namespace endd::models {

namespace {

std::string architecture_key(const ConvOptions& o, int64_t batch) {
  std::ostringstream key;
  key << o.channels_ << 'x' << o.height_ << 'x' << o.width_ << '>' << o.classes_ << " stages";
  for (auto s : o.stages_) key << ' ' << s;
  key << " convs " << o.convs_per_stage_ << " bn " << o.batch_norm_ << " res " << o.residual_ << " hidden "
      << o.hidden_ << " dropout " << o.dropout_ << " batch " << batch;
  return key.str();
}

// Seconds of one training step (forward, backward) of `net` on `x`.
double step_seconds(ConvEnsemble& net, const at::Tensor& x) {
  for (auto& p : net.parameters()) p.mutable_grad() = at::Tensor();
  const auto start = std::chrono::steady_clock::now();
  net.forward(x).pow(2).mean().backward();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

ConvLayoutMeasurement measure_conv_layout(const ConvOptions& options, int64_t batch) {
  static std::mutex mutex;
  static std::map<std::string, ConvLayoutMeasurement> measured;
  const std::string key = architecture_key(options, batch);
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = measured.find(key); it != measured.end()) return it->second;
  // As the shards train: one intra-op thread each.
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  ConvEnsemble stacked(options, {1, 2}), member_major(options, {1, 2});
  member_major.set_member_major(true);
  at::Generator gen = cpu_generator(1);
  at::Tensor x = at::randn({2, std::max<int64_t>(batch, 1), options.channels_, options.height_, options.width_}, gen);
  double best_stacked = std::numeric_limits<double>::infinity(), best_member_major = best_stacked;
  for (int round = 0; round < 5; ++round) {  // the first round warms the allocator up, then the fastest
    const double s = step_seconds(stacked, x), m = step_seconds(member_major, x);
    if (round == 0) continue;
    best_stacked = std::min(best_stacked, s);
    best_member_major = std::min(best_member_major, m);
  }
  at::set_num_threads(threads);
  ConvLayoutMeasurement result{best_member_major < best_stacked, best_stacked * 1e3, best_member_major * 1e3};
  measured[key] = result;
  return result;
}

}  // namespace endd::models
