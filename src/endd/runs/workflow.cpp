#include "endd/runs/workflow.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>

#include "endd/core/atomic_file.h"
#include "endd/core/distributed.h"
#include "endd/core/error.h"
#include "endd/core/output_paths.h"
#include "endd/core/seeding.h"
#include "endd/data/class_labels.h"
#include "endd/data/image_transforms.h"
#include "endd/data/member_outputs.h"
#include "endd/data/source.h"
#include "endd/data/subsets.h"
#include "endd/data/tensor_file.h"
#include "endd/distill/aux_selection.h"
#include "endd/distill/teacher_cache.h"
#include "endd/distill/teacher_memo.h"
#include "endd/models/conv_ensemble.h"
#include "endd/report/classification_results.h"
#include "endd/report/results.h"
#include "endd/runs/regression_workflow.h"
#include "endd/runs/run_steps.h"
#include "endd/train/distiller.h"
#include "endd/train/ensemble_shards.h"
#include "endd/train/ensemble_trainer.h"
#include "endd/uncertainty/measures.h"

namespace endd::runs {

data::Dataset load_unlabelled_rows(const std::string& spec, int64_t features) {
  data::SourceRequest request;
  request.features = features;
  request.need_labels = false;
  request.flatten = true;
  return data::load_source(spec, request);
}

std::string checkpoint_file(int64_t epochs) {
  const Distributed* group = process_group();
  if (!group) return "checkpoint.pt";
  // Two slots, by the parity of the epochs: a rank killed mid-epoch may be
  // one epoch behind the others, and each keeps the epoch before its last.
  return "checkpoint.rank" + std::to_string(group->rank()) + "-of-" + std::to_string(group->world()) +
         (epochs % 2 == 0 ? ".even" : ".odd") + ".pt";
}

namespace {

// A run checkpointed by another number of processes than this one's.
void check_same_world(const std::string& dir) {
  auto world_of = [](const std::string& name) {  // "-of-W", or "" for checkpoint.pt
    const size_t at = name.find("-of-");
    return at == std::string::npos ? std::string() : name.substr(at, name.find('.', at) - at);
  };
  const std::string mine = world_of(checkpoint_file(0));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name != "checkpoint.pt" && name.rfind("checkpoint.rank", 0) != 0) continue;
    ENDD_CHECK(world_of(name) == mine, dir, ": was checkpointed ",
               name == "checkpoint.pt" ? "by one process" : "as " + name, "; resume it with the same number of "
               "processes (WORLD_SIZE)");
  }
}

// The checkpoint to resume from: a single process's own; in a group the
// latest epoch every rank has (ranks differ by at most one, see checkpoint_file).
std::string resume_checkpoint(const std::string& dir) {
  Distributed* group = process_group();
  if (!group) return run_file(dir, checkpoint_file(0));
  std::vector<std::string> slots{run_file(dir, checkpoint_file(0)), run_file(dir, checkpoint_file(1))};
  const int64_t latest = std::max(checkpoint_epochs(slots[0]), checkpoint_epochs(slots[1]));
  const int64_t common =
      group->all_gather_rows(at::tensor({latest}, at::kLong), "agreeing on the epoch to resume from").min().item<int64_t>();
  if (common <= 0) return "";
  const std::string path = slots[size_t(common % 2)];
  ENDD_CHECK(checkpoint_epochs(path) == common, path, ": holds ", checkpoint_epochs(path), " epochs; the ranks agreed "
             "to resume after ", common, " (a checkpoint of another run?)");
  return path;
}

}  // namespace

train::TrainingHooks checkpoint_hooks(const std::string& dir, models::EnsembleNet& net, RunInfo& info, bool resume,
                                      int64_t epochs, train::BestMembers* best) {
  train::TrainingHooks hooks;
  Distributed* group = process_group();
  if (resume) {
    hooks.resume = [&net, dir, best](torch::optim::Optimizer& opt, train::TrainingCurve& curve) {
      check_same_world(dir);
      const std::string checkpoint = resume_checkpoint(dir);
      std::error_code ec;
      if (checkpoint.empty() || !std::filesystem::exists(checkpoint, ec)) return int64_t{0};  // killed before epoch 1
      return load_checkpoint(checkpoint, net, opt, curve, best);
    };
  }
  using Clock = std::chrono::steady_clock;
  struct Pace {
    Clock::time_point last_written = Clock::now();
    double cost = 0;  ///< seconds the last checkpoint took
  };
  auto pace = std::make_shared<Pace>();
  hooks.after_epoch = [&net, &info, dir, best, group, epochs, pace](const train::TrainingCurve& curve,
                                                                    torch::optim::Optimizer& opt) {
    const auto started = Clock::now();
    const double since = std::chrono::duration<double>(started - pace->last_written).count();
    const bool last = static_cast<int64_t>(curve.size()) >= epochs;
    // Early stopping may end any epoch: then every one is written.
    if (!group && !best && !last && pace->cost > kCheckpointShare * since) return;
    struct Timer {  // also when a write fails
      Pace& p;
      Clock::time_point t0;
      ~Timer() {
        p.last_written = Clock::now();
        p.cost = std::chrono::duration<double>(p.last_written - t0).count();
      }
    } timer{*pace, started};
    save_checkpoint(run_file(dir, checkpoint_file(static_cast<int64_t>(curve.size()))), net, opt, curve, best);
    // Every rank's checkpoint of this epoch exists before run.json counts it;
    // a rank that died stops the others here, within the timeout.
    if (group) group->barrier("after epoch " + std::to_string(curve.size()));
    if (group && !group->leader()) return;
    write_training_log(run_file(dir, "train_log.csv"), curve);
    info.epochs_done = static_cast<int64_t>(curve.size());
    save_run_info(dir, info);
  };
  return hooks;
}

