#include "endd/train/ensemble_shards.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <type_traits>

#include "endd/core/error.h"
#include "endd/train/lanes.h"
#include "endd/train/optimizer_state.h"

namespace endd::train {
namespace {

enum class Direction { kShardToWhole, kWholeToShard };

// Both stack members along dimension 0, each member a block of rows of equal
// size (one row for MLP weights [M, in, out], C rows for convolution weights
// [M * C, ...]): the rows of shard member 0 in the whole's tensor.
int64_t rows_per_member(const at::Tensor& shard_tensor, int64_t shard_members, const at::Tensor& whole_tensor,
                        int64_t whole_members, const std::string& name) {
  const int64_t rows = shard_tensor.dim() >= 1 ? shard_tensor.size(0) / shard_members : 0;
  ENDD_CHECK(rows >= 1 && shard_tensor.size(0) == rows * shard_members && whole_tensor.dim() == shard_tensor.dim() &&
                 whole_tensor.size(0) == rows * whole_members,
             "'", name, "' does not stack members along dimension 0");
  return rows;
}

// Copies every parameter and buffer between `shard` and members [offset,
// offset + shard.members()) of `whole`.
void copy_members(models::EnsembleNet& shard, models::EnsembleNet& whole, int64_t offset, Direction direction) {
  torch::NoGradGuard no_grad;
  const int64_t part = shard.members(), all = whole.members();
  auto copy = [&](const auto& shard_items, const auto& whole_items, const char* kind) {
    ENDD_CHECK(shard_items.size() == whole_items.size(), "shard and ensemble differ in their number of ", kind);
    for (const auto& item : shard_items) {
      const at::Tensor* whole_tensor = whole_items.find(item.key());
      ENDD_CHECK(whole_tensor != nullptr, "ensemble has no ", kind, " '", item.key(), "'");
      const int64_t rows = rows_per_member(item.value(), part, *whole_tensor, all, item.key());
      at::Tensor block = whole_tensor->slice(0, offset * rows, (offset + part) * rows);
      if (direction == Direction::kShardToWhole) block.copy_(item.value());
      else item.value().copy_(block);
    }
  };
  copy(shard.named_parameters(), whole.named_parameters(), "parameters");
  copy(shard.named_buffers(), whole.named_buffers(), "buffers");
}

// An Adam state of zeros for every parameter of `whole` that has none, so
// that the shards only write into existing tensors (never into the map) when
// they run side by side.
void make_whole_state(torch::optim::Optimizer& whole_opt, models::EnsembleNet& whole) {
  auto& state = whole_opt.state();
  for (const auto& p : whole.parameters()) {
    auto& slot = state[state_key(state, p)];
    if (slot) continue;
    auto fresh = std::make_unique<torch::optim::AdamParamState>();
    fresh->exp_avg(at::zeros_like(p, at::MemoryFormat::Preserve));
    fresh->exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Preserve));
    slot = std::move(fresh);
  }
}

// The Adam state of members [offset, offset + count) of `whole`, per
// parameter name: what a shard's optimiser resumes from. Taken before the
// shards start, as they write their own epochs back into the whole state.
using Moments = std::map<std::string, std::unique_ptr<torch::optim::AdamParamState>>;
Moments moments_of_members(torch::optim::Optimizer& whole_opt, models::EnsembleNet& whole, int64_t offset,
                           int64_t count) {
  auto& state = whole_opt.state();
  Moments moments;
  for (const auto& item : whole.named_parameters()) {
    auto it = state.find(state_key(state, item.value()));
    ENDD_CHECK(it != state.end(), "no optimiser state for '", item.key(), "'");
    const auto& from = static_cast<const torch::optim::AdamParamState&>(*it->second);
    const int64_t rows = item.value().size(0) / whole.members();
    auto m = std::make_unique<torch::optim::AdamParamState>();
    m->step(from.step());
    m->exp_avg(from.exp_avg().slice(0, offset * rows, (offset + count) * rows).clone());
    m->exp_avg_sq(from.exp_avg_sq().slice(0, offset * rows, (offset + count) * rows).clone());
    moments[item.key()] = std::move(m);
  }
  return moments;
}

