#pragma once
// Ensemble training split over CPU cores: the members are cut into contiguous
// shards, each trained as its own vectorised ensemble in a lane of one thread
// (lanes.h), and the trained members are copied back into one ensemble.
// Members never interact in training (the loss is a sum of per-member losses
// and Adam is elementwise), so this gives what one graph would, on every core
// instead of one: a 2-64-64-64 MLP step is too small for intra-op threads.
#include <c10/core/Device.h>

#include <functional>
#include <memory>
#include <vector>

#include "endd/models/ensemble_net.h"
#include "endd/train/ensemble_trainer.h"

namespace endd::experiments {

/// Builds an untrained network whose members have these initialisation seeds.
using MakeEnsemble = std::function<std::shared_ptr<models::EnsembleNet>(const std::vector<uint64_t>& init_seeds)>;

/// Number of shards for M members on `device`: one per core on the CPU (at
/// most M), one on a GPU (where one graph is fastest).
size_t shards_for(int64_t members, c10::Device device);

/// Trains `ensemble` (built by `make` from `init_seeds`) in `shards` shards
/// and returns its curve: per epoch, the mean loss over all members and the
/// slowest shard's time. The ensemble must not use `options.augment`, whose
/// random draws depend on the batch of the whole graph.
train::TrainingCurve train_in_shards(models::EnsembleNet& ensemble, const MakeEnsemble& make,
                                     const std::vector<uint64_t>& init_seeds, const at::Tensor& inputs,
                                     const at::Tensor& labels, const std::vector<uint64_t>& order_seeds,
                                     const train::EnsembleTrainOptions& options, size_t shards);

}  // namespace endd::experiments