void enter_run_directory(const std::string& out) {
  Distributed* group = process_group();
  group->barrier("creating the run directory");
  // A rank on another host without a shared file system keeps its
  // checkpoints in a directory of the same path there.
  std::error_code ec;
  if (!group->leader()) std::filesystem::create_directories(out, ec);
}

MemberShare member_share(const TrainSettings& s, const config::Config& cfg) {
  Distributed* group = process_group();
  MemberShare share{0, s.members, true, member_seeds(s.seed, Stream::kMemberInit, s.members), {}, {}};
  if (group) {
    // A member's parameters and buffers are rows of every tensor (member_part),
    // so blocks gather by rows; a TorchScript module's layout is its own.
    ENDD_CHECK(s.model.arch != Arch::kTorchScript, "model.arch: TorchScript members train in one process for now; "
               "several processes train endd's own architectures (docs/distributed.md)");
    group->check_same("configuration", cfg.to_toml());
    ENDD_CHECK(group->world() <= s.members, "train.members: ", s.members, " members for ", group->world(),
               " processes; each process trains at least one member (fewer processes, or more members)");
    std::tie(share.begin, share.end) = rank_block(s.members, group->rank(), group->world());
    share.leader = group->leader();
  }
  const auto orders = member_seeds(s.seed, Stream::kMemberOrder, s.members);
  share.init_seeds.assign(share.all_init_seeds.begin() + share.begin, share.all_init_seeds.begin() + share.end);
  share.order_seeds.assign(orders.begin() + share.begin, orders.begin() + share.end);
  return share;
}

std::string MemberShare::label() const {
  const int64_t members = static_cast<int64_t>(all_init_seeds.size());
  if (begin == 0 && end == members) return "";
  return "train members " + std::to_string(begin) + "-" + std::to_string(end - 1) + " of " + std::to_string(members);
}

std::shared_ptr<models::EnsembleNet> gather_members(models::EnsembleNet& block, const RunInfo& info,
                                                    const std::vector<uint64_t>& seeds) {
  Distributed* group = process_group();
  // Parameters and buffers (BatchNorm statistics) alike hold the members
  // along dimension 0, in member order: rank order is member order.
  std::vector<at::Tensor> mine = block.parameters();
  for (const auto& b : block.buffers()) mine.push_back(b);
  std::vector<at::Tensor> gathered;
  for (const auto& t : mine) gathered.push_back(group->all_gather_rows(t.detach().cpu(), "gathering the members"));
  if (!group->leader()) return nullptr;
  auto full = make_network(info, seeds);
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> whole = full->parameters();
  for (const auto& b : full->buffers()) whole.push_back(b);
  ENDD_CHECK(whole.size() == gathered.size(), "distributed: the gathered members do not fit the network");
  for (size_t i = 0; i < whole.size(); ++i) {
    ENDD_CHECK(whole[i].sizes() == gathered[i].sizes(), "distributed: gathered tensor ", i, " has shape ",
               gathered[i].sizes(), ", the ensemble's is ", whole[i].sizes());
    whole[i].copy_(gathered[i]);
  }
  return full;
}

std::vector<uint64_t> member_seeds(uint64_t seed, Stream stream, int64_t count) {
  std::vector<uint64_t> out;
  for (int64_t m = 0; m < count; ++m) out.push_back(derive_seed(seed, stream, static_cast<uint64_t>(m)));
  return out;
}

std::pair<data::Dataset, std::vector<int64_t>> load_as_rows(const std::string& spec, data::SourceRequest request) {
  request.flatten = false;
  data::Dataset d = data::load_source(spec, request);
  std::vector<int64_t> shape(d.inputs.sizes().begin() + 1, d.inputs.sizes().end());
  d.inputs = d.inputs.flatten(1);
  return {d, shape};
}

TrainingData load_training_data(const TrainSettings& s, data::SourceRequest request) {
  auto [all, sample_shape] = load_as_rows(s.data, request);
  all = data::limit_rows(all, s.limit, s.limit_random, derive_seed(s.seed, Stream::kSubset));
  if (s.val_fraction <= 0) return {all, {}, sample_shape};
  auto [train, validation] = data::stratified_split(all, s.val_fraction, derive_seed(s.seed, Stream::kValidationSplit));
  return {train, validation, sample_shape};
}

ArchSettings student_arch(const DistillSettings& s, const ArchSettings& base) {
  if (s.student_family == Arch::kTorchScript) return s.student;
  const bool mlp_keys = s.student.hidden_layers >= 0 || s.student.width > 0 || !s.student.activation.empty();
  const bool image_keys = !s.student.stages.empty() || s.student.hidden >= 0;
  const Arch arch = s.student_family ? *s.student_family : mlp_keys && base.arch != Arch::kMlp ? Arch::kMlp : base.arch;
  ArchSettings a = base;
  if (arch != base.arch) a = arch == Arch::kMlp ? ArchSettings{} : ArchSettings{arch, 0, 0, "", "", "", -1};
  ENDD_CHECK(!(a.image() && mlp_keys), "model.hidden_layers/width/activation: shape an MLP student, not ", a.name());
  ENDD_CHECK(a.image() || !image_keys, "model.stages/hidden: shape an image student (model.arch = cnn, vgg or "
             "resnet), not ", a.name());
  if (s.student.hidden_layers >= 0) a.hidden_layers = s.student.hidden_layers;
  if (s.student.width > 0) a.width = s.student.width;
  if (!s.student.activation.empty()) a.activation = s.student.activation;
  if (!s.student.stages.empty()) a.stages = s.student.stages;
  if (s.student.hidden >= 0) a.hidden = s.student.hidden;
  return a;
}

