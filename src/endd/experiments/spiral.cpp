#include "endd/experiments/spiral.h"

#include <ATen/ATen.h>

#include <chrono>
#include <functional>
#include <set>

#include "endd/core/distributed.h"
#include "endd/core/error.h"
#include "endd/data/generated_sources.h"
#include "endd/data/spiral.h"
#include "endd/experiments/classification_run.h"
#include "endd/experiments/spiral_options.h"
#include "endd/runs/run_config.h"
#include "endd/runs/workflow.h"

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

// The network-input coordinates of the sources (generated_sources.h): raw,
// or scaled so that the spiral's radius R becomes input_radius.
double source_scale(const SpiralConfig& c) { return c.input_radius; }

std::string train_source(const SpiralConfig& c, double scale) {
  return data::spiral_source(true, c.per_class, c.noise, c.seed, scale);
}
std::string test_source(const SpiralConfig& c, double scale) {
  return data::spiral_source(false, c.test_per_class > 0 ? c.test_per_class : c.per_class, c.noise, c.seed, scale);
}
std::string aux_source(const SpiralConfig& c, double scale) {
  return data::disc_source(c.aux_count, c.aux_radius, c.seed, scale);
}
std::string far_source(const SpiralConfig& c, double scale) {
  return data::annulus_source(c.ood_count, c.ood_inner, c.ood_outer, c.seed, scale);
}

// `stage` (an `endd train` or `endd distill` schema) with each of its keys
// that the spiral also has, under the name `spiral_key` gives, set to the
// spiral's value.
config::Config with_spiral_values(config::Config stage, const SpiralConfig& c,
                                  const std::function<std::string(const std::string&)>& spiral_key) {
  const config::Config spiral = spiral_options().schema(c, "spiral experiment");
  std::set<std::string> keys;
  for (const auto& field : spiral.schema()) keys.insert(field.key);
  for (const auto& field : stage.schema()) {
    const std::string key = spiral_key(field.key);
    if (keys.count(key)) stage.set_value(field.key, spiral.get(key), spiral.origin(key));
  }
  return stage;
}

// The ensemble stage: `endd train` on the spiral source (ensemble.* are its
// train.*), MLP members in shards. Inputs are standardised by the training
// set unless input_radius already scales them.
config::Config ensemble_stage(const SpiralConfig& c) {
  config::Config t = with_spiral_values(runs::train_config(), c, [](const std::string& key) {
    return key.rfind("train.", 0) == 0 ? "ensemble." + key.substr(6) : key;
  });
  const std::string origin = "spiral experiment";
  t.set_value("data.train", train_source(c, source_scale(c)), origin);
  t.set_value("data.standardize", c.input_radius == 0, origin);
  return t;
}

// A student's stage: `endd distill` of the ensemble (the spiral's distill.*
// are its own) on the training inputs and their jittered copies (+ the AUX
// disc and its copies), all labelled by the ensemble; the members' architecture.
config::Config student_stage(const SpiralConfig& c, const StudentSpec& student, size_t index) {
  config::Config d = with_spiral_values(runs::distill_config(), c, [](const std::string& key) {
    return key.rfind("model.", 0) == 0 ? std::string() : key;  // the student's model is the teacher's
  });
  const std::string origin = "spiral experiment";
  auto set = [&](const std::string& key, const config::Value& v) { d.set_value(key, v, origin); };
  set("distill.method", std::string(train::distill_method_name(student.method)));
  set("distill.student_index", static_cast<int64_t>(index));
  set("distill.copies", c.transfer_copies);
  set("distill.aux_copies", student.aux ? c.aux_copies : int64_t{0});
  set("distill.jitter", c.transfer_jitter);
  set("distill.aux", student.aux ? aux_source(c, source_scale(c)) : std::string());
  leave_unused_at_defaults(d, student);
  runs::distill_settings(d);  // every check before any work
  return d;
}

// The experiment as stages over run directories (classification_run.h):
// the students EnD, EnD^2 and EnD^2+AUX (only EnD with one member: EnD^2
// needs spread), evaluated on the test spiral and the far annulus.
ClassificationExperiment stages_of(const SpiralConfig& c) {
  ClassificationExperiment e;
  e.name = "spiral";
  e.seed = c.seed;
  e.ensemble = ensemble_stage(c);
  e.students = c.members >= 2 ? parse_students("end, end2, end2_aux") : parse_students("end");
  for (size_t i = 0; i < e.students.size(); ++i) e.distill.push_back(student_stage(c, e.students[i], i));
  e.test = test_source(c, source_scale(c));
  e.test_origin = "spiral experiment";
  e.ood = {{"far", far_source(c, source_scale(c))}};
  e.bootstrap = c.bootstrap;
  return e;
}

// Raw coordinates of the sets and of the map grid, for the figures.
void fill_figure_inputs(const SpiralConfig& c, SpiralOutcome& out) {
  const double R = data::spiral_radius();
  data::Dataset train = data::load_generated_source(train_source(c, 0));
  out.train_raw = train.inputs;
  out.train_labels = train.labels;
  out.aux_raw = data::load_generated_source(aux_source(c, 0)).inputs;
  out.far_raw = data::load_generated_source(far_source(c, 0)).inputs;
  // Map grid over the input plane, row-major in y then x.
  at::Tensor axis = at::linspace(-c.map_extent * R, c.map_extent * R, c.map_resolution, at::kFloat);
  auto grid = at::meshgrid({axis, axis}, "xy");
  out.map_x = grid[0].flatten();
  out.map_y = grid[1].flatten();
}

// Each model's uncertainty over the map grid, and each stage's curve.
void add_maps_and_curves(const SpiralConfig& c, c10::Device device, const std::string& dir, SpiralOutcome& out) {
  const at::Tensor grid = data::scale_coordinates(at::stack({out.map_x, out.map_y}, 1), source_scale(c));
  for (const auto* stage : {"ensemble", "end", "end2", "end2_aux"}) {
    const std::string run = stage_dir(dir, stage);
    if (std::string(stage) != "ensemble" && !out.models.measures.count(stage)) continue;
    out.curves[stage] = runs::read_training_log(run);
    if (std::string(stage) == "end") continue;  // no knowledge uncertainty to map
    runs::LoadedModel model = runs::load_model(run, device);
    out.map_measures[stage] = runs::infer(model, grid, false).measures;
  }
}

}  // namespace

SpiralOutcome run_spiral(const SpiralConfig& c, c10::Device device, const std::string& dir) {
  c.validate();
  const auto started = std::chrono::steady_clock::now();
  SpiralOutcome out;
  out.config = c;
  const ClassificationExperiment e = stages_of(c);
  out.stages = run_stages(e, device, dir, c.quiet);
  if (!writes_outputs()) return out;  // rank 0 evaluates and reports
  out.sources = {{"train", e.ensemble.get_string("data.train")},
                 {"test", e.test},
                 {"aux", aux_source(c, source_scale(c))},
                 {"ood", {{"far", e.ood.at(0).source}}}};
  const EvaluationSets sets = load_evaluation_sets(e, runs::load_run_info(stage_dir(dir, "ensemble")));
  std::vector<std::string> knowledge_models;
  out.models = evaluate_models(e, sets, device, dir, knowledge_models);
  out.test_labels = sets.test.labels;
  fill_figure_inputs(c, out);
  add_maps_and_curves(c, device, dir, out);
  out.total_seconds = seconds_since(started);
  return out;
}

}  // namespace endd::experiments
