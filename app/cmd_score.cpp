// endd score: evaluates member predictions made anywhere as `ensemble` (or
// `single` for M = 1) and writes results.json (results-schema.md).
#include <ATen/ATen.h>

#include <filesystem>

#include "cli_common.h"
#include "endd/core/output_paths.h"
#include "endd/core/error.h"
#include "endd/core/version.h"
#include "endd/data/member_outputs.h"
#include "endd/metrics/regression.h"
#include "endd/report/classification_results.h"
#include "endd/report/regression_results.h"
#include "endd/report/results.h"
#include "endd/uncertainty/measures.h"
#include "endd/uncertainty/regression_measures.h"

namespace endd::cli {
namespace {

struct ScoreArgs {
  int64_t members = 0;
  std::string task = "classification", probs, logits, gaussian, labels, targets, out;
  std::vector<std::string> ood_files, ood_logit_files, ood_gaussian_files, ood_names;
  bool renormalize = false;
  double tolerance = 1e-3;
};

std::string ood_name(const ScoreArgs& a, const std::vector<std::string>& files, size_t i) {
  return a.ood_names.empty() ? std::filesystem::path(files[i]).stem().string() : a.ood_names[i];
}

// Regression members' means and variances from anywhere (issue 19): RMSE,
// NLL, coverage, rejection by squared error, OOD detection.
void run_regression_score(const ScoreArgs& a, const GlobalOptions& g) {
  ENDD_USAGE_CHECK(!a.gaussian.empty() && !a.targets.empty(), "--task regression needs --gaussian FILE and --targets FILE");
  ENDD_USAGE_CHECK(a.probs.empty() && a.logits.empty() && a.labels.empty() && a.ood_files.empty() &&
                       a.ood_logit_files.empty(),
                   "--task regression takes --gaussian, --targets and --ood-gaussian (not --probs, --logits, --labels)");
  ENDD_USAGE_CHECK(a.ood_names.empty() || a.ood_names.size() == a.ood_gaussian_files.size(), "got ",
                   a.ood_gaussian_files.size(), " out-of-domain files but ", a.ood_names.size(),
                   " --ood-name values; give one name per file or none");
  std::vector<std::string> inputs{a.gaussian, a.targets};
  inputs.insert(inputs.end(), a.ood_gaussian_files.begin(), a.ood_gaussian_files.end());
  check_not_an_input(a.out, inputs, "--out");
  ENDD_USAGE_CHECK(a.members >= 1 || data::is_array_file(a.gaussian),
                   "--members is required for CSV input (member-major columns m1_mean, m1_var, m2_mean, ...)");
  auto load = [&](const std::string& path) {
    return data::load_member_outputs(path, {a.members, data::OutputKind::kGaussian, 0, false});
  };
  at::Tensor outputs = load(a.gaussian);
  const int64_t M = outputs.size(1);
  at::Tensor targets = data::read_targets(a.targets);
  ENDD_CHECK(targets.size(0) == outputs.size(0), a.targets, ": ", targets.size(0), " targets but ", a.gaussian,
             " has ", outputs.size(0), " inputs");
  at::Tensor means = outputs.select(2, 0), variances = outputs.select(2, 1);
  const uncertainty::RegressionPredictive predictive = uncertainty::gaussian_predictive(means, variances, targets);
  const uncertainty::RegressionMeasures& in_domain = predictive.measures;
  const std::string model = M == 1 ? "single" : "ensemble";
  report::json doc;
  doc["endd_version"] = kVersion;
  doc["experiment"] = "score";
  doc["task"] = "regression";
  doc["seed"] = g.seed;
  doc["config"] = {{"members", M}, {"inputs", a.gaussian}, {"targets", a.targets}};
  report::RegressionResults results;
  results.order = {model};
  results.models[model] = {report::regression_metrics(predictive, targets), M, std::nullopt};
  results.rejection[model] = report::squared_error_rejection(in_domain, targets);
  auto& ood_sets = results.ood.emplace();
  for (size_t i = 0; i < a.ood_gaussian_files.size(); ++i) {
    const std::string name = ood_name(a, a.ood_gaussian_files, i);
    ENDD_CHECK(!ood_sets.count(name), "OOD set name '", name, "' is given twice");
    at::Tensor ood = load(a.ood_gaussian_files[i]);
    ENDD_CHECK(ood.size(1) == M, a.ood_gaussian_files[i], ": ", ood.size(1), " members, expected ", M, " as in ",
               a.gaussian);
    auto ood_measures = uncertainty::gaussian_ensemble_measures(ood.select(2, 0), ood.select(2, 1));
    ood_sets[name][model] = report::detection(report::regression_scores(in_domain), report::regression_scores(ood_measures));
  }
  results.write_sections(doc);
  report::write_json(a.out, doc);
}

void run_score(const ScoreArgs& a, const GlobalOptions& g) {
  apply_globals(g, Workload::kLargeTensors);
  if (a.task == "regression" || !a.gaussian.empty()) return run_regression_score(a, g);
  ENDD_USAGE_CHECK(!a.labels.empty(), "--labels FILE is required (one integer class per line)");
  ENDD_USAGE_CHECK(a.ood_gaussian_files.empty() && a.targets.empty(), "--targets and --ood-gaussian go with "
                   "--task regression");
  ENDD_USAGE_CHECK(a.probs.empty() != a.logits.empty(), "give exactly one of --probs and --logits");
  // Out-of-domain outputs are read as the in-domain ones are; a mix would be
  // read wrongly, so it is refused.
  ENDD_USAGE_CHECK(a.logits.empty() ? a.ood_logit_files.empty() : a.ood_files.empty(),
                   a.logits.empty() ? "--ood-logits goes with --logits; with --probs give --ood-probs"
                                    : "--ood-probs goes with --probs; with --logits give --ood-logits");
  const std::vector<std::string>& ood_files = a.logits.empty() ? a.ood_files : a.ood_logit_files;
  ENDD_USAGE_CHECK(a.ood_names.empty() || a.ood_names.size() == ood_files.size(), "got ",
             ood_files.size(), " out-of-domain files but ", a.ood_names.size(),
             " --ood-name values; give one name per file or none");
  std::vector<std::string> inputs{a.probs, a.logits, a.labels};
  inputs.insert(inputs.end(), ood_files.begin(), ood_files.end());
  check_not_an_input(a.out, inputs, "--out");
  data::MemberOutputOptions o;
  o.members = a.members;
  o.kind = a.logits.empty() ? data::OutputKind::kProbabilities : data::OutputKind::kLogits;
  o.renormalize = a.renormalize;
  o.sum_tolerance = a.tolerance;
  const std::string& in_path = a.logits.empty() ? a.probs : a.logits;
  auto measures_of = [&](const std::string& path) {
    at::Tensor t = data::load_member_outputs(path, o);
    return std::make_pair(t.size(1), o.kind == data::OutputKind::kLogits
                                         ? uncertainty::ensemble_measures_from_logits(t)
                                         : uncertainty::ensemble_measures_from_probs(t));
  };
  auto [M, in_domain] = measures_of(in_path);
  const int64_t K = in_domain.mean_probs.size(1);
  at::Tensor labels = data::read_labels(a.labels, K);
  ENDD_CHECK(labels.size(0) == in_domain.size(), a.labels, ": ", labels.size(0), " labels but ",
             in_path, " has ", in_domain.size(), " inputs");

  const std::string model = M == 1 ? "single" : "ensemble";
  report::json doc;
  doc["endd_version"] = kVersion;
  doc["experiment"] = "score";
  doc["seed"] = g.seed;
  doc["config"] = {{"members", M}, {"classes", K}, {"inputs", in_path}, {"labels", a.labels},
                   {"kind", a.logits.empty() ? "probabilities" : "logits"}};
  report::ClassificationResults results;
  results.order = {model};
  results.models[model].test = report::classify(in_domain, labels);
  results.models[model].members = M;
  results.misclassification[model] = report::misclassification(in_domain, labels);
  for (size_t i = 0; i < ood_files.size(); ++i) {
    std::string name = ood_name(a, ood_files, i);
    ENDD_CHECK(!results.ood.count(name), "OOD set name '", name, "' is given twice");
    auto [ood_m, ood] = measures_of(ood_files[i]);
    ENDD_CHECK(ood_m == M && ood.mean_probs.size(1) == K, ood_files[i], ": ", ood_m, " members x ",
               ood.mean_probs.size(1), " classes, expected ", M, " x ", K, " as in ", in_path);
    results.ood_sets.push_back(name);
    results.ood[name][model] = report::detection(in_domain, ood);
  }
  results.write_sections(doc);
  report::write_json(a.out, doc);
}

}  // namespace

void add_score_command(CLI::App& app, GlobalOptions& g) {
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* cmd = app.add_subcommand(
      "score", "Error, NLL, ECE, Brier, misclassification and OOD detection of member predictions");
  cmd->add_option("-m,--members", args->members, "Ensemble size M (CSV: M*K columns, member-major)")
      ->check(integer_at_least(1));
  auto* probs = cmd->add_option("--probs", args->probs, "In-domain member probabilities (CSV or .pt)");
  auto* logits = cmd->add_option("--logits", args->logits, "In-domain member logits instead");
  probs->excludes(logits);
  cmd->add_option("--task", args->task, "classification (default) or regression")
      ->check(CLI::IsMember({"classification", "regression"}));
  cmd->add_option("--labels", args->labels, "One integer class per line (classification)");
  cmd->add_option("--gaussian", args->gaussian,
                  "Regression: members' means and variances, CSV (m1_mean, m1_var, ...) or .pt/.npy [N, M, 2]");
  cmd->add_option("--targets", args->targets, "Regression: one target value per line, or a .npy/.pt array (N,)");
  cmd->add_option("--ood-gaussian", args->ood_gaussian_files,
                  "Regression: out-of-domain members' means and variances (repeatable)");
  cmd->add_option("--ood-probs", args->ood_files, "Out-of-domain member probabilities (with --probs; repeatable)");
  cmd->add_option("--ood-logits", args->ood_logit_files, "Out-of-domain member logits (with --logits; repeatable)");
  cmd->add_option("--ood-name", args->ood_names, "Name of each OOD set (repeatable; default: file stem)");
  cmd->add_option("-o,--out", args->out, "Output results.json")->required();
  cmd->add_flag("--renormalize", args->renormalize, "Rescale rows that do not sum to 1");
  cmd->add_option("--tolerance", args->tolerance, "Allowed |row sum - 1|")->check(number_at_least(0))->capture_default_str();
  cmd->callback([args, &g] { run_score(*args, g); });
}

}  // namespace endd::cli