StudentPlacement place_student(const DistillSettings& s, const LoadedModel& teacher, const std::string& teacher_dir,
                               const std::vector<int64_t>& data_shape, const at::Tensor& train_inputs,
                               const at::Tensor& teacher_x, RunInfo& info) {
  StudentPlacement p;
  p.model = student_arch(s, teacher.info.model);
  if (p.model.arch == Arch::kTorchScript) {
    const bool given = s.student_family == Arch::kTorchScript;
    p.module_file = given ? s.student.torchscript : run_file(teacher_dir, kModuleFile);
    p.init = given ? Init::kFromFileWeights : Init::kFromSeeds;
  }
  // A student of another family than its teacher takes the data in its own shape.
  p.sample_shape = teacher.info.sample_shape;
  if (standardised(p.model))
    p.sample_shape = {teacher.info.inputs};
  else if (standardised(teacher.info.model))
    p.sample_shape = data_shape;
  const bool same_kind = standardised(p.model) == standardised(teacher.info.model);
  p.scaler = same_kind ? teacher.scaler : scaler_for(p.model, train_inputs);
  p.x = same_kind ? teacher_x : p.scaler.apply(teacher.scaler.invert(teacher_x));
  info = teacher.info;
  info.teacher = std::filesystem::absolute(teacher_dir).lexically_normal().string();
  info.model = p.model;
  info.sample_shape = p.sample_shape;
  return p;
}

bool standardised(const ArchSettings& arch) { return arch.arch == Arch::kMlp; }
data::Standardizer scaler_for(const ArchSettings& arch, const at::Tensor& train_inputs, bool standardize) {
  return standardised(arch) && standardize ? data::Standardizer::fit(train_inputs)
                            : data::Standardizer::identity(train_inputs.size(1));
}

std::function<at::Tensor(const at::Tensor&, uint64_t)> augmentation(Augment kind,
                                                                      const std::vector<int64_t>& sample_shape) {
  if (kind == Augment::kNone) return {};
  std::vector<int64_t> shape{1, -1};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  const bool flip = kind == Augment::kCropFlip;
  return [shape, flip](const at::Tensor& rows, uint64_t seed) {
    return data::random_crop_flip(rows.reshape(shape), 2, flip, seed).reshape(rows.sizes());
  };
}

void keep_module(const RunInfo& info, const std::string& module_file, const std::string& dir) {
  if (info.model.arch == Arch::kTorchScript) write_file_atomic(run_file(dir, kModuleFile), read_file(module_file));
}