void resume_moments(torch::optim::Optimizer& shard_opt, models::EnsembleNet& shard, Moments& moments) {
  auto& state = shard_opt.state();
  for (const auto& item : shard.named_parameters()) state[state_key(state, item.value())] = std::move(moments.at(item.key()));
}

// Writes a shard's Adam moments into its members' rows of the whole state.
void store_moments(torch::optim::Optimizer& shard_opt, models::EnsembleNet& shard, torch::optim::Optimizer& whole_opt,
                   models::EnsembleNet& whole, int64_t offset) {
  torch::NoGradGuard no_grad;
  auto& shard_state = shard_opt.state();
  auto& whole_state = whole_opt.state();
  const auto whole_params = whole.named_parameters();
  for (const auto& item : shard.named_parameters()) {
    const at::Tensor& whole_param = *whole_params.find(item.key());
    const int64_t rows = rows_per_member(item.value(), shard.members(), whole_param, whole.members(), item.key());
    auto it = shard_state.find(state_key(shard_state, item.value()));
    if (it == shard_state.end()) continue;  // not stepped yet
    const auto& from = static_cast<const torch::optim::AdamParamState&>(*it->second);
    auto& to = static_cast<torch::optim::AdamParamState&>(*whole_state.at(state_key(whole_state, whole_param)));
    // Every shard has taken the same steps; one writes the count the others share.
    if (offset == 0) to.step(from.step());
    to.exp_avg().slice(0, offset * rows, (offset + shard.members()) * rows).copy_(from.exp_avg());
    to.exp_avg_sq().slice(0, offset * rows, (offset + shard.members()) * rows).copy_(from.exp_avg_sq());
  }
}

// Where the shards meet after each epoch: the last to arrive runs the whole
// ensemble's hook while the others wait. A shard that fails releases the
// others with an error instead of leaving them waiting for it.
class EpochBarrier {
 public:
  explicit EpochBarrier(size_t parties) : parties_(parties) {}

  void arrive(const std::function<void()>& last) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (failure_) throw Error("training stopped: another shard failed");
    const uint64_t generation = generation_;
    if (++arrived_ < parties_) {
      released_.wait(lock, [&] { return generation_ != generation || failure_; });
      if (generation_ == generation) throw Error("training stopped: another shard failed");
      return;
    }
    try {
      last();
    } catch (...) {
      failure_ = std::current_exception();
      released_.notify_all();
      throw;
    }
    arrived_ = 0;
    ++generation_;
    released_.notify_all();
  }

  void fail(std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!failure_) failure_ = error;
    released_.notify_all();
  }

  std::exception_ptr failure() {
    std::lock_guard<std::mutex> lock(mutex_);
    return failure_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  size_t parties_, arrived_ = 0;
  uint64_t generation_ = 0;
  std::exception_ptr failure_;
};

// The whole ensemble's curve: epochs before `first` as resumed, then per
// epoch the members' mean loss and the slowest shard's time.
TrainingCurve combine(const std::vector<TrainingCurve>& curves, const std::vector<size_t>& begin,
                      const TrainingCurve& resumed) {
  TrainingCurve curve = curves[0];
  const size_t members = begin.back();
  for (size_t e = resumed.size(); e < curve.size(); ++e) {
    double loss = 0, seconds = 0;
    for (size_t s = 0; s < curves.size(); ++s) {
      loss += curves[s][e].loss * double(begin[s + 1] - begin[s]);
      seconds = std::max(seconds, curves[s][e].seconds);
    }
    curve[e].loss = loss / double(members);
    curve[e].seconds = seconds;
  }
  std::copy(resumed.begin(), resumed.end(), curve.begin());
  return curve;
}

}  // namespace

