#pragma once
// One row of a training curve, shared by ensemble training and distillation.
#include <cstdint>
#include <vector>

namespace endd::train {

struct EpochLog {
  int64_t epoch = 0;
  double loss = 0;         ///< mean training loss (per member for ensembles)
  double temperature = 1;  ///< distillation temperature (1 for ensemble training)
  double learning_rate = 0;
  double seconds = 0;      ///< wall time of the epoch
};
using TrainingCurve = std::vector<EpochLog>;

/// Adam learning rate at `epoch` of `epochs`: constant, or cosine decay to 5%
/// of `base` when `cosine` is set.
double scheduled_learning_rate(double base, int64_t epoch, int64_t epochs, bool cosine);

}  // namespace endd::train