namespace {

namespace fs = std::filesystem;

void check_fresh_output(const std::string& out) {
  std::error_code ec;
  ENDD_CHECK(!fs::exists(run_file(out, "run.json"), ec), out,
             ": already holds a run; choose another --out or continue it with --resume ", out);
  // A run killed before it began (config.toml or a temporary written, no
  // run.json yet) left only endd's own files: start it again in place.
  if (fs::is_directory(out, ec)) {
    std::vector<fs::path> leftovers;
    bool only_ours = true;
    for (const auto& entry : fs::directory_iterator(out, ec)) {
      const std::string name = entry.path().filename().string();
      const bool ours = name == "config.toml" || (name.size() > 1 && name[0] == '.' && name.find(".tmp.") != std::string::npos);
      only_ours = only_ours && ours && entry.is_regular_file(ec);
      leftovers.push_back(entry.path());
    }
    if (only_ours)
      for (const auto& p : leftovers) fs::remove(p, ec);
  }
  ENDD_CHECK(!fs::exists(out, ec) || (fs::is_directory(out, ec) && fs::is_empty(out, ec)), out,
             ": exists and is not an empty directory; --out names a new run directory");
}

// Training-set figures written to metrics.json at the end of a run, before
// the run is marked finished (so a finished run always has them).
void write_final_metrics(const std::string& dir, LoadedModel model, const data::Dataset& train_set,
                         const data::Dataset& val_set, nlohmann::json j = nlohmann::json::object()) {
  model.net->eval();
  j["model"] = model.info.model_name();
  if (train_set.labels.defined())  // a student of teacher outputs may have no labels
    j["train"] = report::to_json(report::classify(infer(model, train_set.inputs).measures, train_set.labels));
  if (val_set.inputs.defined())
    j["validation"] = report::to_json(report::classify(infer(model, val_set.inputs).measures, val_set.labels));
  report::write_json(run_file(dir, "metrics.json"), j);
}

// Rows [N, D] as images [N, C, H, W] of `shape`.
at::Tensor as_images(const at::Tensor& rows, const std::vector<int64_t>& shape) {
  return rows.reshape({rows.size(0), shape.at(0), shape.at(1), shape.at(2)});
}

// The run's network restricted to this process's members.
RunInfo block_of(RunInfo info, const MemberShare& share) {
  info.members = share.end - share.begin;
  return info;
}

void run_training(const config::Config& cfg, const std::string& out, c10::Device device, bool quiet,
                  bool resume) {
  TrainSettings s = train_settings(cfg);
  if (s.task == Task::kRegression) return run_regression_training(cfg, out, device, quiet, resume);
  data::SourceRequest request;
  request.label_column = s.label_column;
  auto [train_set, val_set, sample_shape] = load_training_data(s, request);
  const int64_t classes = static_cast<int64_t>(train_set.classes.size());
  const std::string label_column = train_set.label_name.empty()
                                       ? "(index " + std::to_string(train_set.label_index) + ")"
                                       : "'" + train_set.label_name + "'";
  const std::string column = train_set.label_index < 0 ? std::string() : " in the label column " + label_column;
  if (train_set.label_index >= 0)
    data::check_plausible_labels({train_set.classes, train_set.labels}, s.data, label_column);
  ENDD_CHECK(at::bincount(train_set.labels, {}, classes).gt(0).sum().item<int64_t>() >= 2, s.data,
             ": every label", column, " is '", train_set.classes.at(train_set.labels[0].item<int64_t>()),
             "'; training needs at least 2 classes",
             column.empty() ? "" : " (is the label another column? --label-column NAME|INDEX)");
  // With a process group, this rank's block of the members (run_steps.h).
  Distributed* group = process_group();
  const MemberShare share = member_share(s, cfg);
  RunInfo info;
  std::optional<CreatedDirectory> created;  // a fresh run's directory, removed if the run fails
  std::shared_ptr<models::EnsembleNet> net;
  if (resume) {
    info = load_run_info(out);
    ENDD_CHECK(info.inputs == train_set.inputs.size(1) && info.class_names == train_set.classes, s.data,
               ": the data changed since the run started (", train_set.inputs.size(1), " features, classes ",
               data::join_names(train_set.classes), "; the run has ", info.inputs, " and ",
               data::join_names(info.class_names), ")");
  } else {
    info.inputs = train_set.inputs.size(1);
    info.classes = classes;
    info.class_names = train_set.classes;
    info.label_column = s.label_column;
    info.label_index = train_set.label_index;
    info.label_name = train_set.label_name;
    info.feature_names = train_set.feature_names;
    info.members = s.members;
    info.model = s.model;
    info.sample_shape = standardised(s.model) ? std::vector<int64_t>{info.inputs} : sample_shape;
    ENDD_CHECK(s.augment == Augment::kNone || info.sample_shape.size() == 3, "train.augment: ", augment_name(s.augment),
               " needs images "
               "[C, H, W]; ", s.data, " holds inputs of shape ", at::IntArrayRef(sample_shape),
               standardised(s.model) ? " and --arch mlp takes them as rows" : "");
    // Built (and so checked against the data) before the run directory exists.
    net = make_network(block_of(info, share), share.init_seeds, s.model.torchscript);
    if (share.leader) {
      created.emplace(out);
      keep_module(info, s.model.torchscript, out);
      write_file_atomic(run_file(out, "config.toml"), cfg.to_toml());
      save_run_info(out, info);
    }
  }
  if (group) enter_run_directory(out);
  if (!net) net = make_network(block_of(info, share), share.init_seeds, run_file(out, kModuleFile));
  auto scaler = scaler_for(info.model, train_set.inputs, s.standardize);
  net->to(device);
  auto opts = s.train;
  opts.quiet = quiet || !share.leader;
  opts.label = share.label();
  opts.augment = augmentation(s.augment, info.sample_shape);
  opts.batch_size = std::min(opts.batch_size, train_set.size());  // a small data set is one batch
  train::BestMembers best;
  if (val_set.inputs.defined()) {
    opts.val_inputs = scaler.apply(val_set.inputs);
    opts.val_labels = val_set.labels;
    if (s.early_stopping > 0) {
      opts.best = &best;
      // Ranks step through epochs together, so none stops early; each
      // member still keeps its best epoch, the weights a one-process run ends with.
      opts.patience = group ? 0 : s.early_stopping;
    }
  }
  // Shards side by side use every core where a small network's steps do
  // not (train/ensemble_shards.h); several processes already split the members.
  const size_t shards = group || info.model.arch == Arch::kTorchScript ? 1
                        : s.shards > 0 ? static_cast<size_t>(s.shards)
                                       : train::shards_for(share.end - share.begin, device);
  // Convolutional members on the CPU: their stages in the layout measured
  // faster on this machine (the same numbers either way); a resumed run
  // keeps the one it recorded.
  auto* conv = dynamic_cast<models::ConvEnsemble*>(net.get());
  if (conv && device.is_cpu() && conv->members() > 1 && !info.conv_layout)
    info.conv_layout = models::measure_conv_layout(conv->options(), opts.batch_size);
  const bool member_major = info.conv_layout && info.conv_layout->member_major;
  if (conv) conv->set_member_major(member_major);
  auto make_shard = [&](const std::vector<uint64_t>& seeds) {
    RunInfo part = info;
    part.members = static_cast<int64_t>(seeds.size());
    auto shard = make_network(part, seeds, "");
    if (auto* c = dynamic_cast<models::ConvEnsemble*>(shard.get())) c->set_member_major(member_major);
    return shard;
  };
  try {
    train::train_in_shards(*net, make_shard, share.init_seeds, scaler.apply(train_set.inputs), train_set.labels,
                           share.order_seeds, opts, shards, checkpoint_hooks(out, *net, info, resume, opts.epochs, opts.best));
  } catch (const DistributedError&) {
    if (created) created->keep();  // another rank was lost: the checkpoints resume the run
    throw;
  }
  if (opts.best) best.restore_into(*net);  // each member at its best validation epoch
  if (group) {
    net = gather_members(*net, info, share.all_init_seeds);
    if (!share.leader) return group->barrier("writing the run");  // the leader writes it
  }
  save_weights(run_file(out, "weights.pt"), *net, scaler);
  write_final_metrics(out, {info, net, scaler}, train_set, val_set);
  info.finished = true;
  save_run_info(out, info);
  if (created) created->keep();
  if (group) group->barrier("writing the run");
}

// What a student learns from: the standardised transfer inputs, the scaler
// that made them, the labelled training part (for metrics.json), and either
// the teacher's logits on them (outputs given as files) or the teacher to
// compute them; `info` is the student's run.json before training.
struct TransferSource {
  data::Dataset train_set;
  data::Standardizer scaler;
  at::Tensor x;
  at::Tensor teacher_logits;  ///< [N, M, K], or undefined: computed by `teacher` on `teacher_x`
  std::shared_ptr<models::EnsembleNet> teacher;
  int64_t teacher_batch = 4096;  ///< inference_batch() of the teacher
  std::string teacher_identity;  ///< the teacher run and its weights' bytes (distill/teacher_memo.h)
  at::Tensor teacher_x;       ///< the transfer inputs as the teacher takes them
  int64_t in_domain_rows = -1;  ///< rows of x before the AUX inputs (-1: no AUX inputs)
  data::Standardizer teacher_scaler;
  std::vector<int64_t> image_shape;  ///< the data's own shape of one input (for image views)
  std::string module_file;    ///< the student's TorchScript module, if it is one
  Init init = Init::kFromSeeds;
  RunInfo info;
  /// Held-out inputs (rows) and the teacher's logits on them (data.eval).
  data::Dataset eval_set;
  at::Tensor eval_teacher_logits;
};

// `inputs` followed by `copies` copies of them plus N(0, jitter^2) noise.
at::Tensor with_jittered_copies(const at::Tensor& inputs, int64_t copies, double jitter, uint64_t seed) {
  if (copies == 0) return inputs;
  std::vector<at::Tensor> parts{inputs};
  at::Generator gen = cpu_generator(seed);
  for (int64_t k = 0; k < copies; ++k)
    parts.push_back(inputs + at::randn(inputs.sizes(), gen, inputs.options()) * jitter);
  return at::cat(parts, 0);
}

// The student against its teacher on the held-out inputs (metrics.json
// "eval"): agreement and uncertainty rank correlations, and with labels both
// models' classification figures.
nlohmann::json eval_metrics(const TransferSource& t, LoadedModel student) {
  student.net->eval();
  uncertainty::Measures mine = infer(student, t.eval_set.inputs).measures;
  uncertainty::Measures theirs = uncertainty::ensemble_measures_from_logits(t.eval_teacher_logits);
  nlohmann::json j{{"data", t.eval_set.name}, {"fidelity", report::to_json(report::fidelity(mine, theirs))}};
  if (t.eval_set.labels.defined()) {
    j["student"] = report::to_json(report::classify(mine, t.eval_set.labels));
    j["ensemble"] = report::to_json(report::classify(theirs, t.eval_set.labels));
  }
  return j;
}

TransferSource from_teacher_run(const DistillSettings& s, const std::string& teacher_dir, c10::Device device) {
  LoadedModel teacher = load_model(teacher_dir, device);
  ENDD_CHECK(teacher.info.kind == RunKind::kEnsemble, teacher_dir,
             ": is a distilled student; distil from an ensemble run (endd train)");
  ENDD_CHECK(!train::is_dirichlet(s.distill.method) || teacher.info.members >= 2, teacher_dir,
             ": has 1 member; EnD^2 needs at least 2 (a single member has no spread to fit)");
  config::Config teacher_cfg = train_config();
  teacher_cfg.merge_toml_file(run_file(teacher_dir, "config.toml"));
  TransferSource t;
  TrainingData teacher_data = load_training_data(train_settings(teacher_cfg), source_request(teacher.info, true));
  t.train_set = teacher_data.train;
  const at::Tensor train_x = teacher.scaler.apply(t.train_set.inputs);
  at::Tensor aux_x;
  if (s.aux == "generated") {  // drawn where the teacher's members took their inputs
    int64_t n = s.aux_count > 0 ? s.aux_count : t.train_set.size();
    at::Generator g = cpu_generator(derive_seed(s.seed, Stream::kAuxData));
    aux_x = at::randn({n, teacher.info.inputs}, g, at::kFloat) * s.aux_scale;
  } else if (!s.aux.empty() && s.aux != "images") {
    aux_x = teacher.scaler.apply(data::load_source(s.aux, source_request(teacher.info, false)).inputs);
  }
  t.teacher = teacher.net;
  t.teacher_batch = inference_batch(teacher.info);
  if (distill::TeacherLogitsMemo::process().enabled())
    if (const std::string weights = distill::file_fingerprint(run_file(teacher_dir, "weights.pt")); !weights.empty())
      t.teacher_identity = fs::absolute(teacher_dir).lexically_normal().string() + "|" + weights + "|" + device.str();
  t.teacher_scaler = teacher.scaler;
  t.image_shape = teacher_data.sample_shape;
  ENDD_CHECK((s.aux != "images" && s.transfer_views == 1) || t.image_shape.size() == 3, teacher_dir,
             ": was trained on inputs of shape ", at::IntArrayRef(t.image_shape), "; ",
             s.aux == "images" ? "--aux images" : "distill.transfer_views", " needs images [C, H, W]");
  if (s.aux == "images") {  // made from the training images, chosen by the members' disagreement
    const int64_t n = s.aux_count > 0 ? s.aux_count : t.train_set.size();
    auto logits = [&](const at::Tensor& images) {
      return distill::compute_teacher_logits(*teacher.net, teacher.scaler.apply(images.flatten(1)),
                                             inference_batch(teacher.info))
          .cpu();
    };
    at::Tensor aux = distill::chosen_image_aux(as_images(t.train_set.inputs, t.image_shape), t.train_set.labels, n,
                                               s.aux_oversample, s.aux_kinds, derive_seed(s.seed, Stream::kAuxData),
                                               logits);
    aux_x = teacher.scaler.apply(aux.flatten(1));
  }
  // [training inputs, their copies | AUX inputs, their copies]: a student
  // without AUX of the same teacher takes exactly the prefix of this.
  t.teacher_x = with_jittered_copies(train_x, s.copies, s.jitter, derive_seed(s.seed, Stream::kTransferJitter, 0));
  t.in_domain_rows = t.teacher_x.size(0);
  if (aux_x.defined())
    t.teacher_x = at::cat({t.teacher_x, with_jittered_copies(aux_x, s.aux_copies, s.jitter,
                                                             derive_seed(s.seed, Stream::kTransferJitter, 1))}, 0);
  StudentPlacement student = place_student(s, teacher, teacher_dir, teacher_data.sample_shape, t.train_set.inputs,
                                           t.teacher_x, t.info);
  t.module_file = student.module_file;
  t.init = student.init;
  t.scaler = student.scaler;
  t.x = student.x;
  if (!s.eval_data.empty()) {
    t.eval_set = data::load_source(s.eval_data, source_request(teacher.info, s.label_column != "none"));
    t.eval_teacher_logits = distill::compute_teacher_logits(*teacher.net, teacher.scaler.apply(t.eval_set.inputs),
                                                            inference_batch(teacher.info))
                                .cpu();
  }
  return t;
}

// Members' outputs from a file as logits [N, M, K]: probabilities become log
// probabilities (softmax(log p / T) anneals them as logits would be).
at::Tensor teacher_logits_from_file(const std::string& path, const DistillSettings& s) {
  data::MemberOutputOptions o;
  o.members = s.teacher_members;
  o.kind = s.teacher_kind == TeacherKind::kProbs ? data::OutputKind::kProbabilities : data::OutputKind::kLogits;
  at::Tensor out = data::load_member_outputs(path, o).to(at::kDouble);
  if (o.kind == data::OutputKind::kProbabilities) out = out.clamp_min(uncertainty::kLogFloor).log();
  return out.to(at::kFloat);
}

TransferSource from_teacher_outputs(const DistillSettings& s) {
  TransferSource t;
  at::Tensor logits = teacher_logits_from_file(s.teacher_outputs, s);
  const int64_t M = logits.size(1), K = logits.size(2);
  ENDD_CHECK(!train::is_dirichlet(s.distill.method) || M >= 2, s.teacher_outputs,
             ": has 1 member; EnD^2 needs at least 2 (a single member has no spread to fit)");
  data::SourceRequest request;
  request.classes = data::index_classes(K);  // class c is column c of the outputs
  request.need_labels = s.label_column != "none";
  request.labels_optional = true;  // labels only add figures to metrics.json
  request.label_column = s.label_column;
  std::vector<int64_t> sample_shape;
  std::tie(t.train_set, sample_shape) = load_as_rows(s.data, request);
  ENDD_CHECK(t.train_set.size() == logits.size(0), s.teacher_outputs, ": outputs for ", logits.size(0), " inputs, but ",
             s.data, " holds ", t.train_set.size(), " (the same inputs, in the same order, are needed)");
  const ArchSettings arch = student_arch(s, ArchSettings{});
  t.scaler = scaler_for(arch, t.train_set.inputs);
  t.x = t.scaler.apply(t.train_set.inputs);
  t.teacher_logits = logits;
  if (!s.aux.empty()) {
    data::Dataset aux = load_unlabelled_rows(s.aux, t.train_set.inputs.size(1));
    at::Tensor aux_logits = teacher_logits_from_file(s.aux_outputs, s);
    ENDD_CHECK(aux_logits.size(0) == aux.size() && aux_logits.size(1) == M && aux_logits.size(2) == K, s.aux_outputs,
               ": outputs of shape ", aux_logits.sizes(), ", expected [", aux.size(), ", ", M, ", ", K, "] (",
               s.aux, " holds ", aux.size(), " inputs; ", s.teacher_outputs, " has ", M, " members x ", K, " classes)");
    t.in_domain_rows = t.x.size(0);
    t.x = at::cat({t.x, t.scaler.apply(aux.inputs)}, 0);
    t.teacher_logits = at::cat({logits, aux_logits}, 0);
  }
  if (!s.eval_data.empty()) {
    data::SourceRequest eval_request = request;
    eval_request.features = t.train_set.inputs.size(1);
    t.eval_set = load_as_rows(s.eval_data, eval_request).first;
    t.eval_teacher_logits = teacher_logits_from_file(s.eval_outputs, s);
    const at::Tensor& e = t.eval_teacher_logits;
    ENDD_CHECK(e.size(0) == t.eval_set.size() && e.size(1) == M && e.size(2) == K, s.eval_outputs, ": outputs of shape ",
               e.sizes(), ", expected [", t.eval_set.size(), ", ", M, ", ", K, "] (", s.eval_data, " holds ",
               t.eval_set.size(), " inputs; ", s.teacher_outputs, " has ", M, " members x ", K, " classes)");
  }
  RunInfo& i = t.info;
  i.inputs = t.train_set.inputs.size(1);
  i.classes = K;
  i.class_names = data::index_classes(K);
  i.label_index = t.train_set.label_index;
  i.label_name = t.train_set.label_name;
  i.feature_names = t.train_set.feature_names;
  i.model = arch;
  i.sample_shape = standardised(arch) ? std::vector<int64_t>{i.inputs} : sample_shape;
  if (arch.arch == Arch::kTorchScript) {
    t.module_file = arch.torchscript;
    t.init = Init::kFromFileWeights;
  }
  return t;
}

// The teacher's logits [N, M, K] on `x`. Under a process group each rank
// labels a contiguous share of the rows, gathered in order: any architecture
// splits this way, and every rank ends with the whole cache.
at::Tensor teacher_logits_on(const TransferSource& source, const at::Tensor& x) {
  auto label = [&](const at::Tensor& rows) {
    return distill::compute_teacher_logits(*source.teacher, rows, source.teacher_batch).cpu();
  };
  Distributed* group = process_group();
  if (!group && !source.teacher_identity.empty()) {  // another student of this process may have asked already
    const std::string key = source.teacher_identity + "|" + std::to_string(source.teacher_batch) + "|" +
                            distill::tensor_fingerprint(x);
    auto& memo = distill::TeacherLogitsMemo::process();
    if (at::Tensor kept = memo.find(key); kept.defined()) return kept;
    at::Tensor logits = label(x);
    memo.keep(key, logits);
    return logits;
  }
  if (!group || x.size(0) < group->world()) return label(x);
  const auto [begin, end] = rank_block(x.size(0), group->rank(), group->world());
  return group->all_gather_rows(label(x.slice(0, begin, end)), "computing the teacher's outputs");
}

void run_distillation(const config::Config& cfg, const std::string& teacher_dir, const std::string& out,
                      c10::Device device, bool quiet, bool resume) {
  DistillSettings s = distill_settings(cfg);
  if (s.teacher_outputs.empty() ? load_run_info(teacher_dir).regression() : s.teacher_kind == TeacherKind::kGaussian)
    return run_regression_distillation(cfg, teacher_dir, out, device, quiet, resume);
  cfg.require("distill.normal_gamma_fit", s.normal_gamma_fit == kDefaultNormalGammaFit,
              "a Normal-Gamma fit is for a regression teacher; " +
                  (s.teacher_outputs.empty() ? teacher_dir : s.teacher_outputs) + " is a classification one");
  // With a process group: data-parallel, each rank a share of every batch;
  // the leader writes the run (docs/distributed.md).
  Distributed* group = process_group();
  if (group) group->check_same("configuration", cfg.to_toml());
  const bool leader = !group || group->leader();
  TransferSource source = s.teacher_outputs.empty() ? from_teacher_run(s, teacher_dir, device) : from_teacher_outputs(s);
  const at::Tensor& x = source.x;
  RunInfo info;
  std::optional<CreatedDirectory> created;  // a fresh run's directory, removed if the run fails
  std::shared_ptr<models::EnsembleNet> student;
  const uint64_t init_seed = derive_seed(s.seed, Stream::kStudentInit, s.student_index);
  if (resume) {
    info = load_run_info(out);
    ENDD_CHECK(info.classes == source.info.classes && info.inputs == source.info.inputs, out,
               ": the student has ", info.classes, " classes and ", info.inputs, " inputs but its teacher ",
               s.teacher_outputs.empty() ? teacher_dir : s.teacher_outputs, " has ", source.info.classes, " and ",
               source.info.inputs);
  } else {
    info = source.info;
    info.kind = RunKind::kStudent;
    info.method = train::distill_method_name(s.distill.method);
    info.aux = !s.aux.empty();
    info.members = 1;
    info.finished = false;
    info.epochs_done = 0;
    // Built (and so checked against the data) before the run directory exists.
    student = make_network(info, {init_seed}, source.module_file, source.init);
    if (leader) {
      created.emplace(out);
      keep_module(info, source.module_file, out);
      write_file_atomic(run_file(out, "config.toml"), cfg.to_toml());
      save_run_info(out, info);
    }
  }
  if (group) enter_run_directory(out);
  // Views of the transfer set (distill.transfer_views): view 0 the inputs
  // as they are, the others random crop-and-flip copies of the images.
  train::TransferViews transfer{{x}, {}, source.in_domain_rows};
  std::vector<at::Tensor> teacher_views{source.teacher_x};
  if (s.transfer_views > 1) {
    const at::Tensor images = as_images(source.teacher_scaler.invert(source.teacher_x), source.image_shape);
    for (int64_t v = 1; v < s.transfer_views; ++v) {
      at::Tensor view = data::random_crop_flip(images, 2, true, derive_seed(s.seed, Stream::kTransferViews, uint64_t(v)))
                            .flatten(1);
      transfer.inputs.push_back(source.scaler.apply(view));
      teacher_views.push_back(source.teacher_scaler.apply(view));
    }
  }
  // Teacher cache: the teacher's logits on every view, one after another;
  // computed once, reused when the run is resumed.
  const int64_t rows = x.size(0) * static_cast<int64_t>(transfer.inputs.size());
  const std::string cache_path = run_file(out, "teacher_cache.pt");
  at::Tensor cache;
  std::error_code ec;
  if (resume && fs::exists(cache_path, ec)) {
    cache = data::load_tensor_file(cache_path);
    ENDD_CHECK(cache.dim() == 3 && cache.size(0) == rows && cache.size(2) == info.classes, cache_path,
               ": teacher cache of shape ", cache.sizes(), " does not fit ", rows, " transfer inputs x ",
               info.classes, " classes");
  } else if (source.teacher_logits.defined()) {
    cache = source.teacher_logits;
    if (leader) data::save_tensor_file(cache_path, cache);
  } else {
    std::vector<at::Tensor> parts;
    for (const auto& view : teacher_views) parts.push_back(teacher_logits_on(source, view));
    cache = at::cat(parts, 0);
    if (leader) data::save_tensor_file(cache_path, cache);
  }
  transfer.teacher_logits = cache.split(x.size(0), 0);
  if (!student) student = make_network(info, {init_seed}, run_file(out, kModuleFile), source.init);
  student->to(device);
  auto o = s.distill;
  o.order_seed = derive_seed(s.seed, Stream::kStudentOrder, s.student_index);
  o.quiet = quiet || !leader;
  o.label = "distill " + info.model_name();
  o.batch_size = std::min(o.batch_size, x.size(0));  // a small transfer set is one batch
  o.group = group;
  try {
    train::distill(*student, transfer, o, checkpoint_hooks(out, *student, info, resume, o.epochs));
  } catch (const DistributedError&) {
    if (created) created->keep();  // another rank was lost: the checkpoints resume the run
    throw;
  }
  if (!leader) return group->barrier("writing the run");  // every rank holds the same student; the leader writes it
  save_weights(run_file(out, "weights.pt"), *student, source.scaler);
  nlohmann::json extra = nlohmann::json::object();
  if (source.eval_set.inputs.defined()) extra["eval"] = eval_metrics(source, {info, student, source.scaler});
  write_final_metrics(out, {info, student, source.scaler}, source.train_set, {}, extra);
  info.finished = true;
  save_run_info(out, info);
  if (created) created->keep();
  if (group) group->barrier("writing the run");
}

}  // namespace

