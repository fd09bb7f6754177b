// endd score: evaluates member predictions made anywhere as `ensemble` (or
// `single` for M = 1) and writes results.json (results-schema.md).
#include <ATen/ATen.h>

#include <filesystem>

#include "cli_common.h"
#include "endd/core/output_paths.h"
#include "endd/core/error.h"
#include "endd/core/version.h"
#include "endd/data/member_outputs.h"
#include "endd/report/results.h"
#include "endd/uncertainty/measures.h"

namespace endd::cli {
namespace {

struct ScoreArgs {
  int64_t members = 0;
  std::string probs, logits, labels, out;
  std::vector<std::string> ood_files, ood_logit_files, ood_names;
  bool renormalize = false;
  double tolerance = 1e-3;
};

void run_score(const ScoreArgs& a, const GlobalOptions& g) {
  apply_globals(g, Workload::kLargeTensors);
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
  report::json model_json = report::classification_json(report::classify(in_domain, labels));
  model_json["members"] = M;
  doc["models"][model] = model_json;
  doc["misclassification"][model] = report::misclassification_json(in_domain, labels);
  doc["ood"] = report::json::object();
  for (size_t i = 0; i < ood_files.size(); ++i) {
    std::string name = a.ood_names.empty() ? std::filesystem::path(ood_files[i]).stem().string()
                                           : a.ood_names[i];
    ENDD_CHECK(!doc["ood"].contains(name), "OOD set name '", name, "' is given twice");
    auto [ood_m, ood] = measures_of(ood_files[i]);
    ENDD_CHECK(ood_m == M && ood.mean_probs.size(1) == K, ood_files[i], ": ", ood_m, " members x ",
               ood.mean_probs.size(1), " classes, expected ", M, " x ", K, " as in ", in_path);
    doc["ood"][name][model] = report::ood_json(in_domain, ood);
  }
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
  cmd->add_option("--labels", args->labels, "One integer class per line")->required();
  cmd->add_option("--ood-probs", args->ood_files, "Out-of-domain member probabilities (with --probs; repeatable)");
  cmd->add_option("--ood-logits", args->ood_logit_files, "Out-of-domain member logits (with --logits; repeatable)");
  cmd->add_option("--ood-name", args->ood_names, "Name of each OOD set (repeatable; default: file stem)");
  cmd->add_option("-o,--out", args->out, "Output results.json")->required();
  cmd->add_flag("--renormalize", args->renormalize, "Rescale rows that do not sum to 1");
  cmd->add_option("--tolerance", args->tolerance, "Allowed |row sum - 1|")->check(number_at_least(0))->capture_default_str();
  cmd->callback([args, &g] { run_score(*args, g); });
}

}  // namespace endd::cli
