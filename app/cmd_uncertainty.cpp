// endd uncertainty: per-input uncertainty of member outputs from anywhere.
#include <ATen/ATen.h>

#include "cli_common.h"
#include "endd/core/output_paths.h"
#include "endd/core/error.h"
#include "endd/data/member_outputs.h"
#include "endd/data/tensor_file.h"
#include "endd/report/csv_writer.h"
#include "endd/report/regression_results.h"
#include "endd/uncertainty/measures.h"
#include "endd/uncertainty/regression_measures.h"

namespace endd::cli {
namespace {

struct UncertaintyArgs {
  int64_t members = 0;
  std::string probs, logits, dirichlet_logits, gaussian, out;
  bool renormalize = false;
  double tolerance = 1e-3;
};

// Regression members (issue 19): means and variances [N, M, 2].
void run_gaussian_uncertainty(const UncertaintyArgs& a) {
  ENDD_USAGE_CHECK(a.members >= 1 || data::is_array_file(a.gaussian),
                   "--members is required for CSV input (member-major columns m1_mean, m1_var, m2_mean, ...)");
  at::Tensor outputs = data::load_member_outputs(a.gaussian, {a.members, data::OutputKind::kGaussian, 0, false});
  auto m = uncertainty::gaussian_ensemble_measures(outputs.select(2, 0), outputs.select(2, 1));
  report::write_regression_measures_csv(a.out, m);
}

void run_uncertainty(const UncertaintyArgs& a, const GlobalOptions& g) {
  apply_globals(g, Workload::kLargeTensors);
  int given = !a.probs.empty() + !a.logits.empty() + !a.dirichlet_logits.empty() + !a.gaussian.empty();
  ENDD_USAGE_CHECK(given == 1, "give exactly one of --probs, --logits, --dirichlet-logits, --gaussian");
  check_not_an_input(a.out, {a.probs, a.logits, a.dirichlet_logits, a.gaussian}, "--out");
  if (!a.gaussian.empty()) return run_gaussian_uncertainty(a);
  uncertainty::Measures m;
  if (!a.dirichlet_logits.empty()) {
    at::Tensor z = data::is_array_file(a.dirichlet_logits)
                       ? data::load_array_file(a.dirichlet_logits)
                       : data::load_member_outputs(a.dirichlet_logits,
                                                   {1, data::OutputKind::kLogits, 0, false})
                             .squeeze(1);
    ENDD_CHECK(z.dim() == 2 && z.size(1) >= 2, a.dirichlet_logits,
               ": expected Dirichlet logits [N, K] with K >= 2, got shape ", z.sizes());
    ENDD_CHECK(z.isfinite().all().item<bool>(), a.dirichlet_logits, ": contains NaN or infinity");
    m = uncertainty::dirichlet_measures(z);
  } else {
    ENDD_USAGE_CHECK(a.members >= 1 || data::is_array_file(a.probs + a.logits),
               "--members is required for CSV input (member-major columns)");
    data::MemberOutputOptions o;
    o.members = a.members;
    o.kind = a.logits.empty() ? data::OutputKind::kProbabilities : data::OutputKind::kLogits;
    o.renormalize = a.renormalize;
    o.sum_tolerance = a.tolerance;
    at::Tensor outputs = data::load_member_outputs(a.logits.empty() ? a.probs : a.logits, o);
    m = a.logits.empty() ? uncertainty::ensemble_measures_from_probs(outputs)
                         : uncertainty::ensemble_measures_from_logits(outputs);
  }
  std::vector<report::CsvColumn> cols{{"prediction", m.prediction}, {"confidence", m.confidence},
                                      {"total", m.total},           {"data", m.data},
                                      {"knowledge", m.knowledge},   {"epkl", m.epkl}};
  if (m.precision) cols.push_back({"alpha0", *m.precision});
  if (m.diff_entropy) cols.push_back({"diff_entropy", *m.diff_entropy});
  report::write_csv(a.out, cols);
}

}  // namespace

void add_uncertainty_command(CLI::App& app, GlobalOptions& g) {
  auto args = std::make_shared<UncertaintyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "uncertainty", "Per-input prediction, confidence, total/data/knowledge uncertainty and EPKL");
  cmd->add_option("-m,--members", args->members, "Ensemble size M (CSV: M*K columns, member-major)")
      ->check(integer_at_least(1));
  auto* probs = cmd->add_option("--probs", args->probs, "Member probabilities: CSV or torch.save .pt");
  auto* logits = cmd->add_option("--logits", args->logits, "Member logits instead: CSV or .pt");
  auto* dir = cmd->add_option("--dirichlet-logits", args->dirichlet_logits,
                              "Prior-network logits [N, K] (alpha = exp(z)): CSV or .pt");
  auto* gaussian = cmd->add_option("--gaussian", args->gaussian,
                                   "Regression members' means and variances: CSV (m1_mean, m1_var, m2_mean, ...) or "
                                   ".pt/.npy [N, M, 2]; writes prediction, total/data/knowledge variance and entropy");
  probs->excludes(logits)->excludes(dir)->excludes(gaussian);
  logits->excludes(dir)->excludes(gaussian);
  dir->excludes(gaussian);
  cmd->add_option("-o,--out", args->out, "Output CSV")->required();
  cmd->add_flag("--renormalize", args->renormalize, "Rescale rows that do not sum to 1");
  cmd->add_option("--tolerance", args->tolerance, "Allowed |row sum - 1|")->check(number_at_least(0))->capture_default_str();
  cmd->callback([args, &g] { run_uncertainty(*args, g); });
}

}  // namespace endd::cli
