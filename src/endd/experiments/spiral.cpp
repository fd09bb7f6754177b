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
#include "endd/train/ensemble_shards.h"
#include "endd/train/lanes.h"
#include "endd/experiments/spiral_options.h"
#include "endd/models/mlp_ensemble.h"

namespace endd::experiments {

void SpiralConfig::validate() const {
  // The option table's checks (spiral_options.cpp), so each rule is written once.
  spiral_config_from(spiral_options().schema(*this, "SpiralConfig"));
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

// The network inputs of every set: training, test, AUX, far, and the map grid.
struct SpiralInputs {
  at::Tensor train_labels, train, test, aux, far, map;
  std::map<std::string, at::Tensor> evaluated() const { return {{"test", test}, {"far", far}}; }
};

// Draws the data (each set from its own seed stream) and fills the outcome's
// raw coordinates for the figures.
SpiralInputs make_inputs(const SpiralConfig& c, SpiralOutcome& out) {
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
  return {train.labels,           scaler.apply(train.inputs), scaler.apply(test.inputs),
          scaler.apply(aux.inputs), scaler.apply(far.inputs),
          scaler.apply(at::stack({out.map_x, out.map_y}, 1))};
}

models::MlpOptions mlp_of(const SpiralConfig& c) {
  return models::MlpOptions(2, 3)
      .hidden_layers(c.hidden_layers)
      .width(c.width)
      .activation(models::parse_activation(c.activation));
}

// 1. The ensemble, all members in one vectorised graph (a shard per core on
// the CPU); the typical member is the single-network baseline.
void train_ensemble(const SpiralConfig& c, c10::Device device, models::MlpEnsemble& ensemble,
                    const std::vector<uint64_t>& init_seeds, const SpiralInputs& x, SpiralOutcome& out) {
  std::vector<uint64_t> order_seeds;
  for (int64_t m = 0; m < c.members; ++m)
    order_seeds.push_back(derive_seed(c.seed, Stream::kMemberOrder, static_cast<uint64_t>(m)));
  ensemble.to(device);
  auto t0 = std::chrono::steady_clock::now();
  auto ens_opts = c.ensemble;
  ens_opts.quiet = c.quiet;
  const auto mlp = mlp_of(c);
  auto make_shard = [&](const std::vector<uint64_t>& seeds) { return std::make_shared<models::MlpEnsemble>(mlp, seeds); };
  out.curves["ensemble"] = train::train_in_shards(ensemble, make_shard, init_seeds, x.train, x.train_labels, order_seeds,
                                           ens_opts, train::shards_for(c.members, device));
  const double seconds = seconds_since(t0);
  std::map<std::string, at::Tensor> member_logits;  // [N, M, K] per set
  for (auto& [set, inputs] : x.evaluated()) member_logits[set] = logits_of(ensemble, inputs);
  out.models.add_ensemble(member_logits, out.test_labels, ensemble.parameter_count(), seconds);
  out.map_measures["ensemble"] = uncertainty::ensemble_measures_from_logits(logits_of(ensemble, x.map));
}

// 2. The students' transfer set and its teacher cache, computed once:
// [train, train copies | aux, aux copies]. Jittered copies come in that
// order so that the students without AUX take a prefix.
struct TransferSet {
  at::Tensor inputs_with_aux, teacher_with_aux;
  int64_t without_aux = 0;  ///< rows of the prefix without AUX
};

TransferSet make_transfer_set(const SpiralConfig& c, models::MlpEnsemble& ensemble, const SpiralInputs& x) {
  auto with_copies = [&](const at::Tensor& inputs, int64_t copies, uint64_t stream_index) {
    std::vector<at::Tensor> parts{inputs};
    at::Generator gen = cpu_generator(derive_seed(c.seed, Stream::kTransferJitter, stream_index));
    for (int64_t k = 0; k < copies; ++k)
      parts.push_back(inputs + at::randn(inputs.sizes(), gen, inputs.options()) * c.transfer_jitter);
    return at::cat(parts, 0);
  };
  at::Tensor transfer = with_copies(x.train, c.transfer_copies, 0);
  TransferSet t;
  t.without_aux = transfer.size(0);
  t.inputs_with_aux = at::cat({transfer, with_copies(x.aux, c.aux_copies, 1)}, 0);
  t.teacher_with_aux = distill::compute_teacher_logits(ensemble, t.inputs_with_aux);
  return t;
}

struct StudentSpec {
  std::string name;
  train::DistillMethod method;
  bool with_aux;
  size_t index;  ///< seed stream index
};

struct StudentResult {
  train::TrainingCurve curve;
  double seconds = 0;
  int64_t parameters = 0;
  std::map<std::string, uncertainty::Measures> measures;
  std::optional<uncertainty::Measures> map;
};

// 3. One student with the members' architecture, measured on every set.
StudentResult train_student(const SpiralConfig& c, c10::Device device, const StudentSpec& spec,
                            const TransferSet& transfer, const SpiralInputs& x) {
  models::MlpEnsemble student(mlp_of(c), {derive_seed(c.seed, Stream::kStudentInit, spec.index)});
  student.to(device);
  auto o = c.student;
  o.method = spec.method;
  o.order_seed = derive_seed(c.seed, Stream::kStudentOrder, spec.index);
  o.quiet = c.quiet;
  o.label = "distill " + spec.name;
  const int64_t rows = spec.with_aux ? transfer.inputs_with_aux.size(0) : transfer.without_aux;
  StudentResult r;
  auto t1 = std::chrono::steady_clock::now();
  r.curve = train::distill(student, transfer.inputs_with_aux.slice(0, 0, rows),
                           transfer.teacher_with_aux.slice(0, 0, rows), o);
  r.seconds = seconds_since(t1);
  r.parameters = student.parameter_count();
  auto measures_of = [&](const at::Tensor& inputs) {
    at::Tensor z = logits_of(student, inputs);  // [N, 1, K]
    return spec.method == train::DistillMethod::kEnD ? uncertainty::ensemble_measures_from_logits(z)
                                                     : uncertainty::dirichlet_measures(z.squeeze(1));
  };
  for (auto& [set, inputs] : x.evaluated()) r.measures[set] = measures_of(inputs);
  if (train::is_dirichlet(spec.method)) r.map = measures_of(x.map);
  return r;
}

// The students are independent, so on the CPU they train concurrently (one
// intra-op thread each); each has its own seeds, so the result does not
// depend on scheduling. The AUX student (twice the transfer set) goes first,
// in a lane of its own.
void train_students(const SpiralConfig& c, c10::Device device, const TransferSet& transfer, const SpiralInputs& x,
                    SpiralOutcome& out) {
  std::vector<StudentSpec> students{{"end2_aux", train::DistillMethod::kEnD2, true, 2},
                                    {"end", train::DistillMethod::kEnD, false, 0},
                                    {"end2", train::DistillMethod::kEnD2, false, 1}};
  if (c.members < 2) students = {students[1]};  // EnD^2 needs spread: only EnD
  std::vector<StudentResult> results(students.size());
  train::run_in_lanes(students.size(), train::lanes_for(students.size(), device),
               [&](size_t i) { results[i] = train_student(c, device, students[i], transfer, x); });
  for (const auto* name : {"end", "end2", "end2_aux"}) {  // report order
    size_t i = 0;
    while (i < students.size() && students[i].name != name) ++i;
    if (i == students.size()) continue;
    out.curves[name] = std::move(results[i].curve);
    out.models.add(name, 1, results[i].parameters, results[i].seconds);
    out.models.measures[name] = std::move(results[i].measures);
    if (results[i].map) out.map_measures[name] = *results[i].map;
  }
}

}  // namespace

SpiralOutcome run_spiral(const SpiralConfig& c, c10::Device device) {
  c.validate();
  auto t_start = std::chrono::steady_clock::now();
  SpiralOutcome out;
  out.config = c;
  const SpiralInputs x = make_inputs(c, out);
  std::vector<uint64_t> init_seeds;
  for (int64_t m = 0; m < c.members; ++m)
    init_seeds.push_back(derive_seed(c.seed, Stream::kMemberInit, static_cast<uint64_t>(m)));
  models::MlpEnsemble ensemble(mlp_of(c), init_seeds);
  train_ensemble(c, device, ensemble, init_seeds, x, out);
  const TransferSet transfer = make_transfer_set(c, ensemble, x);
  train_students(c, device, transfer, x, out);
  out.total_seconds = seconds_since(t_start);
  return out;
}

}  // namespace endd::experiments
