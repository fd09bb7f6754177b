// endd predict: one row per input with the prediction, probabilities and uncertainties.
#include <ATen/ATen.h>

#include "cli_common.h"
#include "endd/data/source.h"
#include "endd/report/csv_writer.h"
#include "endd/runs/workflow.h"

namespace endd::cli {
namespace {

struct PredictArgs {
  std::string model, data, out;
  bool member_probs = false;
};

void run_predict(const PredictArgs& a, const GlobalOptions& g) {
  auto device = apply_globals(g, Workload::kLargeTensors);
  runs::LoadedModel model = runs::load_model(a.model, device);
  data::Dataset input = data::load_source(a.data, {model.info.inputs, false, model.info.classes, true});
  auto inf = runs::infer(model, input.inputs, a.member_probs && !model.info.dirichlet());
  const auto& m = inf.measures;
  std::vector<report::CsvColumn> cols{{"prediction", m.prediction}};
  for (int64_t c = 0; c < model.info.classes; ++c) cols.push_back({"p" + std::to_string(c), m.mean_probs.select(1, c)});
  cols.insert(cols.end(), {{"confidence", m.confidence}, {"total", m.total}, {"data", m.data},
                           {"knowledge", m.knowledge}, {"epkl", m.epkl}});
  if (m.precision) cols.push_back({"alpha0", *m.precision});
  if (m.diff_entropy) cols.push_back({"diff_entropy", *m.diff_entropy});
  if (a.member_probs && !model.info.dirichlet()) {
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
  cmd->add_option("--data", a->data, "Data source (a label column, if present, is ignored)")->required();
  cmd->add_option("-o,--out", a->out, "Output CSV")->required();
  cmd->add_flag("--member-probs", a->member_probs, "Also write each member's probabilities (ensembles)");
  cmd->callback([a, &g] { run_predict(*a, g); });
}

}  // namespace endd::cli
