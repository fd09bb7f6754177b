#pragma once
// Steps every run-directory workflow shares (classification and regression):
// reading a run's training data, per-epoch checkpoints that a resumed run
// restores, per-member seeds and the student's architecture.
#include <cstdint>
#include <string>
#include <vector>

#include "endd/core/seeding.h"
#include "endd/data/source.h"
#include "endd/runs/run_config.h"
#include "endd/runs/run_directory.h"

namespace endd::runs {

/// A source's inputs as rows [N, D] (as every stage passes them), and the
/// shape of one input before flattening (what a TorchScript network takes).
std::pair<data::Dataset, std::vector<int64_t>> load_as_rows(const std::string& spec, data::SourceRequest request);

/// The training data of an ensemble run as its settings say: the source, the
/// rows asked for (data.limit) and, apart, the validation rows. A student's
/// transfer set is its teacher's training part, split the same way.
struct TrainingData {
  data::Dataset train, validation;  ///< validation.inputs undefined without a split
  std::vector<int64_t> sample_shape;
};
TrainingData load_training_data(const TrainSettings& s, data::SourceRequest request);

/// The student's architecture: a TorchScript module given; else the family
/// asked for (model.arch), or MLP settings over a teacher of another family,
/// or the teacher's (`base`), with the settings given over it.
ArchSettings student_arch(const DistillSettings& s, const ArchSettings& base);

/// After every epoch: checkpoint.pt, train_log.csv and run.json's epochs_done.
/// With `resume`, restores model, optimiser, curve (and `best`) from the
/// checkpoint (none yet: from epoch 0).
train::TrainingHooks checkpoint_hooks(const std::string& dir, models::EnsembleNet& net, RunInfo& info, bool resume,
                                      train::BestMembers* best = nullptr);

/// derive_seed(seed, stream, m) for m = 0 .. count - 1.
std::vector<uint64_t> member_seeds(uint64_t seed, Stream stream, int64_t count);

}  // namespace endd::runs