void train_run(const config::Config& cfg, const std::string& out, c10::Device device, bool quiet) {
  train_settings(cfg);  // every check before the directory is touched
  check_fresh_output(out);
  run_training(cfg, out, device, quiet, false);
}

void distill_run(const config::Config& cfg, const std::string& teacher, const std::string& out,
                 c10::Device device, bool quiet) {
  if (distill_settings(cfg).teacher_outputs.empty()) load_run_info(teacher);
  check_fresh_output(out);
  run_distillation(cfg, teacher, out, device, quiet, false);
}

std::vector<std::string> run_inputs(const std::string& run) {
  std::vector<std::string> out{run};
  RunInfo info = load_run_info(run);
  for (const auto* f : {"run.json", "config.toml", "weights.pt", "checkpoint.pt", "train_log.csv",
                        "teacher_cache.pt", "metrics.json", kModuleFile})
    out.push_back(run_file(run, f));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(run, ec))  // the ranks' checkpoints
    if (entry.path().filename().string().rfind("checkpoint.rank", 0) == 0) out.push_back(entry.path().string());
  config::Config cfg = stored_config(run);
  for (const auto& field : cfg.schema()) {
    const std::string& key = field.key;
    if (key == "data.train" || key == "distill.aux" || key == "data.eval")
      for (const auto& f : data::source_files(cfg.get_string(key))) out.push_back(f);
    if (key == "model.torchscript" || key == "teacher.outputs" || key == "teacher.aux_outputs" ||
        key == "teacher.eval_outputs")
      if (!cfg.get_string(key).empty()) out.push_back(cfg.get_string(key));
  }
  if (info.kind == RunKind::kStudent && !info.teacher.empty()) {
    std::error_code ec;
    if (fs::exists(run_file(info.teacher, "run.json"), ec))
      for (const auto& f : run_inputs(info.teacher)) out.push_back(f);
  }
  return out;
}

