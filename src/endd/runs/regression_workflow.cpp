#include "endd/runs/regression_workflow.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <optional>
#include <tuple>

#include "endd/core/atomic_file.h"
#include "endd/core/distributed.h"
#include "endd/core/error.h"
#include "endd/core/output_paths.h"
#include "endd/core/seeding.h"
#include "endd/data/member_outputs.h"
#include "endd/data/source.h"
#include "endd/data/tensor_file.h"
#include "endd/metrics/regression.h"
#include "endd/models/regression_outputs.h"
#include "endd/report/regression_results.h"
#include "endd/report/results.h"
#include "endd/runs/run_steps.h"
#include "endd/train/ensemble_trainer.h"
#include "endd/train/regression_distiller.h"

namespace endd::runs {
namespace {

models::TargetScale target_scale(const RunInfo& info) { return {info.target_mean, info.target_sd}; }

// Targets as the networks learn them: standardised, float32.
at::Tensor learnt_targets(const RunInfo& info, const at::Tensor& targets) {
  return target_scale(info).standardise(targets.to(at::kDouble)).to(at::kFloat);
}

nlohmann::json regression_figures(LoadedModel& model, const data::Dataset& set) {
  return report::to_json(report::regression_metrics(regression_predictive(model, set.inputs, set.targets), set.targets));
}

// metrics.json at the end of a run, before it is marked finished.
void write_regression_metrics(const std::string& dir, LoadedModel model, const data::Dataset& train_set,
                              const data::Dataset& val_set) {
  nlohmann::json j{{"model", model.info.model_name()}, {"task", "regression"}};
  if (train_set.targets.defined()) j["train"] = regression_figures(model, train_set);  // outputs files may come without
  if (val_set.inputs.defined()) j["validation"] = regression_figures(model, val_set);
  report::write_json(run_file(dir, "metrics.json"), j);
}

// A new run's directory (removed again if the run fails) and its first
// files; a resumed run is left as it is.
void start_run(std::optional<CreatedDirectory>& created, const std::string& out, const config::Config& cfg,
               const RunInfo& info, bool resume) {
  if (resume) return;
  created.emplace(out);
  write_file_atomic(run_file(out, "config.toml"), cfg.to_toml());
  save_run_info(out, info);
}

}  // namespace

void run_regression_training(const config::Config& cfg, const std::string& out, c10::Device device, bool quiet,
                             bool resume) {
  const TrainSettings s = train_settings(cfg);
  data::SourceRequest request;
  request.label_column = s.label_column;
  request.numeric_targets = true;
  TrainingData d = load_training_data(s, request);
  ENDD_CHECK(d.train.size() >= 2, s.data, ": ", d.train.size(), " training row(s); regression needs at least 2");
  const std::string column = d.train.label_name.empty() ? "column " + std::to_string(d.train.label_index + 1)
                                                        : "'" + d.train.label_name + "'";
  ENDD_CHECK(d.train.targets.min().item<double>() < d.train.targets.max().item<double>(), s.data, ": every target in ",
             column, " is ", d.train.targets[0].item<double>(), "; a constant has nothing to learn (is the target "
             "another column? --target-column NAME|INDEX)");
  const models::TargetScale scale = models::TargetScale::fit(d.train.targets);
  RunInfo info;
  if (resume) {
    info = load_run_info(out);
    ENDD_CHECK(info.regression() && info.inputs == d.train.inputs.size(1) && info.target_mean == scale.mean &&
                   info.target_sd == scale.sd,
               s.data, ": the data changed since the run started (", d.train.inputs.size(1), " features, targets of mean ",
               scale.mean, " and sd ", scale.sd, "; the run has ", info.inputs, ", ", info.target_mean, " and ",
               info.target_sd, ")");
  } else {
    info.task = "regression";
    info.inputs = d.train.inputs.size(1);
    info.classes = 2;  // a Gaussian's mean and variance
    info.class_names.clear();
    info.label_column = s.label_column;
    info.label_index = d.train.label_index;
    info.label_name = d.train.label_name;
    info.feature_names = d.train.feature_names;
    info.members = s.members;
    info.model = s.model;
    info.sample_shape = standardised(s.model) ? std::vector<int64_t>{info.inputs} : d.sample_shape;
    ENDD_CHECK(s.augment == Augment::kNone || info.sample_shape.size() == 3, "train.augment: ", augment_name(s.augment),
               " needs images "
               "[C, H, W]; ", s.data, " holds inputs of shape ", at::IntArrayRef(d.sample_shape));
    info.target_mean = scale.mean;
    info.target_sd = scale.sd;
  }
  // With a process group, this rank trains its block of the members (run_steps.h).
  Distributed* group = process_group();
  const MemberShare share = member_share(s, cfg);
  RunInfo block = info;
  block.members = share.end - share.begin;
  // Built (and so checked) before the run directory exists.
  auto net = make_network(block, share.init_seeds, resume ? run_file(out, kModuleFile) : s.model.torchscript);
  std::optional<CreatedDirectory> created;
  if (share.leader) start_run(created, out, cfg, info, resume);
  if (created) keep_module(info, s.model.torchscript, out);
  if (group) enter_run_directory(out);
  net->to(device);
  const data::Standardizer scaler = scaler_for(info.model, d.train.inputs, s.standardize);
  auto o = s.train;
  o.objective = train::Objective::kGaussianNll;
  o.augment = augmentation(s.augment, info.sample_shape);
  o.quiet = quiet || !share.leader;
  o.label = share.label().empty() ? "train " + std::to_string(s.members) + (s.members == 1 ? " member" : " members")
                                  : share.label();
  o.batch_size = std::min(o.batch_size, d.train.size());
  train::BestMembers best;
  if (d.validation.inputs.defined()) {
    o.val_inputs = scaler.apply(d.validation.inputs).to(device);
    o.val_labels = learnt_targets(info, d.validation.targets).to(device);
    if (s.early_stopping > 0) {
      o.best = &best;
      o.patience = group ? 0 : s.early_stopping;  // ranks step through epochs together
    }
  }
  try {
    train::train_ensemble(*net, scaler.apply(d.train.inputs).to(device),
                          learnt_targets(info, d.train.targets).to(device),
                          share.order_seeds, o,
                          checkpoint_hooks(out, *net, info, resume, o.epochs, o.best));
  } catch (const DistributedError&) {
    if (created) created->keep();  // another rank was lost: the checkpoints resume the run
    throw;
  }
  if (!best.empty()) best.restore_into(*net);
  if (group) {
    net = gather_members(*net, info, share.all_init_seeds);
    if (!share.leader) return group->barrier("writing the run");  // the leader writes it
  }
  save_weights(run_file(out, "weights.pt"), *net, scaler);
  write_regression_metrics(out, {info, net, scaler}, d.train, d.validation);
  info.finished = true;
  save_run_info(out, info);
  if (created) created->keep();
  if (group) group->barrier("writing the run");
}

namespace {

// What a regression student learns from: its standardised transfer inputs
// (training + AUX), the scaler that made them, the training part (for
// metrics.json; targets optional), and the members' Gaussians on every
// transfer input in standardised target units [rows, M, 2] (or the teacher
// network that computes them). `info` is the student's run.json before the
// method's fields.
struct RegressionTransfer {
  RunInfo info;
  data::Standardizer scaler;
  at::Tensor x, cache;
  std::shared_ptr<models::EnsembleNet> teacher;
  at::Tensor teacher_x;  ///< the transfer inputs as the teacher takes them
  int64_t teacher_batch = 4096;
  std::string module_file;  ///< the student's TorchScript module, if it is one
  Init init = Init::kFromSeeds;
  data::Dataset train_set;
};

RegressionTransfer from_regression_run(const DistillSettings& s, const std::string& teacher_dir, c10::Device device) {
  LoadedModel teacher = load_model(teacher_dir, device);
  ENDD_CHECK(teacher.info.kind == RunKind::kEnsemble, teacher_dir,
             ": is a distilled student; distil from an ensemble run (endd train)");
  ENDD_CHECK(s.distill.method == train::DistillMethod::kEnD || teacher.info.members >= 2, teacher_dir,
             ": has 1 member; EnD^2 needs at least 2 (a single member has no spread to fit)");
  ENDD_CHECK(teacher.info.model.arch != Arch::kTorchScript || s.distill.method == train::DistillMethod::kEnD ||
                 s.student_family == Arch::kTorchScript,
             teacher_dir, ": its members are your TorchScript module with 2 outputs (a mean and a variance), which "
             "fits --method end (a Gaussian); for end2 give a student module with 4 outputs (m and the logarithms of "
             "kappa, alpha - 2 and beta): --student NET.pt");
  config::Config teacher_cfg = train_config();
  teacher_cfg.merge_toml_file(run_file(teacher_dir, "config.toml"));
  RegressionTransfer t;
  TrainingData teacher_data = load_training_data(train_settings(teacher_cfg), source_request(teacher.info, true));
  t.train_set = teacher_data.train;
  // The teacher's training inputs and the AUX inputs, as the teacher takes them.
  t.teacher_x = teacher.scaler.apply(t.train_set.inputs);
  if (s.aux == "generated") {  // around and beyond the data, in standardised space
    const int64_t n = s.aux_count > 0 ? s.aux_count : t.train_set.size();
    at::Generator g = cpu_generator(derive_seed(s.seed, Stream::kAuxData));
    t.teacher_x = at::cat({t.teacher_x, at::randn({n, teacher.info.inputs}, g, at::kFloat) * s.aux_scale}, 0);
  } else if (!s.aux.empty()) {
    t.teacher_x = at::cat(
        {t.teacher_x, teacher.scaler.apply(data::load_source(s.aux, source_request(teacher.info, false)).inputs)}, 0);
  }
  StudentPlacement student = place_student(s, teacher, teacher_dir, teacher_data.sample_shape, t.train_set.inputs,
                                           t.teacher_x, t.info);
  t.module_file = student.module_file;
  t.init = student.init;
  t.scaler = student.scaler;
  t.x = student.x;
  t.teacher = teacher.net;
  t.teacher_batch = inference_batch(teacher.info);
  return t;
}

// Members' means and variances from a file [N, M, 2] (user units).
at::Tensor gaussians_from_file(const std::string& path, const DistillSettings& s) {
  return data::load_member_outputs(path, {s.teacher_members, data::OutputKind::kGaussian, 0, false}).to(at::kDouble);
}

RegressionTransfer from_gaussian_outputs(const DistillSettings& s) {
  at::Tensor outputs = gaussians_from_file(s.teacher_outputs, s);
  const int64_t M = outputs.size(1);
  ENDD_CHECK(s.distill.method == train::DistillMethod::kEnD || M >= 2, s.teacher_outputs,
             ": has 1 member; EnD^2 needs at least 2 (a single member has no spread to fit)");
  data::SourceRequest request;
  request.numeric_targets = true;
  request.need_labels = s.label_column != "none";
  request.labels_optional = true;  // targets only add figures to metrics.json
  request.label_column = s.label_column;
  RegressionTransfer t;
  std::vector<int64_t> sample_shape;
  std::tie(t.train_set, sample_shape) = load_as_rows(s.data, request);
  ENDD_CHECK(t.train_set.size() == outputs.size(0), s.teacher_outputs, ": outputs for ", outputs.size(0),
             " inputs, but ", s.data, " holds ", t.train_set.size(), " (the same inputs, in the same order, are needed)");
  t.scaler = scaler_for(student_arch(s, ArchSettings{}), t.train_set.inputs);
  t.x = t.scaler.apply(t.train_set.inputs);
  if (!s.aux.empty()) {
    data::Dataset aux = load_unlabelled_rows(s.aux, t.train_set.inputs.size(1));
    at::Tensor aux_outputs = gaussians_from_file(s.aux_outputs, s);
    ENDD_CHECK(aux_outputs.size(0) == aux.size() && aux_outputs.size(1) == M, s.aux_outputs, ": outputs of shape ",
               aux_outputs.sizes(), ", expected [", aux.size(), ", ", M, ", 2] (", s.aux, " holds ", aux.size(),
               " inputs; ", s.teacher_outputs, " has ", M, " members)");
    t.x = at::cat({t.x, t.scaler.apply(aux.inputs)}, 0);
    outputs = at::cat({outputs, aux_outputs}, 0);
  }
  // The student learns standardised targets: by the training targets when
  // the data has them, else by the members' means on the training inputs.
  const at::Tensor on_train = outputs.slice(0, 0, t.train_set.size());
  const models::TargetScale scale = models::TargetScale::fit(
      t.train_set.targets.defined() ? t.train_set.targets : on_train.select(2, 0).flatten());
  t.cache = at::stack({scale.standardise(outputs.select(2, 0)), outputs.select(2, 1) / (scale.sd * scale.sd)}, 2)
                .to(at::kFloat);
  RunInfo& i = t.info;
  i.task = "regression";
  i.inputs = t.train_set.inputs.size(1);
  i.class_names.clear();
  i.label_column = s.label_column;
  i.label_index = t.train_set.label_index;
  i.label_name = t.train_set.label_name;
  i.feature_names = t.train_set.feature_names;
  i.model = student_arch(s, ArchSettings{});
  i.sample_shape = standardised(i.model) ? std::vector<int64_t>{i.inputs} : sample_shape;
  if (i.model.arch == Arch::kTorchScript) {
    t.module_file = i.model.torchscript;
    t.init = Init::kFromFileWeights;
  }
  i.target_mean = scale.mean;
  i.target_sd = scale.sd;
  return t;
}

}  // namespace

void run_regression_distillation(const config::Config& cfg, const std::string& teacher_dir, const std::string& out,
                                 c10::Device device, bool quiet, bool resume) {
  const DistillSettings s = distill_settings(cfg);
  ENDD_CHECK(!process_group(), "distill: a regression student trains in one process for now (docs/distributed.md)");
  const auto method = s.distill.method;
  const std::string teacher_name = s.teacher_outputs.empty() ? teacher_dir : s.teacher_outputs;
  ENDD_CHECK(method != train::DistillMethod::kEnD2Proxy, "distill.method: a regression teacher is distilled with end "
             "(a Gaussian student) or end2 (a Normal-Gamma prior network); end2-proxy is for classification");
  ENDD_CHECK(s.aux != "images" && s.transfer_views == 1 && s.eval_data.empty(), s.aux == "images" ? "distill.aux"
             : s.transfer_views != 1 ? "distill.transfer_views" : "data.eval", ": not available for a regression "
             "teacher (", teacher_name, "); AUX inputs are 'generated' or a data source");
  RegressionTransfer t = s.teacher_outputs.empty() ? from_regression_run(s, teacher_dir, device) : from_gaussian_outputs(s);
  const at::Tensor& x = t.x;
  RunInfo info = t.info;
  if (resume) {
    info = load_run_info(out);
  } else {
    info.kind = RunKind::kStudent;
    info.method = train::distill_method_name(method);
    info.aux = !s.aux.empty();
    info.members = 1;
    info.classes = method == train::DistillMethod::kEnD ? 2 : 4;
    info.finished = false;
    info.epochs_done = 0;
    info.normal_gamma_link = models::PositiveLink::kExp;
  }
  const uint64_t init_seed = derive_seed(s.seed, Stream::kStudentInit, s.student_index);
  auto student = resume ? make_network(info, {init_seed}, run_file(out, kModuleFile), t.init)
                        : make_network(info, {init_seed}, t.module_file, t.init);
  std::optional<CreatedDirectory> created;
  start_run(created, out, cfg, info, resume);
  if (created) keep_module(info, t.module_file, out);
  // Teacher cache: each member's Gaussian (mean, variance) in standardised
  // target units on every transfer input, [N, M, 2]; reused on resume.
  const std::string cache_path = run_file(out, "teacher_cache.pt");
  at::Tensor cache;
  std::error_code ec;
  if (resume && std::filesystem::exists(cache_path, ec)) {
    cache = data::load_tensor_file(cache_path);
    ENDD_CHECK(cache.dim() == 3 && cache.size(0) == x.size(0) && cache.size(2) == 2, cache_path,
               ": teacher cache of shape ", cache.sizes(), " does not fit ", x.size(0), " transfer inputs");
  } else if (t.cache.defined()) {
    cache = t.cache;
    data::save_tensor_file(cache_path, cache);
  } else {
    models::MemberGaussians g =
        models::member_gaussians(*t.teacher, t.teacher_x, models::TargetScale{}, t.teacher_batch);
    cache = at::stack({g.means, g.variances}, 2);
    data::save_tensor_file(cache_path, cache);
  }
  student->to(device);
  train::RegressionDistillOptions o;
  o.method = method == train::DistillMethod::kEnD ? train::RegressionMethod::kEnD : train::RegressionMethod::kEnD2;
  o.epochs = s.distill.epochs;
  o.batch_size = std::min(s.distill.batch_size, x.size(0));
  o.learning_rate = s.distill.learning_rate;
  o.cosine_schedule = s.distill.cosine_schedule;
  o.clip_norm = s.distill.clip_norm;
  o.normal_gamma_fit = s.normal_gamma_fit;
  o.normal_gamma_link = info.normal_gamma_link;  // a resumed student keeps its own
  o.order_seed = derive_seed(s.seed, Stream::kStudentOrder, s.student_index);
  o.quiet = quiet;
  o.label = "distill " + info.model_name();
  train::distill_regression(*student, x, cache.select(2, 0), cache.select(2, 1), o,
                            checkpoint_hooks(out, *student, info, resume, o.epochs));
  save_weights(run_file(out, "weights.pt"), *student, t.scaler);
  write_regression_metrics(out, {info, student, t.scaler}, t.train_set, {});
  info.finished = true;
  save_run_info(out, info);
  if (created) created->keep();
}

uncertainty::RegressionPredictive regression_predictive(LoadedModel& model, const at::Tensor& inputs,
                                                        const at::Tensor& targets) {
  ENDD_CHECK(model.info.regression(), "not a regression run");
  ENDD_CHECK(inputs.dim() == 2 && inputs.size(1) == model.info.inputs, "inputs of shape ", inputs.sizes(),
             " do not fit the model's ", model.info.inputs, " features");
  const at::Tensor x = model.scaler.apply(inputs);
  const models::TargetScale scale = target_scale(model.info);
  const int64_t batch = inference_batch(model.info);
  if (model.info.normal_gamma())
    return uncertainty::normal_gamma_predictive(
        models::normal_gamma_outputs(*model.net, x, scale, model.info.normal_gamma_link, batch), targets);
  models::MemberGaussians g = models::member_gaussians(*model.net, x, scale, batch);
  return uncertainty::gaussian_predictive(g.means, g.variances, targets);
}

}  // namespace endd::runs
