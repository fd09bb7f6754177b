#pragma once
// One row of a training curve, shared by ensemble training and distillation.
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace torch::optim {
class Optimizer;
}

namespace endd::train {

struct EpochLog {
  int64_t epoch = 0;
  double loss = 0;         ///< mean training loss (per member for ensembles)
  double temperature = 1;  ///< distillation temperature (1 for ensemble training)
  double learning_rate = 0;
  double seconds = 0;      ///< wall time of the epoch
  /// Validation error (%) and NLL of the ensemble's mean prediction; NaN
  /// when training has no validation set.
  double val_error = std::numeric_limits<double>::quiet_NaN();
  double val_nll = std::numeric_limits<double>::quiet_NaN();
};
using TrainingCurve = std::vector<EpochLog>;

/// Checkpointing and resuming, optional. `resume` is called once with the
/// fresh optimiser; it restores model, optimiser and curve and returns the
/// number of epochs already done. `after_epoch` runs at the end of every epoch.
struct TrainingHooks {
  std::function<int64_t(torch::optim::Optimizer&, TrainingCurve&)> resume;
  std::function<void(const TrainingCurve&, torch::optim::Optimizer&)> after_epoch;
};

/// Adam learning rate at `epoch` of `epochs`: constant, or cosine decay to 5%
/// of `base` when `cosine` is set.
double scheduled_learning_rate(double base, int64_t epoch, int64_t epochs, bool cosine);

/// Sets the learning rate of every parameter group of an Adam optimiser.
void set_learning_rate(torch::optim::Optimizer& opt, double lr);

}  // namespace endd::train