config::Config stored_config(const std::string& run) {
  RunInfo info = load_run_info(run);
  config::Config cfg = info.kind == RunKind::kEnsemble ? train_config() : distill_config();
  // Normal-Gamma students whose config.toml predates the key were fitted by likelihood.
  if (info.normal_gamma())
    cfg.set_value("distill.normal_gamma_fit", std::string("likelihood"), "runs before distill.normal_gamma_fit");
  cfg.merge_toml_file(run_file(run, "config.toml"));
  return cfg;
}

void resume_run(const std::string& run, const config::Config& wanted, c10::Device device, bool quiet) {
  RunInfo info = load_run_info(run);
  const config::Config stored = stored_config(run);
  const std::string epochs_key = info.kind == RunKind::kEnsemble ? "train.epochs" : "distill.epochs";
  const nlohmann::json before = stored.to_json(), after = wanted.to_json();
  for (const auto& [key, value] : after.items()) {
    ENDD_USAGE_CHECK(key == epochs_key || before.value(key, nlohmann::json()) == value, "--resume ", run, ": ", key,
                     " would change from ", before.value(key, nlohmann::json()).dump(), " to ", value.dump(),
                     "; a resumed run keeps its settings (only its epochs may grow: --epochs N)");
  }
  const int64_t epochs = wanted.get_int(epochs_key);
  ENDD_USAGE_CHECK(epochs >= info.epochs_done, "--resume ", run, ": ", info.epochs_done, " epochs are done; ",
                   epochs_key, " = ", epochs, " would undo them (give --epochs N with N >= ", info.epochs_done, ")");
  if (info.finished) {
    ENDD_USAGE_CHECK(epochs > info.epochs_done, run, ": the run has already finished after ", info.epochs_done,
                     " epochs; nothing to resume (give --epochs N with N > ", info.epochs_done,
                     " to train it further)");
    std::error_code ec;
    const std::string checkpoint = checkpoint_file(info.epochs_done);
    ENDD_CHECK(fs::exists(run_file(run, checkpoint), ec), run, ": no ", checkpoint, " to continue from",
               process_group() ? " (was it trained with this number of processes?)" : "");
  }
  if (info.kind == RunKind::kStudent && !info.teacher.empty()) load_model(info.teacher, device);  // still there?
  remove_stale_temporaries(run);
  if (epochs != stored.get_int(epochs_key)) write_file_atomic(run_file(run, "config.toml"), wanted.to_toml());
  if (info.finished) {  // extended: unfinished until the new epochs are done
    info.finished = false;
    save_run_info(run, info);
  }
  if (info.kind == RunKind::kEnsemble) {
    run_training(wanted, run, device, quiet, true);
  } else {
    run_distillation(wanted, info.teacher, run, device, quiet, true);
  }
}

