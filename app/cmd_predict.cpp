// endd predict: one row per input with the prediction, probabilities and uncertainties.
#include <ATen/ATen.h>

#include "cli_common.h"
#include "endd/core/error.h"
#include "endd/core/output_paths.h"
#include "endd/core/seeding.h"
#include "endd/data/source.h"
#include "endd/data/subsets.h"
#include "endd/report/csv_writer.h"
#include "endd/report/regression_results.h"
#include "endd/runs/regression_workflow.h"
#include "endd/runs/workflow.h"

namespace endd::cli {
namespace {

struct PredictArgs {
  std::string model, data, out;
  int64_t limit = 0;
  bool limit_random = false;
  bool member_probs = false;
};

// Regression: the predictive's mean and its uncertainty in variance (user
// units squared) and entropy (nats) form, docs/regression.md.
void write_regression_rows(runs::LoadedModel& model, const data::Dataset& input, const std::string& out) {
  const uncertainty::RegressionMeasures m = runs::regression_predictive(model, input.inputs).measures;
  report::write_regression_measures_csv(out, m);
}

void run_predict(const PredictArgs& a, const GlobalOptions& g) {
  auto device = apply_globals(g, Workload::kLargeTensors);
  runs::LoadedModel model = runs::load_model(a.model, device);
  ENDD_USAGE_CHECK(!a.member_probs || model.info.kind == runs::RunKind::kEnsemble, "--member-probs: ", a.model,
                   " is a distilled student, one network with no members; member probabilities exist for "
                   "ensemble runs (endd train)");
  std::vector<std::string> inputs = runs::run_inputs(a.model);
  for (const auto& f : data::source_files(a.data)) inputs.push_back(f);
  check_not_an_input(a.out, inputs, "--out");
  data::Dataset input = data::limit_rows(data::load_source(a.data, runs::source_request(model.info, false)), a.limit,
                                         a.limit_random, derive_seed(g.seed, Stream::kSubset));
  if (model.info.regression()) {
    ENDD_USAGE_CHECK(!a.member_probs, "--member-probs: ", a.model, " is a regression run; it has no class "
                     "probabilities");
    return write_regression_rows(model, input, a.out);
  }
  auto inf = runs::infer(model, input.inputs, a.member_probs);
  const auto& m = inf.measures;
  // The prediction in the user's own label values; p<c> follow the run's class order.
  std::vector<std::string> predicted;
  at::Tensor pred = m.prediction.cpu().to(at::kLong).contiguous();
  for (int64_t i = 0; i < pred.numel(); ++i) predicted.push_back(model.info.class_names.at(pred.data_ptr<int64_t>()[i]));
  std::vector<report::CsvColumn> cols{{"prediction", at::Tensor(), std::move(predicted)}};
  for (int64_t c = 0; c < model.info.classes; ++c) cols.push_back({"p" + std::to_string(c), m.mean_probs.select(1, c)});
  cols.insert(cols.end(), {{"confidence", m.confidence}, {"total", m.total}, {"data", m.data},
                           {"knowledge", m.knowledge}, {"epkl", m.epkl}});
  if (m.precision) cols.push_back({"alpha0", *m.precision});
  if (m.diff_entropy) cols.push_back({"diff_entropy", *m.diff_entropy});
  if (a.member_probs) {
    for (int64_t j = 0; j < inf.member_probs.size(1); ++j)
      for (int64_t c = 0; c < model.info.classes; ++c)
        cols.push_back({"m" + std::to_string(j) + "_p" + std::to_string(c), inf.member_probs.select(1, j).select(1, c)});
  }
  report::write_csv(a.out, cols);
}

}  // namespace

void add_predict_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand("predict", "Per-input predictions and uncertainties of a run, as CSV");
  cmd->add_option("--model", a->model, "Finished run directory")->required();
  cmd->add_option("--data", a->data, "Data source (a label column, if present, is dropped unread)")->required();
  cmd->add_option("--limit", a->limit, "Use only N rows of the data (the first N; see --limit-random)")
      ->check(integer_at_least(1));
  cmd->add_flag("--limit-random", a->limit_random, "With --limit: N rows drawn at random (seeded by --seed)");
  cmd->add_option("-o,--out", a->out, "Output CSV")->required();
  cmd->add_flag("--member-probs", a->member_probs, "Also write each member's probabilities (ensembles)");
  cmd->callback([a, &g] { run_predict(*a, g); });
}

}  // namespace endd::cli