size_t shards_for(int64_t members, c10::Device device) {
  if (!device.is_cpu()) return 1;
  return lanes_for(static_cast<size_t>(std::max<int64_t>(members, 1)), device);
}

TrainingCurve train_in_shards(models::EnsembleNet& ensemble, const MakeEnsemble& make,
                              const std::vector<uint64_t>& init_seeds, const at::Tensor& inputs,
                              const at::Tensor& labels, const std::vector<uint64_t>& order_seeds,
                              const EnsembleTrainOptions& options, size_t shards, const TrainingHooks& hooks) {
  const auto M = static_cast<size_t>(ensemble.members());
  ENDD_CHECK(init_seeds.size() == M && order_seeds.size() == M, "need one initialisation and one data-order "
             "seed per member");
  shards = std::max<size_t>(1, std::min(shards, M));
  if (shards == 1 || options.val_inputs.defined())
    return train_ensemble(ensemble, inputs, labels, order_seeds, options, hooks);
  const auto device = ensemble.parameters().front().device();
  std::vector<size_t> begin;  // shard s holds members [begin[s], begin[s + 1])
  for (size_t s = 0; s <= shards; ++s) begin.push_back(s * M / shards);

  // The whole ensemble's optimiser, as train_ensemble would make it: what
  // the hooks resume from and checkpoint.
  torch::optim::Adam whole_opt(ensemble.parameters(),
                               torch::optim::AdamOptions(options.learning_rate).weight_decay(options.weight_decay));
  TrainingCurve resumed;
  const int64_t done = hooks.resume ? hooks.resume(whole_opt, resumed) : 0;
  make_whole_state(whole_opt, ensemble);

  std::vector<Moments> resumed_moments(shards);
  if (done > 0)
    for (size_t s = 0; s < shards; ++s)
      resumed_moments[s] = moments_of_members(whole_opt, ensemble, long(begin[s]), long(begin[s + 1] - begin[s]));
  std::vector<TrainingCurve> curves(shards);
  EpochBarrier barrier(shards);
  auto train_shard = [&](size_t s) {
    auto slice = [&](const std::vector<uint64_t>& v) {
      return std::vector<uint64_t>(v.begin() + long(begin[s]), v.begin() + long(begin[s + 1]));
    };
    const auto offset = static_cast<int64_t>(begin[s]);
    auto net = make(slice(init_seeds));
    net->to(device);
    copy_members(*net, ensemble, offset, Direction::kWholeToShard);
    TrainingHooks mine;
    if (done > 0) {
      mine.resume = [&, s](torch::optim::Optimizer& opt, TrainingCurve& curve) {
        resume_moments(opt, *net, resumed_moments[s]);
        curve = resumed;
        return done;
      };
    }
    if (hooks.after_epoch) {
      mine.after_epoch = [&, s, offset](const TrainingCurve& curve, torch::optim::Optimizer& opt) {
        copy_members(*net, ensemble, offset, Direction::kShardToWhole);
        store_moments(opt, *net, whole_opt, ensemble, offset);
        curves[s] = curve;
        barrier.arrive([&] { hooks.after_epoch(combine(curves, begin, resumed), whole_opt); });
      };
    }
    auto o = options;
    o.quiet = options.quiet || s > 0;  // one progress line: shard 0's
    o.label = options.label.empty() ? "train " + std::to_string(M) + " members in " + std::to_string(shards) + " shards"
                                    : options.label;
    curves[s] = train_ensemble(*net, inputs, labels, slice(order_seeds), o, mine);
    copy_members(*net, ensemble, offset, Direction::kShardToWhole);
  };
  try {
    run_in_lanes(shards, shards, [&](size_t s) {
      try {
        train_shard(s);
      } catch (...) {
        barrier.fail(std::current_exception());
        throw;
      }
    });
  } catch (...) {
    // The shard that failed first, not one it stopped.
    if (auto first = barrier.failure()) std::rethrow_exception(first);
    throw;
  }
  return combine(curves, begin, resumed);
}

}  // namespace endd::train