Inference infer(LoadedModel& model, const at::Tensor& inputs, bool with_member_outputs, int64_t chunk) {
  ENDD_CHECK(!model.info.regression(), "a regression run's outputs are a predictive distribution, not classes "
             "(runs::regression_predictive)");
  ENDD_CHECK(inputs.dim() == 2 && inputs.size(1) == model.info.inputs, "inputs of shape ", inputs.sizes(),
             " do not fit the model's ", model.info.inputs, " features");
  ENDD_CHECK(chunk >= 1, "inference chunk must be >= 1 rows, got ", chunk);
  torch::NoGradGuard no_grad;
  const int64_t n = inputs.size(0);
  std::vector<uncertainty::Measures> parts;
  std::vector<at::Tensor> member_parts;
  for (int64_t start = 0; start < n || (n == 0 && parts.empty()); start += chunk) {
    at::Tensor x = model.scaler.apply(inputs.slice(0, start, std::min(n, start + chunk)));
    at::Tensor logits = distill::compute_teacher_logits(*model.net, x, inference_batch(model.info)).cpu();  // [n, M, K]
    parts.push_back(model.info.dirichlet() ? uncertainty::dirichlet_measures(logits.squeeze(1))
                                           : uncertainty::ensemble_measures_from_logits(logits));
    if (with_member_outputs) member_parts.push_back(logits);
  }
  Inference out;
  out.measures = uncertainty::concatenate(parts);
  if (with_member_outputs) {
    out.member_logits = at::cat(member_parts, 0);
    out.member_probs = at::softmax(out.member_logits.to(at::kDouble), -1);
  }
  return out;
}

}  // namespace endd::runs
