// endd evaluate: a finished run on labelled data (+ OOD sets): results.json and figures.
#include <ATen/ATen.h>

#include "cli_common.h"
#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/core/output_paths.h"
#include "endd/core/seeding.h"
#include "endd/core/version.h"
#include "endd/data/source.h"
#include "endd/data/subsets.h"
#include "endd/experiments/model_table.h"
#include "endd/report/evaluation_figures.h"
#include "endd/report/regression_figures.h"
#include "endd/report/regression_results.h"
#include "endd/report/results.h"
#include "endd/runs/regression_workflow.h"
#include "endd/runs/workflow.h"

namespace endd::cli {
namespace {

struct EvaluateArgs {
  std::string model, data, out;
  int64_t limit = 0;
  bool limit_random = false;
  std::vector<std::string> ood;
};

using NamedSets = std::vector<std::pair<std::string, data::Dataset>>;
void evaluate_regression(runs::LoadedModel& model, const data::Dataset& test, const NamedSets& ood_sets,
                         const std::string& out, bool quiet, report::json& doc);
void evaluate_classification(runs::LoadedModel& model, const std::string& model_dir, const data::Dataset& test,
                             const NamedSets& ood_sets, const std::string& out, bool quiet, uint64_t seed,
                             report::json& doc);

void run_evaluate(const EvaluateArgs& a, const GlobalOptions& g) {
  auto device = apply_globals(g, Workload::kLargeTensors);
  // Every input is read and checked before anything is written.
  runs::LoadedModel model = runs::load_model(a.model, device);
  std::vector<std::string> inputs = runs::run_inputs(a.model);
  for (const auto& f : data::source_files(a.data)) inputs.push_back(f);
  data::Dataset test = data::limit_rows(data::load_source(a.data, runs::source_request(model.info, true)), a.limit,
                                        a.limit_random, derive_seed(g.seed, Stream::kSubset));
  NamedSets ood_sets;
  for (const auto& spec : a.ood) {
    auto [src, name] = data::split_source_name(spec);
    for (const auto& [seen, unused] : ood_sets)
      ENDD_USAGE_CHECK(seen != name, "--ood: the set name '", name, "' is given twice; name each set (SRC:NAME)");
    for (const auto& f : data::source_files(src)) inputs.push_back(f);
    ood_sets.emplace_back(name, data::limit_rows(data::load_source(src, runs::source_request(model.info, false)),
                                                 a.limit, a.limit_random, derive_seed(g.seed, Stream::kSubset, 1)));
  }
  check_not_an_input(a.out, inputs, "--out");
  StagedDirectory out(a.out, "results.json");

  const std::string name = model.info.model_name();
  report::json doc;
  doc["endd_version"] = kVersion;
  doc["experiment"] = "evaluate";
  doc["seed"] = g.seed;
  doc["config"] = {{"model", a.model}, {"data", a.data}, {"ood", a.ood}, {"limit", a.limit}};
  if (model.info.regression()) {
    evaluate_regression(model, test, ood_sets, out.path(), g.quiet, doc);
  } else {
    evaluate_classification(model, a.model, test, ood_sets, out.path(), g.quiet, g.seed, doc);
  }
  report::write_json((std::filesystem::path(out.path()) / "results.json").string(), doc);
  out.commit();
}

// docs/results-json.md, regression keys: the model's row, rejection by
// squared error and OOD detection by each measure.
void evaluate_regression(runs::LoadedModel& model, const data::Dataset& test, const NamedSets& ood_sets,
                         const std::string& out, bool quiet, report::json& doc) {
  const std::string name = model.info.model_name();
  const uncertainty::RegressionPredictive in = runs::regression_predictive(model, test.inputs, test.targets);
  doc["task"] = "regression";
  report::json m = report::regression_json(in, test.targets);
  m["members"] = model.info.members;
  m["parameters"] = model.net->parameter_count();
  doc["models"][name] = m;
  doc["rejection"][name] = report::squared_error_rejection_json(in.measures, test.targets);
  report::write_coverage_figure(out, in, quiet);
  report::write_squared_error_rejection_figure(out, in, test.targets, quiet);
  doc["ood"] = report::json::object();
  for (auto& [set, data] : ood_sets)
    doc["ood"][set][name] = report::ood_json(report::regression_scores(in.measures),
                                             report::regression_scores(runs::regression_predictive(model, data.inputs).measures));
}

// Resamples of the error's bootstrap interval, as in the experiments.
constexpr int kBootstrap = 200;

void evaluate_classification(runs::LoadedModel& model, const std::string& model_dir, const data::Dataset& test,
                             const NamedSets& ood_sets, const std::string& out, bool quiet, uint64_t seed,
                             report::json& doc) {
  // The experiments' table and sections (model_table.h), for one model.
  const std::string name = model.info.model_name();
  experiments::ModelTable table;
  table.add(name, model.info.members, model.net->parameter_count(), runs::training_seconds(model_dir));
  auto& measures = table.measures[name];
  measures["test"] = runs::infer(model, test.inputs).measures;
  std::vector<std::string> names;
  for (auto& [set, data] : ood_sets) {
    measures[set] = runs::infer(model, data.inputs).measures;
    names.push_back(set);
  }
  experiments::add_evaluation_sections(doc, table, test.labels, names, kBootstrap, seed);
  report::write_reliability_figure(out, measures["test"], test.labels, quiet);
  report::write_rejection_figure(out, measures["test"], test.labels, quiet);
  for (const auto& set : names) report::write_ood_figures(out, set, measures["test"], measures[set], quiet);
}

}  // namespace

void add_evaluate_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<EvaluateArgs>();
  CLI::App* cmd = app.add_subcommand("evaluate", "Evaluate a run: results.json and figures");
  cmd->add_option("--model", a->model, "Finished run directory")->required();
  cmd->add_option("--data", a->data, "Labelled test data source (regression runs: with the target column)")->required();
  cmd->add_option("--ood", a->ood, "Out-of-domain data source, optionally SRC:NAME (repeatable)");
  cmd->add_option("--limit", a->limit, "Use only N rows of the data (the first N; see --limit-random)")
      ->check(integer_at_least(1));
  cmd->add_flag("--limit-random", a->limit_random, "With --limit: N rows drawn at random (seeded by --seed)");
  cmd->add_option("-o,--out", a->out,
                  "Output directory: new, empty, or an earlier evaluate output (replaced when this one is complete)")
      ->required();
  cmd->callback([a, &g] { run_evaluate(*a, g); });
}

}  // namespace endd::cli
