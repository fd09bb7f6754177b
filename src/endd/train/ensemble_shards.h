#pragma once
// Ensemble training split over CPU cores: the members are cut into contiguous
// shards, each trained as its own vectorised ensemble in a lane of one thread
// (lanes.h), and the trained members are copied back into one ensemble.
// Members never interact in training (the loss is a sum of per-member losses,
// Adam is elementwise, augmentation draws per member), so this gives what one
// graph would. It uses every core where intra-op threads do not: the spiral
// MLP's steps are too small for them (60 s -> 30 s), and the Fashion-MNIST
// CNN's convolutions scale better as two one-thread shards than as one
// two-thread graph (1.6x, docs/threads.md).
#include <c10/core/Device.h>

#include <functional>
#include <memory>
#include <vector>

#include "endd/models/ensemble_net.h"
#include "endd/train/ensemble_trainer.h"

namespace endd::train {

/// Builds an untrained network whose members have these initialisation seeds.
using MakeEnsemble = std::function<std::shared_ptr<models::EnsembleNet>(const std::vector<uint64_t>& init_seeds)>;

/// Number of shards for M members on `device`: one per core on the CPU (at
/// most M), one on a GPU (where one graph is fastest).
size_t shards_for(int64_t members, c10::Device device);

/// Trains `ensemble` (built by `make` from `init_seeds`) in `shards` shards
/// and returns its curve: per epoch, the mean loss over all members and the
/// slowest shard's time.
///
/// `hooks` see the whole ensemble and one Adam optimiser over all of its
/// parameters, as training in one graph would show them: the shards step
/// through epochs together, and after each one the whole ensemble and the
/// shards' Adam states are put together before `after_epoch` runs, so a
/// checkpoint does not depend on the number of shards and resumes under any.
/// With a validation set (`options.val_inputs`) the members train in one
/// graph: validation and early stopping judge the whole ensemble.
TrainingCurve train_in_shards(models::EnsembleNet& ensemble, const MakeEnsemble& make,
                              const std::vector<uint64_t>& init_seeds, const at::Tensor& inputs,
                              const at::Tensor& labels, const std::vector<uint64_t>& order_seeds,
                              const EnsembleTrainOptions& options, size_t shards, const TrainingHooks& hooks = {});

}  // namespace endd::train
