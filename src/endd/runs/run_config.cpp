#include "endd/runs/run_config.h"

#include <cmath>
#include <cstdlib>

#include "endd/core/error.h"
#include "endd/data/image_aux.h"
#include "endd/models/mlp_ensemble.h"

namespace endd::runs {
namespace {

using config::Field;

std::vector<Field> model_fields() {
  return {{"model.arch", std::string("mlp"),
           "network family: mlp; cnn, vgg or resnet for images (presets, docs/config.md); torchscript (set by "
           "model.torchscript)"},
          {"model.stages", std::string(""), "cnn/vgg/resnet: channels of each stage, e.g. \"16,32\" ('' = the preset's)"},
          {"model.hidden", int64_t{-1}, "cnn/vgg/resnet: units of the hidden dense layer (-1 = the preset's, 0 = none)"},
          {"model.torchscript", std::string(""),
           "a TorchScript module (.pt) mapping a batch of inputs to K logits, used as every member's architecture; "
           "each member is initialised from its own seed"},
          {"model.hidden_layers", int64_t{3}, "hidden layers"},
          {"model.width", int64_t{64}, "units per hidden layer"},
          {"model.activation", std::string("relu"), "relu, tanh, gelu or leaky_relu"}};
}

// A user's module: the MLP's settings do not apply (run.json shows them as 0 / "").
ArchSettings torchscript_arch(const std::string& file) { return {Arch::kTorchScript, 0, 0, "", file, "", -1}; }

}  // namespace

const char* augment_name(Augment augment) {
  switch (augment) {
    case Augment::kNone: return "none";
    case Augment::kCrop: return "crop";
    case Augment::kCropFlip: return "crop_flip";
  }
  return "";
}

const char* arch_name(Arch arch) {
  switch (arch) {
    case Arch::kMlp: return "mlp";
    case Arch::kCnn: return "cnn";
    case Arch::kVgg: return "vgg";
    case Arch::kResnet: return "resnet";
    case Arch::kTorchScript: return "torchscript";
  }
  return "";
}

std::optional<Arch> parse_arch(const std::string& name) {
  for (Arch a : {Arch::kMlp, Arch::kCnn, Arch::kVgg, Arch::kResnet, Arch::kTorchScript})
    if (name == arch_name(a)) return a;
  return std::nullopt;
}

std::vector<int64_t> parse_stages(const std::string& text, const std::string& key) {
  std::vector<int64_t> out;
  if (text.empty()) return out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    ENDD_CHECK(!item.empty() && end && *end == '\0' && v >= 1 && v <= 65536, key, key.empty() ? "" : ": ",
               "expected channels per stage as positive integers separated by commas (e.g. \"16,32\"), got '", text,
               "'");
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

namespace {

void check_positive(const config::Config& c, const std::string& key) {
  c.require(key, c.get_int(key) >= 1, "expected >= 1");
}
void check_rate(const config::Config& c, const std::string& key) {
  double v = c.get_double(key);
  c.require(key, std::isfinite(v) && v > 0, "expected > 0");
}

}  // namespace

config::Config train_config() {
  std::vector<Field> f{{"seed", int64_t{0}, "random seed"},
                       {"task", std::string("classification"),
                        "classification (members output class logits) or regression (members output a Gaussian's "
                        "mean and variance of a numeric target, docs/regression.md)"},
                       {"data.train", std::string(""), "training data source (csv:FILE)"},
                       {"data.label_column", std::string(""),
                        "CSV label column (regression: the target's): a header name or a 0-based index (negative from "
                        "the end); '' = the last"},
                       {"data.limit", int64_t{0}, "use only N rows of the data (0 = all)"},
                       {"data.limit_random", false, "with data.limit: N rows drawn at random (seeded), not the first N"},
                       {"data.standardize", true,
                        "mlp: features standardised by the training set's mean and spread (false: taken as they are, "
                        "e.g. inputs you scaled yourself)"}};
  for (auto& m : model_fields()) f.push_back(m);
  std::vector<Field> t{{"train.members", int64_t{5}, "ensemble size (1 = a single model)"},
                       {"train.epochs", int64_t{100}, "epochs"},
                       {"train.batch_size", int64_t{128}, "batch size"},
                       {"train.learning_rate", 3e-3, "Adam learning rate"},
                       {"train.weight_decay", 0.0, "Adam weight decay"},
                       {"train.cosine_schedule", true, "cosine learning-rate decay to 5%"},
                       {"train.augment", std::string("none"),
                        "images: none, crop (random crop from a 2-pixel zero pad) or crop_flip (and a horizontal flip "
                        "with probability 1/2), drawn per member"},
                       {"train.val_fraction", 0.0, "fraction of the data held out, stratified, for validation (0 = none)"},
                       {"train.early_stopping", int64_t{0},
                        "with a validation set: stop once every member has gone N epochs without a lower validation "
                        "NLL, keeping each member's best epoch (0 = off)"},
                       {"train.shards", int64_t{0},
                        "members trained as N one-thread shards side by side (0 = one per CPU core; 1 = one graph; "
                        "one graph on a GPU, with a validation set, or for torchscript members)"}};
  f.insert(f.end(), t.begin(), t.end());
  return config::Config(f);
}

config::Config distill_config() {
  return config::Config({{"seed", int64_t{0}, "random seed"},
                         {"distill.method", std::string("end2"), "end, end2 or end2-proxy"},
                         {"distill.epochs", int64_t{200}, "epochs"},
                         {"distill.batch_size", int64_t{128}, "batch size"},
                         {"distill.learning_rate", 1e-2, "Adam learning rate"},
                         {"distill.weight_decay", 0.0, "Adam weight decay"},
                         {"distill.cosine_schedule", true, "cosine learning-rate decay to 5%"},
                         {"distill.temperature", 10.0, "initial temperature T0 (>= 1)"},
                         {"distill.hold_fraction", 0.2, "fraction of epochs at T0"},
                         {"distill.decay_fraction", 0.3, "fraction of epochs decaying T0 -> 1"},
                         {"distill.smoothing", 1e-4, "EnD^2 central smoothing eps (MATH.md: 1e-4 to 1e-3)"},
                         {"distill.mean_weight", 0.0, "end2: weight of an added EnD term on the Dirichlet mean"},
                         {"distill.mean_on_aux", true, "end2: the EnD term also on the AUX inputs (false = the training inputs only)"},
                         {"distill.proxy_offset", 0.0, "end2-proxy: added to every target concentration"},
                         {"distill.proxy_max_precision", 1e4, "end2-proxy: cap on the target precision"},
                         {"distill.clip_norm", 10.0, "gradient-norm clipping (0 = off)"},
                         {"distill.normal_gamma_fit", std::string(kDefaultNormalGammaFit),
                          "regression end2: moments (the Gamma by the members' precisions' likelihood, the knowledge "
                          "variance matched to the members' spread) or likelihood (the members' joint Normal-Gamma "
                          "likelihood; docs/regression.md)"},
                         {"distill.float64_loss", true, "compute the loss in float64"},
                         {"distill.student_index", int64_t{0},
                          "which student of an experiment this is: its initial weights and batch order come from "
                          "stream N of the seed, so the students of one experiment start apart (0 for a student on "
                          "its own)"},
                         {"distill.aux", std::string(""), "AUX inputs: '', 'generated', 'images' or a data source"},
                         {"distill.aux_count", int64_t{0}, "generated or image AUX inputs (0 = training-set size)"},
                         {"distill.aux_kinds", std::string(""),
                          "aux = images: kinds made from the training images, comma-separated (mix, noise, edges, zoom, "
                          "shuffle, small, outline, chain; '' = all eight)"},
                         {"distill.aux_oversample", int64_t{3},
                          "aux = images: make F x aux_count candidates and keep, per kind, those the members disagree "
                          "on most (1 = keep all made)"},
                         {"distill.transfer_views", int64_t{1},
                          "images: the transfer set plus (views - 1) random crop-and-flip copies, each labelled by the "
                          "teacher; an epoch draws one view per input"},
                         {"distill.aux_scale", 2.0, "generated AUX spread, in standard deviations"},
                         {"distill.copies", int64_t{0},
                          "the transfer set plus N copies of the training inputs jittered by N(0, jitter^2) in the "
                          "network's input units, each labelled by the teacher"},
                         {"distill.aux_copies", int64_t{0}, "the same for the AUX inputs"},
                         {"distill.jitter", 0.1, "the copies' noise scale, in the network's input units"},
                         {"teacher.outputs", std::string(""),
                          "members' outputs [N, M, K] on the transfer inputs, from anywhere (.pt, .npy or CSV); "
                          "instead of an endd teacher run"},
                         {"teacher.kind", std::string("logits"),
                          "teacher.outputs hold logits, probs, or gaussian: regression members' means and variances "
                          "[N, M, 2] (CSV m1_mean, m1_var, m2_mean, ...)"},
                         {"teacher.members", int64_t{0}, "members M in a CSV teacher.outputs (member-major columns)"},
                         {"teacher.aux_outputs", std::string(""), "the members' outputs on distill.aux (with teacher.outputs)"},
                         {"teacher.eval_outputs", std::string(""),
                          "the members' outputs on data.eval (with teacher.outputs)"},
                         {"data.train", std::string(""), "with teacher.outputs: the same N inputs, in the same order"},
                         {"data.eval", std::string(""),
                          "held-out inputs on which the student's fidelity to the ensemble is measured (metrics.json "
                          "\"eval\")"},
                         {"data.label_column", std::string(""),
                          "CSV label column of data.train ('' = the last, 'none' = no labels)"},
                         {"model.torchscript", std::string(""),
                          "the student: a TorchScript module (.pt) mapping a batch of inputs to K logits, trained "
                          "from the weights it holds ('' = an MLP, or the teacher's own architecture)"},
                         {"model.arch", std::string(""),
                          "student family: mlp, cnn, vgg or resnet ('' = the teacher's; mlp for outputs)"},
                         {"model.stages", std::string(""),
                          "image student (a cnn/vgg/resnet teacher's): channels of each stage ('' = the teacher's)"},
                         {"model.hidden", int64_t{-1}, "image student: hidden dense units (-1 = the teacher's)"},
                         {"model.hidden_layers", int64_t{-1}, "student hidden layers (-1 = the teacher's; 3 for outputs)"},
                         {"model.width", int64_t{0}, "student units per hidden layer (0 = the teacher's; 64 for outputs)"},
                         {"model.activation", std::string(""), "student activation ('' = the teacher's; relu for outputs)"}});
}

TrainSettings train_settings(const config::Config& c) {
  TrainSettings s;
  c.require("seed", c.get_int("seed") >= 0, "expected >= 0");
  s.seed = static_cast<uint64_t>(c.get_int("seed"));
  s.data = c.get_string("data.train");
  ENDD_CHECK(!s.data.empty(), "data.train: no training data given (--data SRC or data.train in the config)");
  s.label_column = c.get_string("data.label_column");
  const std::string task = c.get_string("task");
  c.require("task", task == "classification" || task == "regression", "expected classification or regression");
  s.task = task == "regression" ? Task::kRegression : Task::kClassification;
  s.limit = c.get_int("data.limit");
  c.require("data.limit", s.limit >= 0, "expected >= 0 (0 = all rows)");
  s.limit_random = c.get_bool("data.limit_random");
  s.standardize = c.get_bool("data.standardize");
  s.val_fraction = c.get_double("train.val_fraction");
  c.require("train.val_fraction", std::isfinite(s.val_fraction) && s.val_fraction >= 0 && s.val_fraction < 1,
            "expected in [0, 1)");
  s.early_stopping = c.get_int("train.early_stopping");
  c.require("train.early_stopping", s.early_stopping >= 0, "expected >= 0 epochs (0 = off)");
  ENDD_CHECK(s.early_stopping == 0 || s.val_fraction > 0,
             "train.early_stopping: needs a validation set (--val-fraction F, train.val_fraction)");
  const std::optional<Arch> arch = parse_arch(c.get_string("model.arch"));
  c.require("model.arch", arch.has_value(), "expected mlp, cnn, vgg, resnet or torchscript");
  s.model.arch = *arch;
  s.model.torchscript = c.get_string("model.torchscript");
  s.model.stages = c.get_string("model.stages");
  try {
    parse_stages(s.model.stages, "");
  } catch (const Error& e) {
    c.reject("model.stages", e.what());
  }
  s.model.hidden = c.get_int("model.hidden");
  c.require("model.hidden", s.model.hidden >= -1, "expected >= 0 (or -1, the preset's)");
  ENDD_CHECK(s.model.image() || (s.model.stages.empty() && s.model.hidden == -1),
             "model.stages/model.hidden: shape the image architectures (--arch cnn, vgg or resnet), not ", s.model.name());
  ENDD_CHECK(s.model.arch != Arch::kTorchScript || !s.model.torchscript.empty(),
             "model.arch: torchscript needs the module: --model FILE.pt (model.torchscript)");
  s.model.hidden_layers = c.get_int("model.hidden_layers");
  c.require("model.hidden_layers", s.model.hidden_layers >= 0, "expected >= 0");
  check_positive(c, "model.width");
  s.model.width = c.get_int("model.width");
  s.model.activation = c.get_string("model.activation");
  try {
    models::parse_activation(s.model.activation);
  } catch (const Error& e) {
    const std::string what = e.what();  // "activation: expected ..."
    c.reject("model.activation", what.substr(what.find(": ") + 2));
  }
  if (!s.model.torchscript.empty()) s.model = torchscript_arch(s.model.torchscript);
  if (s.model.image()) {  // the MLP's settings do not apply
    s.model.hidden_layers = s.model.width = 0;
    s.model.activation.clear();
  }
  for (const auto* k : {"train.members", "train.epochs", "train.batch_size"}) check_positive(c, k);
  check_rate(c, "train.learning_rate");
  c.require("train.weight_decay", c.get_double("train.weight_decay") >= 0, "expected >= 0");
  s.members = c.get_int("train.members");
  s.train.epochs = c.get_int("train.epochs");
  s.train.batch_size = c.get_int("train.batch_size");
  s.train.learning_rate = c.get_double("train.learning_rate");
  s.train.weight_decay = c.get_double("train.weight_decay");
  s.train.cosine_schedule = c.get_bool("train.cosine_schedule");
  s.shards = c.get_int("train.shards");
  c.require("train.shards", s.shards >= 0, "expected >= 0 (0 = one per CPU core)");
  const std::string augment = c.get_string("train.augment");
  c.require("train.augment", augment == "none" || augment == "crop" || augment == "crop_flip",
            "expected none, crop or crop_flip");
  s.augment = augment == "crop" ? Augment::kCrop : augment == "crop_flip" ? Augment::kCropFlip : Augment::kNone;
  return s;
}

DistillSettings distill_settings(const config::Config& c) {
  DistillSettings s;
  c.require("seed", c.get_int("seed") >= 0, "expected >= 0");
  s.seed = static_cast<uint64_t>(c.get_int("seed"));
  try {
    s.distill.method = train::parse_distill_method(c.get_string("distill.method"));
  } catch (const Error& e) {
    const std::string what = e.what();  // "distillation method: expected ..."
    c.reject("distill.method", what.substr(what.find(": ") + 2));
  }
  for (const auto* k : {"distill.epochs", "distill.batch_size"}) check_positive(c, k);
  check_rate(c, "distill.learning_rate");
  auto& d = s.distill;
  d.epochs = c.get_int("distill.epochs");
  d.batch_size = c.get_int("distill.batch_size");
  d.learning_rate = c.get_double("distill.learning_rate");
  d.weight_decay = c.get_double("distill.weight_decay");
  d.cosine_schedule = c.get_bool("distill.cosine_schedule");
  d.initial_temperature = c.get_double("distill.temperature");
  c.require("distill.temperature", std::isfinite(d.initial_temperature) && d.initial_temperature >= 1,
            "expected >= 1");
  d.hold_fraction = c.get_double("distill.hold_fraction");
  d.decay_fraction = c.get_double("distill.decay_fraction");
  ENDD_CHECK(d.hold_fraction >= 0 && d.decay_fraction >= 0 && d.hold_fraction + d.decay_fraction <= 1,
             "distill.hold_fraction/decay_fraction: expected >= 0 each with a sum <= 1");
  d.smoothing = c.get_double("distill.smoothing");
  c.require("distill.smoothing", d.smoothing >= 0 && d.smoothing < 1, "expected in [0, 1)");
  d.mean_weight = c.get_double("distill.mean_weight");
  c.require("distill.mean_weight", std::isfinite(d.mean_weight) && d.mean_weight >= 0, "expected >= 0");
  d.mean_on_aux = c.get_bool("distill.mean_on_aux");
  d.proxy_offset = c.get_double("distill.proxy_offset");
  c.require("distill.proxy_offset", std::isfinite(d.proxy_offset) && d.proxy_offset >= 0, "expected >= 0");
  d.proxy_max_precision = c.get_double("distill.proxy_max_precision");
  // Above ~1e8 the KL is a difference of lnG terms too large for float64 to resolve.
  c.require("distill.proxy_max_precision", d.proxy_max_precision > 0 && d.proxy_max_precision <= 1e8,
            "expected in (0, 1e8]");
  d.clip_norm = c.get_double("distill.clip_norm");
  c.require("distill.clip_norm", d.clip_norm >= 0, "expected >= 0");
  d.float64_loss = c.get_bool("distill.float64_loss");
  s.normal_gamma_fit = c.get_string("distill.normal_gamma_fit");
  c.require("distill.normal_gamma_fit", s.normal_gamma_fit == "likelihood" || s.normal_gamma_fit == "moments",
            "expected likelihood or moments");
  s.aux = c.get_string("distill.aux");
  s.aux_count = c.get_int("distill.aux_count");
  c.require("distill.aux_count", s.aux_count >= 0, "expected >= 0");
  s.aux_scale = c.get_double("distill.aux_scale");
  c.require("distill.aux_scale", s.aux_scale > 0, "expected > 0");
  if (!c.get_string("distill.aux_kinds").empty()) {
    try {
      s.aux_kinds = data::parse_image_aux_kinds(c.get_string("distill.aux_kinds"));
    } catch (const Error& e) {
      c.reject("distill.aux_kinds", e.what());
    }
  }
  c.require("distill.student_index", c.get_int("distill.student_index") >= 0, "expected >= 0");
  s.student_index = static_cast<uint64_t>(c.get_int("distill.student_index"));
  s.aux_oversample = c.get_int("distill.aux_oversample");
  c.require("distill.aux_oversample", s.aux_oversample >= 1 && s.aux_oversample <= 100, "expected 1 to 100");
  s.transfer_views = c.get_int("distill.transfer_views");
  c.require("distill.transfer_views", s.transfer_views >= 1 && s.transfer_views <= 100, "expected 1 to 100");
  s.copies = c.get_int("distill.copies");
  c.require("distill.copies", s.copies >= 0 && s.copies <= 100, "expected 0 to 100");
  s.aux_copies = c.get_int("distill.aux_copies");
  c.require("distill.aux_copies", s.aux_copies >= 0 && s.aux_copies <= 100, "expected 0 to 100");
  s.jitter = c.get_double("distill.jitter");
  c.require("distill.jitter", std::isfinite(s.jitter) && s.jitter >= 0, "expected >= 0");
  s.teacher_outputs = c.get_string("teacher.outputs");
  const std::string kind = c.get_string("teacher.kind");
  s.teacher_kind = kind == "probs" ? TeacherKind::kProbs : kind == "gaussian" ? TeacherKind::kGaussian : TeacherKind::kLogits;
  c.require("teacher.kind", kind == "logits" || kind == "probs" || kind == "gaussian",
            "expected logits, probs or gaussian (regression members' means and variances)");
  s.teacher_members = c.get_int("teacher.members");
  c.require("teacher.members", s.teacher_members >= 0, "expected >= 0");
  s.aux_outputs = c.get_string("teacher.aux_outputs");
  s.data = c.get_string("data.train");
  s.label_column = c.get_string("data.label_column");
  s.eval_outputs = c.get_string("teacher.eval_outputs");
  s.eval_data = c.get_string("data.eval");
  ENDD_CHECK(s.eval_outputs.empty() || !s.eval_data.empty(), "teacher.eval_outputs: needs its inputs: --eval-data SRC");
  ENDD_CHECK(s.eval_data.empty() || s.teacher_outputs.empty() || !s.eval_outputs.empty(),
             "data.eval: endd cannot run a foreign ensemble on new inputs; with --teacher-outputs give the members' "
             "outputs on --eval-data too (--eval-teacher-outputs FILE)");
  ENDD_CHECK(s.eval_outputs.empty() || !s.teacher_outputs.empty(),
             "teacher.eval_outputs: goes with --teacher-outputs (an endd --teacher is run on --eval-data itself)");
  ENDD_CHECK(s.teacher_outputs.empty() == s.data.empty(), s.data.empty() ? "data.train" : "teacher.outputs",
             ": teacher outputs from a file need their inputs: give both --teacher-outputs FILE and --data SRC");
  ENDD_CHECK(s.aux_outputs.empty() || (!s.teacher_outputs.empty() && !s.aux.empty() && s.aux != "generated"),
             "teacher.aux_outputs: goes with --teacher-outputs and --aux SRC");
  ENDD_CHECK(s.teacher_outputs.empty() || (s.aux != "images" && s.transfer_views == 1),
             s.aux == "images" ? "distill.aux" : "distill.transfer_views", ": endd makes these inputs and labels them "
             "with the teacher, which it cannot run from --teacher-outputs; give --aux SRC with --aux-teacher-outputs");
  ENDD_CHECK(s.teacher_outputs.empty() || (s.copies == 0 && s.aux_copies == 0),
             s.copies ? "distill.copies" : "distill.aux_copies", ": jittered copies are labelled by the teacher, "
             "which endd cannot run from --teacher-outputs");
  c.require("distill.aux_copies", s.aux_copies == 0 || !s.aux.empty(), "copies of the AUX inputs need AUX inputs (distill.aux)");
  ENDD_CHECK(s.teacher_outputs.empty() || s.aux.empty() || (s.aux != "generated" && !s.aux_outputs.empty()),
             "distill.aux: endd cannot run a foreign ensemble on new inputs; with --teacher-outputs give --aux SRC "
             "and the members' outputs on it with --aux-teacher-outputs FILE");
  if (!c.get_string("model.torchscript").empty()) {
    ENDD_CHECK(c.get_int("model.hidden_layers") == -1 && c.get_int("model.width") == 0 &&
                   c.get_string("model.activation").empty() && c.get_string("model.arch").empty() &&
                   c.get_string("model.stages").empty() && c.get_int("model.hidden") == -1,
               "model.arch/hidden_layers/width/activation/stages/hidden: shape endd's own students; a TorchScript "
               "student (model.torchscript) has its own architecture");
    s.student = torchscript_arch(c.get_string("model.torchscript"));
    s.student_family = Arch::kTorchScript;
    return s;
  }
  const std::string family = c.get_string("model.arch");
  if (!family.empty()) s.student_family = parse_arch(family);
  c.require("model.arch", family.empty() || (s.student_family && *s.student_family != Arch::kTorchScript),
            "expected mlp, cnn, vgg or resnet ('' = the teacher's; a TorchScript student is --student FILE.pt)");
  s.student.stages = c.get_string("model.stages");
  parse_stages(s.student.stages, "model.stages");
  s.student.hidden = c.get_int("model.hidden");
  c.require("model.hidden", s.student.hidden >= -1, "expected >= 0 (or -1, the teacher's)");
  s.student.hidden_layers = c.get_int("model.hidden_layers");
  s.student.width = c.get_int("model.width");
  s.student.activation = c.get_string("model.activation");
  c.require("model.hidden_layers", s.student.hidden_layers >= -1, "expected >= 0 (or -1, the teacher's)");
  c.require("model.width", s.student.width >= 0, "expected >= 1 (or 0, the teacher's)");
  if (!s.student.activation.empty()) {
    try {
      models::parse_activation(s.student.activation);
    } catch (const Error& e) {
      const std::string what = e.what();  // "activation: expected ..."
      c.reject("model.activation", what.substr(what.find(": ") + 2));
    }
  }
  return s;
}

config::Config evaluate_config() {
  return config::Config(
      {{"seed", int64_t{0}, "random seed: bootstrap resamples, random row subsets, generated OOD sets"},
       {"run", std::string(""), "the finished run directory to evaluate (endd train or endd distill)"},
       {"data.test", std::string(""), "labelled test data source (regression runs: with the target column)"},
       {"data.ood", std::string(""),
        "out-of-domain sets, 'SRC[:NAME]' separated by ';': data sources, or for images uniform-noise, "
        "gaussian-noise, inverted (made from the test set)"},
       {"data.limit", int64_t{0}, "use only N rows of each set (0 = all)"},
       {"data.limit_random", false, "with data.limit: N rows drawn at random (seeded), not the first N"},
       {"report.bootstrap", int64_t{200}, "bootstrap resamples for the error's 95% interval"}});
}

EvaluateSettings evaluate_settings(const config::Config& c) {
  EvaluateSettings s;
  c.require("seed", c.get_int("seed") >= 0, "expected >= 0");
  s.seed = static_cast<uint64_t>(c.get_int("seed"));
  s.run = c.get_string("run");
  c.require("run", !s.run.empty(), "expected a finished run directory (--model DIR)");
  s.test = c.get_string("data.test");
  c.require("data.test", !s.test.empty(), "expected a labelled test data source (--data SRC)");
  try {
    s.ood = data::parse_ood_sets(c.get_string("data.ood"));
  } catch (const Error& e) {
    c.reject("data.ood", e.what());
  }
  s.limit = c.get_int("data.limit");
  c.require("data.limit", s.limit >= 0, "expected >= 0 (0 = all rows)");
  s.limit_random = c.get_bool("data.limit_random");
  c.require("report.bootstrap", c.get_int("report.bootstrap") >= 2, "expected >= 2");
  s.bootstrap = static_cast<int>(c.get_int("report.bootstrap"));
  return s;
}

}  // namespace endd::runs
