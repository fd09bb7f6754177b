#pragma once
// A run directory (docs/run-directory.md): everything one `endd train` or
// `endd distill` produced, written atomically, enough to resume, evaluate,
// predict and export.
//
//   run.json         kind, method, shapes, architecture, status (this file says what the run is)
//   config.toml      the resolved configuration
//   weights.pt       final weights + input standardiser (LibTorch archive)
//   checkpoint.pt    weights + optimiser state after the last finished epoch
//   train_log.csv    epoch, loss, temperature, learning_rate, seconds
//   teacher_cache.pt teacher logits on the transfer set (students only)
//   model.pt         the user's TorchScript architecture (model.torchscript runs only)
//   metrics.json     training-set figures at the end
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>

#include "endd/data/dataset.h"
#include "endd/data/source.h"
#include "endd/models/conv_layout.h"
#include "endd/models/ensemble_net.h"
#include "endd/models/regression_heads.h"
#include "endd/runs/run_config.h"
#include "endd/train/best_members.h"
#include "endd/train/epoch_log.h"

namespace endd::runs {

enum class RunKind { kEnsemble, kStudent };

struct RunInfo {
  RunKind kind = RunKind::kEnsemble;
  /// "classification" or "regression" (run.json "task"; older runs: classification).
  /// A regression run's `classes` is its outputs per network (Gaussian 2,
  /// Normal-Gamma 4) and it has no class names; it learnt targets
  /// standardised by `target` (mean, sd of the training targets).
  std::string task = "classification";
  double target_mean = 0, target_sd = 1;
  std::string method = "ensemble";  ///< "ensemble", "end", "end2" or "end2-proxy"
  bool aux = false;                 ///< students: distilled with AUX inputs
  int64_t inputs = 0, classes = 0, members = 0;
  /// The shape of one input as the network takes it (run.json
  /// "sample_shape"): [inputs] for MLPs, e.g. [1, 28, 28] for a scripted CNN.
  std::vector<int64_t> sample_shape;
  ArchSettings model;
  std::string teacher;  ///< students: the teacher run directory
  /// The user's label value of each class (run.json "labels"); runs written
  /// before labels were mapped have "0".."K-1".
  std::vector<std::string> class_names;
  /// Where the labels were in the training data: the --label-column given
  /// ("" = last), and the column and header name it resolved to (CSV).
  std::string label_column;
  int64_t label_index = -1;
  std::string label_name;
  /// CSV with a header: the feature columns' names (run.json "features").
  std::vector<std::string> feature_names;
  bool finished = false;
  int64_t epochs_done = 0;
  /// A Normal-Gamma student's positive link (run.json "normal_gamma_link";
  /// students written before it was recorded: softplus).
  models::PositiveLink normal_gamma_link = models::PositiveLink::kExp;
  /// Convolutional ensembles trained on the CPU: the layout of their stages
  /// measured faster on the machine that trained them (run.json
  /// "cpu_conv_layout"; models/conv_layout.h). Absent: not measured.
  std::optional<models::ConvLayoutMeasurement> conv_layout;

  /// The results.json model name: single, ensemble, end, end2 or end2_aux.
  std::string model_name() const;
  bool regression() const { return task == "regression"; }
  bool dirichlet() const {
    return !regression() && kind == RunKind::kStudent && (method == "end2" || method == "end2-proxy");
  }
  /// A regression EnD^2 student: a Normal-Gamma prior network.
  bool normal_gamma() const { return regression() && kind == RunKind::kStudent && method == "end2"; }
};

std::string run_file(const std::string& dir, const std::string& name);

/// How to read data for a run's model: its feature count, its classes (when
/// labels are needed) and the label column it was trained with.
data::SourceRequest source_request(const RunInfo& info, bool need_labels);

void save_run_info(const std::string& dir, const RunInfo& info);
/// Throws endd::Error naming the directory if it is missing, is not an endd
/// run directory, or its run.json is damaged.
RunInfo load_run_info(const std::string& dir);

/// The copy of a TorchScript architecture a run keeps (model.arch = torchscript).
constexpr const char* kModuleFile = "model.pt";

/// How a network's members start.
enum class Init { kFromSeeds, kFromFileWeights };
/// A network of the run's architecture: member m initialised from seeds[m]
/// (PyTorch's default scheme for each layer). A TorchScript run's members are
/// copies of `module_file` (a run keeps it as model.pt), which keep the file's
/// own weights with Init::kFromFileWeights.
std::shared_ptr<models::EnsembleNet> make_network(const RunInfo& info, const std::vector<uint64_t>& seeds,
                                                  const std::string& module_file = "", Init init = Init::kFromSeeds);

void save_weights(const std::string& path, models::EnsembleNet& net, const data::Standardizer& scaler);

struct LoadedModel {
  RunInfo info;
  std::shared_ptr<models::EnsembleNet> net;
  data::Standardizer scaler;
};
/// Inputs per forward pass when a run's model labels or predicts: 4096 rows
/// for MLPs; for image and TorchScript networks 4096 / members (at least 16),
/// so that activations stay near half a gigabyte (the first convolution of 10
/// Fashion-MNIST CNNs on 4096 images would output 4096 x 160 x 28 x 28 floats, 2 GB).
int64_t inference_batch(const RunInfo& info);

/// Loads a finished run's final weights onto `device`.
LoadedModel load_model(const std::string& dir, c10::Device device);

/// Checkpoint after `curve.size()` epochs: weights, optimiser state, curve,
/// and each member's best epoch so far when `best` is given (early stopping).
void save_checkpoint(const std::string& path, models::EnsembleNet& net, torch::optim::Optimizer& opt,
                     const train::TrainingCurve& curve, const train::BestMembers* best = nullptr);
/// Restores weights, optimiser state, curve (and `best`, if the checkpoint
/// has it); returns the epochs done.
int64_t load_checkpoint(const std::string& path, models::EnsembleNet& net, torch::optim::Optimizer& opt,
                        train::TrainingCurve& curve, train::BestMembers* best = nullptr);

/// The epochs a checkpoint holds (-1 when the file is missing).
int64_t checkpoint_epochs(const std::string& path);

/// train_log.csv of a curve (atomic).
void write_training_log(const std::string& path, const train::TrainingCurve& curve);

/// A run's train_log.csv as a curve (empty when it has none; endd::Error
/// naming the file and line for a damaged one).
train::TrainingCurve read_training_log(const std::string& dir);

/// The wall time a run's epochs took, from its train_log.csv (0 when it has none).
double training_seconds(const std::string& dir);

}  // namespace endd::runs
