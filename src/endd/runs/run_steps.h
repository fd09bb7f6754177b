#pragma once
// Steps every run-directory workflow shares (classification and regression):
// reading a run's training data, per-epoch checkpoints that a resumed run
// restores, per-member seeds and the student's architecture.
#include <cstdint>
#include <functional>
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

/// Inputs of `features` values each as rows, a label column dropped unread
/// (AUX inputs that come with their own outputs file).
data::Dataset load_unlabelled_rows(const std::string& spec, int64_t features);

/// The training data of an ensemble run as its settings say: the source, the
/// rows asked for (data.limit) and, apart, the validation rows. A student's
/// transfer set is its teacher's training part, split the same way.
struct TrainingData {
  data::Dataset train, validation;  ///< validation.inputs undefined without a split
  std::vector<int64_t> sample_shape;
};
TrainingData load_training_data(const TrainSettings& s, data::SourceRequest request);

/// The input scaling a network gets: endd's MLPs standardised features; image
/// networks (as in the experiments) and a user's TorchScript module (its own
/// normalisation is its) the data as stored; so does an MLP trained with
/// data.standardize = false.
bool standardised(const ArchSettings& arch);
data::Standardizer scaler_for(const ArchSettings& arch, const at::Tensor& train_inputs, bool standardize = true);

/// train.augment for members of an image architecture: rows [1, b, D] viewed
/// as images, cropped from a 2-pixel zero pad and, with "crop_flip", flipped.
std::function<at::Tensor(const at::Tensor&, uint64_t)> augmentation(Augment kind,
                                                                      const std::vector<int64_t>& sample_shape);

/// A TorchScript run keeps its architecture: `module_file` copied to model.pt.
void keep_module(const RunInfo& info, const std::string& module_file, const std::string& dir);

/// The student's architecture: a TorchScript module given; else the family
/// asked for (model.arch), or MLP settings over a teacher of another family,
/// or the teacher's (`base`), with the settings given over it.
ArchSettings student_arch(const DistillSettings& s, const ArchSettings& base);

/// How a student of an endd teacher takes its inputs: its architecture
/// (student_arch over the teacher's), its TorchScript module (one given
/// with --student starts from its own weights; the teacher's architecture
/// from the student's seed), the shape of one input and its scaler. Where
/// student and teacher are of one kind the student sees exactly the
/// teacher's inputs `teacher_x`; otherwise each scales the data its own way.
struct StudentPlacement {
  ArchSettings model;
  std::string module_file;
  Init init = Init::kFromSeeds;
  std::vector<int64_t> sample_shape;
  data::Standardizer scaler;
  at::Tensor x;  ///< the transfer inputs as the student takes them
};
/// Also sets `info` to the teacher's, with the student's architecture,
/// input shape and the teacher's path.
StudentPlacement place_student(const DistillSettings& s, const LoadedModel& teacher, const std::string& teacher_dir,
                               const std::vector<int64_t>& data_shape, const at::Tensor& train_inputs,
                               const at::Tensor& teacher_x, RunInfo& info);

/// After an epoch: the checkpoint (checkpoint_file), then (the leader)
/// train_log.csv and run.json's epochs_done; in a group every rank waits
/// for the others there, so a rank that died stops the rest. One process
/// skips an epoch's checkpoint while writing the last one took more than
/// kCheckpointShare of the training time since it (epochs of a tiny network
/// are shorter than writing its ensemble's weights and Adam state); the
/// last of `epochs` is always written, and a group or a run that may stop
/// early (`best`) writes every epoch.
/// With `resume`, restores model, optimiser, curve (and `best`) from the
/// checkpoint (none yet: from epoch 0).
train::TrainingHooks checkpoint_hooks(const std::string& dir, models::EnsembleNet& net, RunInfo& info, bool resume,
                                      int64_t epochs, train::BestMembers* best = nullptr);
/// The most of the training time checkpoints may take.
constexpr double kCheckpointShare = 0.02;

/// This process's checkpoint file in a run directory after `epochs`:
/// checkpoint.pt, or for rank R of a group of W (each rank checkpoints its
/// own members) checkpoint.rank<R>-of-<W>.even.pt / .odd.pt by the parity of
/// `epochs`, so that the epoch all ranks finished is always there to resume.
std::string checkpoint_file(int64_t epochs);

/// The members this process trains: all of them, or its rank's contiguous
/// block (core/distributed.h). A member's seeds are those of its index, so
/// the members are those of a one-process run whatever the world size.
struct MemberShare {
  int64_t begin = 0, end = 0;
  bool leader = true;  ///< writes the run directory
  std::vector<uint64_t> all_init_seeds;      ///< every member's (what gather_members builds)
  std::vector<uint64_t> init_seeds, order_seeds;  ///< this process's members'
  /// The progress line's label in a group ("train members 50-99 of 100"),
  /// empty for all of them.
  std::string label() const;
};
/// Also checks, in a group, that the members are MLPs and that every rank
/// runs the same configuration `cfg`.
MemberShare member_share(const TrainSettings& s, const config::Config& cfg);

/// In a group, after the leader made the run directory: every rank waits
/// for it (and, on a host of its own, makes a directory of the same path).
void enter_run_directory(const std::string& out);

/// Every rank's block of trained members gathered into the whole ensemble
/// of `info` on the leader (made from `seeds`, then overwritten); nullptr
/// on the other ranks. Call on every rank of the group.
std::shared_ptr<models::EnsembleNet> gather_members(models::EnsembleNet& block, const RunInfo& info,
                                                    const std::vector<uint64_t>& seeds);

/// derive_seed(seed, stream, m) for m = 0 .. count - 1.
std::vector<uint64_t> member_seeds(uint64_t seed, Stream stream, int64_t count);

}  // namespace endd::runs
