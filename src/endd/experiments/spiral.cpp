#include "endd/experiments/spiral.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <cmath>
#include <optional>

#include "endd/core/error.h"
#include "endd/core/seeding.h"
#include "endd/data/spiral.h"
#include "endd/distill/teacher_cache.h"
#include "endd/experiments/ensemble_shards.h"
#include "endd/experiments/lanes.h"
#include "endd/models/mlp_ensemble.h"

namespace endd::experiments {

void SpiralConfig::validate() const {
  ENDD_CHECK(members >= 1, "members: expected >= 1, got ", members);
  ENDD_CHECK(per_class >= 2, "per_class: expected >= 2, got ", per_class);
  ENDD_CHECK(test_per_class >= 0, "test_per_class: expected >= 0, got ", test_per_class);
  ENDD_CHECK(std::isfinite(noise) && noise >= 0, "noise: expected >= 0, got ", noise);
  ENDD_CHECK(std::isfinite(input_radius) && input_radius >= 0,
             "input_radius: expected >= 0 (0 = standardise), got ", input_radius);
  ENDD_CHECK(aux_count >= 1, "aux_count: expected >= 1, got ", aux_count);
  ENDD_CHECK(aux_radius > 0, "aux_radius: expected > 0, got ", aux_radius);
  ENDD_CHECK(transfer_copies >= 0, "transfer_copies: expected >= 0, got ", transfer_copies);
  ENDD_CHECK(aux_copies >= 0, "aux_copies: expected >= 0, got ", aux_copies);
  ENDD_CHECK(std::isfinite(transfer_jitter) && transfer_jitter >= 0, "transfer_jitter: expected >= 0, got ",
             transfer_jitter);
  ENDD_CHECK(ood_count >= 2, "ood_count: expected >= 2, got ", ood_count);
  ENDD_CHECK(ood_inner >= 0 && ood_outer > ood_inner, "ood_inner/ood_outer: expected 0 <= inner < outer, got ",
             ood_inner, ", ", ood_outer);
  ENDD_CHECK(hidden_layers >= 0 && width >= 1, "hidden_layers/width: expected >= 0 and >= 1");
  models::parse_activation(activation);
  ENDD_CHECK(ensemble.epochs >= 1 && student.epochs >= 1, "epochs: expected >= 1");
  ENDD_CHECK(ensemble.batch_size >= 1 && student.batch_size >= 1, "batch_size: expected >= 1");
  ENDD_CHECK(ensemble.learning_rate > 0 && student.learning_rate > 0, "learning_rate: expected > 0");
  ENDD_CHECK(std::isfinite(student.initial_temperature) && student.initial_temperature >= 1,
             "temperature (T0): expected >= 1, got ", student.initial_temperature);
  ENDD_CHECK(student.hold_fraction >= 0 && student.decay_fraction >= 0 &&
                 student.hold_fraction + student.decay_fraction <= 1,
             "hold/decay fractions: expected >= 0 each and a sum <= 1, got ", student.hold_fraction, " and ",
             student.decay_fraction);
  ENDD_CHECK(student.smoothing >= 0 && student.smoothing < 1, "smoothing: expected in [0, 1), got ",
             student.smoothing);
  ENDD_CHECK(std::isfinite(student.clip_norm) && student.clip_norm >= 0, "clip_norm: expected >= 0, got ",
             student.clip_norm);
  ENDD_CHECK(map_resolution >= 2, "map_resolution: expected >= 2");
  ENDD_CHECK(bootstrap >= 2, "bootstrap: expected >= 2 resamples");
}

nlohmann::json SpiralConfig::to_json() const {
  return {{"seed", seed},
          {"members", members},
          {"per_class", per_class},
          {"test_per_class", test_per_class > 0 ? test_per_class : per_class},
          {"noise", noise},
          {"input_radius", input_radius},
          {"aux_count", aux_count},
          {"aux_radius", aux_radius},
          {"transfer_copies", transfer_copies},
          {"aux_copies", aux_copies},
          {"transfer_jitter", transfer_jitter},
          {"ood_count", ood_count},
          {"ood_inner", ood_inner},
          {"ood_outer", ood_outer},
          {"model", {{"hidden_layers", hidden_layers}, {"width", width}, {"activation", activation}}},
          {"ensemble",
           {{"epochs", ensemble.epochs},
            {"batch_size", ensemble.batch_size},
            {"learning_rate", ensemble.learning_rate},
            {"weight_decay", ensemble.weight_decay},
            {"cosine_schedule", ensemble.cosine_schedule}}},
          {"distill",
           {{"epochs", student.epochs},
            {"batch_size", student.batch_size},
            {"learning_rate", student.learning_rate},
            {"weight_decay", student.weight_decay},
            {"cosine_schedule", student.cosine_schedule},
            {"temperature", student.initial_temperature},
            {"hold_fraction", student.hold_fraction},
            {"decay_fraction", student.decay_fraction},
            {"smoothing", student.smoothing},
            {"clip_norm", student.clip_norm},
            {"float64_loss", student.float64_loss}}},
          {"map_resolution", map_resolution},
          {"map_extent", map_extent},
          {"bootstrap", bootstrap}};
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Logits [N, M, K] of a network on inputs, without gradients.
at::Tensor logits_of(models::EnsembleNet& net, const at::Tensor& x) {
  return distill::compute_teacher_logits(net, x).cpu();
}

}  // namespace

SpiralOutcome run_spiral(const SpiralConfig& c, c10::Device device) {
  c.validate();
  auto t_start = std::chrono::steady_clock::now();
  SpiralOutcome out;
  out.config = c;
  const double R = data::spiral_radius();
  data::Dataset train = data::make_spiral(c.per_class, c.noise, derive_seed(c.seed, Stream::kTrainData));
  data::Dataset test = data::make_spiral(c.test_per_class > 0 ? c.test_per_class : c.per_class, c.noise,
                                         derive_seed(c.seed, Stream::kTestData));
  data::Dataset aux = data::uniform_disc(c.aux_count, c.aux_radius * R, derive_seed(c.seed, Stream::kAuxData), "aux");
  data::Dataset far = data::uniform_annulus(c.ood_count, c.ood_inner * R, c.ood_outer * R,
                                            derive_seed(c.seed, Stream::kOodData), "far");
  auto scaler = c.input_radius > 0 ? data::Standardizer{at::zeros({2}, at::kFloat),
                                                        at::full({2}, R / c.input_radius, at::kFloat)}
                                    : data::Standardizer::fit(train.inputs);
  at::Tensor x_train = scaler.apply(train.inputs), x_test = scaler.apply(test.inputs);
  at::Tensor x_aux = scaler.apply(aux.inputs), x_far = scaler.apply(far.inputs);
  out.train_raw = train.inputs;
  out.train_labels = train.labels;
  out.aux_raw = aux.inputs;
  out.far_raw = far.inputs;
  out.test_labels = test.labels;

  // Map grid over the input plane (raw coordinates), row-major in y then x.
  at::Tensor axis = at::linspace(-c.map_extent * R, c.map_extent * R, c.map_resolution, at::kFloat);
  auto grid = at::meshgrid({axis, axis}, "xy");
  out.map_x = grid[0].flatten();
  out.map_y = grid[1].flatten();
  at::Tensor x_map = scaler.apply(at::stack({out.map_x, out.map_y}, 1));

  auto mlp = models::MlpOptions(2, 3)
                 .hidden_layers(c.hidden_layers)
                 .width(c.width)
                 .activation(models::parse_activation(c.activation));

  // 1. The ensemble, all members in one vectorised graph.
  std::vector<uint64_t> init_seeds, order_seeds;
  for (int64_t m = 0; m < c.members; ++m) {
    init_seeds.push_back(derive_seed(c.seed, Stream::kMemberInit, static_cast<uint64_t>(m)));
    order_seeds.push_back(derive_seed(c.seed, Stream::kMemberOrder, static_cast<uint64_t>(m)));
  }
  models::MlpEnsemble ensemble(mlp, init_seeds);
  ensemble.to(device);
  auto t0 = std::chrono::steady_clock::now();
  auto ens_opts = c.ensemble;
  ens_opts.quiet = c.quiet;
  auto make_shard = [&](const std::vector<uint64_t>& seeds) { return std::make_shared<models::MlpEnsemble>(mlp, seeds); };
  out.curves["ensemble"] = train_in_shards(ensemble, make_shard, init_seeds, x_train, train.labels, order_seeds,
                                           ens_opts, shards_for(c.members, device));
  const double ensemble_seconds = seconds_since(t0);
  out.models.add("single", 1, ensemble.parameter_count() / c.members, ensemble_seconds / double(c.members));
  out.models.add("ensemble", c.members, ensemble.parameter_count(), ensemble_seconds);

  std::map<std::string, at::Tensor> eval_inputs{{"test", x_test}, {"far", x_far}};
  std::map<std::string, at::Tensor> member_logits;  // [N, M, K] per set
  for (auto& [set, x] : eval_inputs) member_logits[set] = logits_of(ensemble, x);
  const MemberErrors members = member_errors(member_logits.at("test"), test.labels);
  out.models.member_errors = members.to_json();
  for (const auto& [set, z] : member_logits) {
    out.models.measures["ensemble"][set] = uncertainty::ensemble_measures_from_logits(z);
    out.models.measures["single"][set] =
        uncertainty::ensemble_measures_from_logits(z.slice(1, members.typical, members.typical + 1));
  }
  out.map_measures["ensemble"] = uncertainty::ensemble_measures_from_logits(logits_of(ensemble, x_map));

  // 2. Teacher cache on every transfer input (training set + AUX), once.
  // Jittered copies come in the same order (train then AUX) so that the
  // students without AUX take a prefix: [train, train copies | aux, aux copies].
  auto with_copies = [&](const at::Tensor& x, int64_t copies, uint64_t stream_index) {
    std::vector<at::Tensor> parts{x};
    at::Generator gen = cpu_generator(derive_seed(c.seed, Stream::kTransferJitter, stream_index));
    for (int64_t k = 0; k < copies; ++k)
      parts.push_back(x + at::randn(x.sizes(), gen, x.options()) * c.transfer_jitter);
    return at::cat(parts, 0);
  };
  at::Tensor x_transfer = with_copies(x_train, c.transfer_copies, 0);
  at::Tensor x_transfer_aux = at::cat({x_transfer, with_copies(x_aux, c.aux_copies, 1)}, 0);
  at::Tensor teacher = distill::compute_teacher_logits(ensemble, x_transfer_aux);
  at::Tensor teacher_train = teacher.slice(0, 0, x_transfer.size(0));

  // 3. Students with the members' architecture. They are independent, so on
  // the CPU they train concurrently (one intra-op thread each); each has its
  // own seeds, so the result does not depend on scheduling.
  struct StudentSpec {
    std::string name;
    train::DistillMethod method;
    bool with_aux;
    size_t index;
  };
  struct StudentResult {
    train::TrainingCurve curve;
    double seconds = 0;
    int64_t parameters = 0;
    std::map<std::string, uncertainty::Measures> measures;
    std::optional<uncertainty::Measures> map;
  };
  auto train_student = [&](const StudentSpec& spec) {
    models::MlpEnsemble student(mlp, {derive_seed(c.seed, Stream::kStudentInit, spec.index)});
    student.to(device);
    auto o = c.student;
    o.method = spec.method;
    o.order_seed = derive_seed(c.seed, Stream::kStudentOrder, spec.index);
    o.quiet = c.quiet;
    o.label = "distill " + spec.name;
    StudentResult r;
    auto t1 = std::chrono::steady_clock::now();
    r.curve = train::distill(student, spec.with_aux ? x_transfer_aux : x_transfer,
                             spec.with_aux ? teacher : teacher_train, o);
    r.seconds = seconds_since(t1);
    r.parameters = student.parameter_count();
    auto measures_of = [&](const at::Tensor& x) {
      at::Tensor z = logits_of(student, x);  // [N, 1, K]
      return spec.method == train::DistillMethod::kEnD ? uncertainty::ensemble_measures_from_logits(z)
                                                       : uncertainty::dirichlet_measures(z.squeeze(1));
    };
    for (auto& [set, x] : eval_inputs) r.measures[set] = measures_of(x);
    if (train::is_dirichlet(spec.method)) r.map = measures_of(x_map);
    return r;
  };
  std::vector<StudentSpec> students{{"end2_aux", train::DistillMethod::kEnD2, true, 2},
                                    {"end", train::DistillMethod::kEnD, false, 0},
                                    {"end2", train::DistillMethod::kEnD2, false, 1}};
  if (c.members < 2) students.erase(students.begin());  // EnD^2 needs spread: only EnD
  if (c.members < 2) students.pop_back();
  std::vector<StudentResult> results(students.size());
  // The AUX student (twice the transfer set) gets a lane of its own.
  run_in_lanes(students.size(), lanes_for(students.size(), device),
               [&](size_t i) { results[i] = train_student(students[i]); });
  for (const auto* name : {"end", "end2", "end2_aux"}) {  // report order
    size_t i = 0;
    while (i < students.size() && students[i].name != name) ++i;
    if (i == students.size()) continue;
    out.curves[name] = std::move(results[i].curve);
    out.models.add(name, 1, results[i].parameters, results[i].seconds);
    out.models.measures[name] = std::move(results[i].measures);
    if (results[i].map) out.map_measures[name] = *results[i].map;
  }
  out.total_seconds = seconds_since(t_start);
  return out;
}

}  // namespace endd::experiments
