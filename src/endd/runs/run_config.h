#pragma once
// The configuration schemas of `endd train`, `endd distill` and `endd
// evaluate`, and the typed
// settings built from them (checked once here, with the key in each message).
#include <optional>
#include <string>

#include "endd/config/config.h"
#include "endd/data/image_aux.h"
#include "endd/data/ood_sets.h"
#include "endd/train/distiller.h"
#include "endd/train/ensemble_trainer.h"

namespace endd::runs {

config::Config train_config();    ///< schema + defaults of `endd train`
config::Config distill_config();  ///< schema + defaults of `endd distill`
config::Config evaluate_config(); ///< schema + defaults of `endd evaluate`

/// task: members that output class logits, or a Gaussian's mean and variance.
enum class Task { kClassification, kRegression };

/// train.augment: none, crop (random crop from a 2-pixel zero pad) or crop_flip.
enum class Augment { kNone, kCrop, kCropFlip };
const char* augment_name(Augment augment);

/// teacher.kind: members' outputs from a file hold logits, probabilities, or
/// regression members' Gaussian means and variances.
enum class TeacherKind { kLogits, kProbs, kGaussian };

/// The network families endd builds (model.arch), and a user's TorchScript module.
enum class Arch { kMlp, kCnn, kVgg, kResnet, kTorchScript };
/// "mlp", "cnn", "vgg", "resnet" or "torchscript", as configs and run.json spell it.
const char* arch_name(Arch arch);
/// The family a name spells; nullopt for any other text.
std::optional<Arch> parse_arch(const std::string& name);

struct ArchSettings {
  Arch arch = Arch::kMlp;
  int64_t hidden_layers = 3, width = 64;
  std::string activation = "relu";
  std::string torchscript;  ///< the TorchScript file given (model.torchscript); "" for MLPs
  /// cnn, vgg, resnet: channels of each stage ("" = the preset's, e.g. "16,32")
  /// and the hidden fully connected layer (-1 = the preset's, 0 = none).
  std::string stages;
  int64_t hidden = -1;
  bool image() const { return arch == Arch::kCnn || arch == Arch::kVgg || arch == Arch::kResnet; }
  const char* name() const { return arch_name(arch); }
};

/// "16,32" -> {16, 32}; endd::Error naming `key` on anything but positive integers.
std::vector<int64_t> parse_stages(const std::string& text, const std::string& key);

struct TrainSettings {
  uint64_t seed = 0;
  Task task = Task::kClassification;
  std::string data;
  std::string label_column;  ///< "" = the last column (data/source.h)
  int64_t limit = 0;         ///< rows used (0 = all)
  bool limit_random = false; ///< a seeded random `limit` rows instead of the first
  bool standardize = true;   ///< mlp: standardise features by the training set (false: as they are)
  double val_fraction = 0;   ///< stratified validation split (0 = none)
  int64_t early_stopping = 0;  ///< patience in epochs (0 = off)
  ArchSettings model;
  int64_t members = 5;
  Augment augment = Augment::kNone;  ///< image architectures (train.augment)
  int64_t shards = 0;            ///< members in N one-thread shards (0 = one per CPU core); see train/ensemble_shards.h
  train::EnsembleTrainOptions train;
};
TrainSettings train_settings(const config::Config& c);

/// `endd distill`'s default Normal-Gamma fit (distill.normal_gamma_fit).
inline constexpr const char* kDefaultNormalGammaFit = "moments";

struct DistillSettings {
  uint64_t seed = 0;
  uint64_t student_index = 0;  ///< an experiment's student N: seed streams N for its init and batch order
  train::DistillOptions distill;
  std::string aux;        ///< "", "generated" or a data source
  /// Regression EnD^2: "likelihood" or "moments" (train::RegressionDistillOptions).
  std::string normal_gamma_fit = kDefaultNormalGammaFit;
  int64_t aux_count = 0;  ///< generated AUX inputs; 0 = as many as training inputs
  double aux_scale = 2.0; ///< generated AUX: N(0, scale^2) in standardised input space
  /// aux = "images": AUX made from the training images (data/image_aux.h),
  /// `aux_oversample` candidates per image kept (distill/aux_selection.h).
  std::vector<data::ImageAuxKind> aux_kinds = data::default_image_aux_kinds();
  int64_t aux_oversample = 3;
  int64_t transfer_views = 1;  ///< images: crop-and-flip views of the transfer set
  /// Jittered copies of the training inputs (`copies`) and of the AUX
  /// inputs (`aux_copies`), N(0, jitter^2) in the network's input units,
  /// added to the transfer set and labelled by the teacher.
  int64_t copies = 0, aux_copies = 0;
  double jitter = 0.1;
  /// Teacher outputs from a file instead of an endd run (issue 18): the
  /// members' outputs [N, M, K] on `data`, and on `aux` (aux_outputs).
  std::string teacher_outputs, aux_outputs, data, label_column;
  TeacherKind teacher_kind = TeacherKind::kLogits;
  int64_t teacher_members = 0;  ///< M of a CSV teacher_outputs
  /// Held-out inputs (and, for teacher outputs from a file, the members'
  /// outputs on them) where the student is compared with its teacher.
  std::string eval_data, eval_outputs;
  /// The student's family (nullopt: the teacher's, or mlp over a teacher of
  /// another family when MLP settings are given; mlp for outputs) and its
  /// settings; -1 / 0 / "" = the teacher's (3, 64, relu for outputs).
  std::optional<Arch> student_family;
  ArchSettings student{Arch::kMlp, -1, 0, "", "", "", -1};
};
DistillSettings distill_settings(const config::Config& c);

struct EvaluateSettings {
  uint64_t seed = 0;  ///< bootstrap resamples, random row subsets, generated OOD sets
  std::string run;    ///< the finished run directory
  std::string test;   ///< labelled test data source
  std::vector<data::OodSpec> ood;
  int64_t limit = 0;          ///< rows of each set (0 = all)
  bool limit_random = false;  ///< with `limit`: rows drawn at random, not the first
  int bootstrap = 200;        ///< resamples of the error's interval
};
EvaluateSettings evaluate_settings(const config::Config& c);

}  // namespace endd::runs
