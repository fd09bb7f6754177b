// endd evaluate: a finished run on labelled data (+ OOD sets): results.json and figures.
// Settings from flags, a TOML file (--config) and --set, as train and distill read theirs.
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
#include "endd/report/classification_results.h"
#include "endd/report/evaluation_figures.h"
#include "endd/report/regression_figures.h"
#include "endd/report/regression_results.h"
#include "endd/report/results.h"
#include "endd/runs/regression_workflow.h"
#include "endd/runs/run_config.h"
#include "endd/runs/workflow.h"

namespace endd::cli {
namespace {

struct EvaluateArgs {
  std::string model, data, out, config;
  int64_t limit = 0;
  bool limit_random = false;
  std::vector<std::string> ood, sets;
};

// The flags the user typed, as config keys (defaults < file < flags < --set).
Flags typed_flags(const EvaluateArgs& a, const GlobalOptions& g) {
  Flags flags;
  if (g.seed_given()) flags.push_back({"seed", static_cast<int64_t>(g.seed), "--seed"});
  if (!a.model.empty()) flags.push_back({"run", a.model, "--model"});
  if (!a.data.empty()) flags.push_back({"data.test", a.data, "--data"});
  if (!a.ood.empty()) flags.push_back({"data.ood", config::join_words(a.ood, "; "), "--ood"});
  if (a.limit > 0) flags.push_back({"data.limit", a.limit, "--limit"});
  if (a.limit_random) flags.push_back({"data.limit_random", true, "--limit-random"});
  return flags;
}

using NamedSets = std::vector<std::pair<std::string, data::Dataset>>;
void evaluate_regression(runs::LoadedModel& model, const data::Dataset& test, const NamedSets& ood_sets,
                         const std::string& out, bool quiet, report::json& doc);
void evaluate_classification(runs::LoadedModel& model, const runs::EvaluateSettings& s, const data::Dataset& test,
                             const NamedSets& ood_sets, const std::string& out, bool quiet, report::json& doc);

// The OOD sets of `s`, read (or made from the test set) with `limit` rows each.
NamedSets load_ood_sets(const config::Config& cfg, const runs::EvaluateSettings& s, const runs::LoadedModel& model,
                        const data::Dataset& test, std::vector<std::string>& inputs) {
  NamedSets sets;
  for (size_t i = 0; i < s.ood.size(); ++i) {
    const data::OodSpec& spec = s.ood[i];
    data::Dataset set;
    if (spec.generated()) {
      try {
        set.inputs = data::generated_ood_inputs(spec, test.inputs, s.limit > 0 ? s.limit : test.size(),
                                                derive_seed(s.seed, Stream::kOodData, i));
      } catch (const Error& e) {
        cfg.reject("data.ood", e.what());  // names --ood, --set or FILE:LINE
      }
    } else {
      for (const auto& f : data::source_files(spec.source)) inputs.push_back(f);
      set = data::limit_rows(data::load_source(spec.source, runs::source_request(model.info, false)), s.limit,
                             s.limit_random, derive_seed(s.seed, Stream::kSubset, 1));
    }
    sets.emplace_back(spec.name, set);
  }
  return sets;
}

void run_evaluate(const EvaluateArgs& a, const GlobalOptions& g) {
  const config::Config cfg = build_config(runs::evaluate_config(), a.config, typed_flags(a, g), a.sets);
  ENDD_USAGE_CHECK(!cfg.get_string("run").empty(), "--model DIR is required (or run in --config)");
  ENDD_USAGE_CHECK(!cfg.get_string("data.test").empty(), "--data SRC is required (or data.test in --config)");
  const runs::EvaluateSettings s = runs::evaluate_settings(cfg);
  auto device = apply_globals(g, Workload::kLargeTensors);
  // Every input is read and checked before anything is written.
  runs::LoadedModel model = runs::load_model(s.run, device);
  std::vector<std::string> inputs = runs::run_inputs(s.run);
  if (!a.config.empty()) inputs.push_back(a.config);
  for (const auto& f : data::source_files(s.test)) inputs.push_back(f);
  data::Dataset test = data::limit_rows(data::load_source(s.test, runs::source_request(model.info, true)), s.limit,
                                        s.limit_random, derive_seed(s.seed, Stream::kSubset));
  NamedSets ood_sets = load_ood_sets(cfg, s, model, test, inputs);
  check_not_an_input(a.out, inputs, "--out");
  StagedDirectory out(a.out, "results.json");

  report::json doc;
  doc["endd_version"] = kVersion;
  doc["experiment"] = "evaluate";
  doc["seed"] = s.seed;
  doc["config"] = cfg.to_json();
  if (model.info.regression()) {
    evaluate_regression(model, test, ood_sets, out.path(), g.quiet, doc);
  } else {
    evaluate_classification(model, s, test, ood_sets, out.path(), g.quiet, doc);
  }
  report::write_json((std::filesystem::path(out.path()) / "results.json").string(), doc);
  // The resolved configuration: `endd evaluate --config OUT/config.toml` runs it again.
  write_file_atomic((std::filesystem::path(out.path()) / "config.toml").string(), cfg.to_toml());
  out.commit();
}

// docs/results-json.md, regression keys: the model's row, rejection by
// squared error and OOD detection by each measure.
void evaluate_regression(runs::LoadedModel& model, const data::Dataset& test, const NamedSets& ood_sets,
                         const std::string& out, bool quiet, report::json& doc) {
  const std::string name = model.info.model_name();
  const uncertainty::RegressionPredictive in = runs::regression_predictive(model, test.inputs, test.targets);
  doc["task"] = "regression";
  report::RegressionResults results;
  results.order = {name};
  results.models[name] = {report::regression_metrics(in, test.targets), model.info.members, model.net->parameter_count()};
  results.rejection[name] = report::squared_error_rejection(in.measures, test.targets);
  report::write_coverage_figure(out, in, quiet);
  report::write_squared_error_rejection_figure(out, in, test.targets, quiet);
  auto& per_set = results.ood.emplace();
  for (auto& [set, data] : ood_sets)
    per_set[set][name] = report::detection(report::regression_scores(in.measures),
                                           report::regression_scores(runs::regression_predictive(model, data.inputs).measures));
  results.write_sections(doc);
}

void evaluate_classification(runs::LoadedModel& model, const runs::EvaluateSettings& s, const data::Dataset& test,
                             const NamedSets& ood_sets, const std::string& out, bool quiet, report::json& doc) {
  // The experiments' table and sections (model_table.h), for one model.
  const std::string name = model.info.model_name();
  experiments::ModelTable table;
  table.add(name, model.info.members, model.net->parameter_count(), runs::training_seconds(s.run));
  auto& measures = table.measures[name];
  measures["test"] = runs::infer(model, test.inputs).measures;
  std::vector<std::string> names;
  for (auto& [set, data] : ood_sets) {
    measures[set] = runs::infer(model, data.inputs).measures;
    names.push_back(set);
  }
  const report::ClassificationResults results = table.evaluate(test.labels, names, s.bootstrap, s.seed);
  results.write_sections(doc);
  write_file_atomic((std::filesystem::path(out) / "results.md").string(),
                    results.markdown("endd evaluate: " + s.run + " on " + s.test) +
                        "\nFigures: `reliability.png`, `rejection.png`, and per OOD set `ood_<set>_hist.png` and "
                        "`ood_<set>_roc.png`; the CSV beside each holds its data.\n");
  report::write_reliability_figure(out, measures["test"], test.labels, quiet);
  report::write_rejection_figure(out, measures["test"], test.labels, quiet);
  for (const auto& set : names) report::write_ood_figures(out, set, measures["test"], measures[set], quiet);
}

}  // namespace

void add_evaluate_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<EvaluateArgs>();
  CLI::App* cmd = app.add_subcommand("evaluate", "Evaluate a run: results.json and figures");
  cmd->add_option("--model", a->model, "Finished run directory (run)");
  cmd->add_option("--data", a->data, "Labelled test data source; regression runs: with the target column (data.test)");
  cmd->add_option("--ood", a->ood,
                  "Out-of-domain set: a data source, optionally SRC:NAME, or for images uniform-noise, gaussian-noise, "
                  "inverted (repeatable; data.ood)");
  cmd->add_option("--limit", a->limit, "Use only N rows of each set (the first N; see --limit-random) (data.limit)")
      ->check(integer_at_least(1));
  cmd->add_flag("--limit-random", a->limit_random, "With --limit: N rows drawn at random (seeded by --seed)");
  cmd->add_option("-c,--config", a->config, "TOML configuration file: the keys above, e.g. an earlier OUT/config.toml");
  cmd->add_option("--set", a->sets, "key=value override, e.g. --set report.bootstrap=1000 (repeatable)");
  cmd->add_option("-o,--out", a->out,
                  "Output directory: new, empty, or an earlier evaluate output (replaced when this one is complete)")
      ->required();
  cmd->callback([a, &g] { run_evaluate(*a, g); });
}

}  // namespace endd::cli
