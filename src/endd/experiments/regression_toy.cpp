#include "endd/experiments/regression_toy.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/core/seeding.h"
#include "endd/core/version.h"
#include "endd/data/dataset.h"
#include "endd/metrics/regression.h"
#include "endd/models/mlp_ensemble.h"
#include "endd/models/regression_heads.h"
#include "endd/report/csv_writer.h"
#include "endd/report/figures.h"
#include "endd/report/regression_results.h"
#include "endd/uncertainty/regression_measures.h"

namespace endd::experiments {

nlohmann::json RegressionToyConfig::to_json() const {
  nlohmann::json j = models.to_json();
  j.update({{"seed", models.seed}, {"train_count", train_count}, {"test_count", test_count}, {"aux_count", aux_count},
            {"aux_extent", aux_extent}, {"grid_extent", grid_extent}, {"far", far}, {"grid_points", grid_points}});
  return j;
}

namespace {

// x on [-5, -1.5] u [1.5, 5]; y = x sin x + N(0, (0.2 + 0.1 |x|)^2).
std::pair<at::Tensor, at::Tensor> toy_points(int64_t n, uint64_t seed) {
  at::Generator g = cpu_generator(seed);
  at::Tensor side = at::randint(2, {n}, g, at::kLong).to(at::kDouble) * 2 - 1;
  at::Tensor x = side * (1.5 + 3.5 * at::rand({n}, g, at::kDouble));
  at::Tensor y = x * at::sin(x) + (0.2 + 0.1 * x.abs()) * at::randn({n}, g, at::kDouble);
  return {x, y};
}

// The mean with +-2 sd bands of the data and the total variance over the grid.
void write_band_figure(const std::string& dir, const std::string& model, const at::Tensor& grid,
                       const uncertainty::RegressionMeasures& m, bool quiet) {
  const std::string fig = (std::filesystem::path(dir) / "figures" / model).string();
  ensure_writable_directory(fig);
  report::write_csv(fig + "/bands.csv", {{"x", grid},
                                         {"mean", m.prediction},
                                         {"data_sd", at::sqrt(m.data_variance)},
                                         {"total_sd", at::sqrt(m.total_variance)},
                                         {"knowledge_variance", m.knowledge_variance}});
  std::ostringstream gp;
  gp << "set terminal pngcairo noenhanced size 900,520\nset output outfile\nset datafile separator ','\n"
     << "set key top left\nset xlabel 'x'\nset ylabel 'y'\nset yrange [-25:25]\n"
     << "set title '" << model << ": mean, +-2 sd total (knowledge + data) and data'\n"
     << "plot " << report::gnuplot_quote(fig + "/bands.csv")
     << " skip 1 using 1:($2-2*$4):($2+2*$4) with filledcurves lc rgb '#c6dbef' title 'total',"
     << " '' skip 1 using 1:($2-2*$3):($2+2*$3) with filledcurves lc rgb '#6baed6' title 'data',"
     << " '' skip 1 using 1:2 with lines lw 2 lc rgb '#08306b' title 'mean',"
     << " " << report::gnuplot_quote(dir + "/figures/training.csv")
     << " skip 1 using 1:2 with points pt 7 ps 0.3 lc rgb '#e6550d' title 'training data'\n";
  report::render_png(fig + "/bands", gp.str(), quiet);
}

// How the student's knowledge variance follows the ensemble's over the grid:
// rank correlation everywhere, and mean ratios in the gap and far away.
nlohmann::json grid_json(const at::Tensor& grid, const uncertainty::RegressionMeasures& student,
                         const uncertainty::RegressionMeasures& ensemble, double far) {
  auto ratio = [&](const at::Tensor& mine, const at::Tensor& theirs, const at::Tensor& where) {
    return (mine.masked_select(where).mean() / theirs.masked_select(where).mean()).item<double>();
  };
  const at::Tensor far_away = grid.abs() > far, gap = grid.abs() < 1.5;
  return {{"knowledge_variance_spearman",
           report::spearman(report::to_vector(student.knowledge_variance), report::to_vector(ensemble.knowledge_variance))},
          {"knowledge_entropy_spearman",
           report::spearman(report::to_vector(student.knowledge), report::to_vector(ensemble.knowledge))},
          {"far_knowledge_ratio", ratio(student.knowledge_variance, ensemble.knowledge_variance, far_away)},
          {"gap_knowledge_ratio", ratio(student.knowledge_variance, ensemble.knowledge_variance, gap)},
          {"far_knowledge_entropy_ratio", ratio(student.knowledge, ensemble.knowledge, far_away)},
          {"gap_knowledge_entropy_ratio", ratio(student.knowledge, ensemble.knowledge, gap)}};
}

std::string toy_markdown(const nlohmann::json& r) {
  std::ostringstream md;
  md.precision(4);
  md << "# Regression toy (1-D, heteroscedastic, with a gap)\n\n| model | RMSE | NLL | coverage 90% | calibration "
        "error |\n|---|---|---|---|---|\n";
  for (const auto* name : {"single", "ensemble", "end", "end2", "end2_aux"}) {
    const auto& m = r["models"][name];
    md << "| " << name << " | " << m["rmse"].get<double>() << " | " << m["nll"].get<double>() << " | "
       << m["coverage_90"].get<double>() << " | " << m["calibration_error"].get<double>() << " |\n";
  }
  md << "\nKnowledge uncertainty against the ensemble's over the grid [-" << r["config"]["grid_extent"] << ", "
     << r["config"]["grid_extent"] << "] (far: |x| > " << r["config"]["far"] << ", gap: |x| < 1.5), variance form "
     << "(entropy form):\n\n| student | Spearman | far mean ratio | gap mean ratio |\n|---|---|---|---|\n";
  for (const auto* name : {"end2", "end2_aux"}) {
    const auto& g = r["grid"][name];
    md << "| " << name << " | " << g["knowledge_variance_spearman"].get<double>() << " ("
       << g["knowledge_entropy_spearman"].get<double>() << ") | " << g["far_knowledge_ratio"].get<double>() << " ("
       << g["far_knowledge_entropy_ratio"].get<double>() << ") | " << g["gap_knowledge_ratio"].get<double>() << " ("
       << g["gap_knowledge_entropy_ratio"].get<double>() << ") |\n";
  }
  md << "\nFigures: `figures/<model>/bands.png` (mean with +-2 sd bands of the data and total variance; data in "
        "`bands.csv`).\n";
  return md.str();
}

struct ToySets {
  at::Tensor x_train, y_train, x_test, y_test, grid, aux;
};

using Predictives = std::map<std::string, uncertainty::RegressionPredictive>;

nlohmann::json report_toy(const RegressionToyConfig& c, const std::string& dir, const ToySets& d,
                          const Predictives& test, const Predictives& grid) {
  nlohmann::json r;
  r["endd_version"] = kVersion;
  r["experiment"] = "regression-toy";
  r["task"] = "regression";
  r["seed"] = c.models.seed;
  r["config"] = c.to_json();
  ensure_writable_directory(dir + "/figures");
  report::write_csv(dir + "/figures/training.csv", {{"x", d.x_train}, {"y", d.y_train}});
  report::RegressionResults results;
  for (const auto* name : kRegressionModelNames) {
    const auto& t = test.at(name);
    results.order.push_back(name);
    results.models[name].test = report::regression_metrics(t, d.y_test);
    results.rejection[name] = report::squared_error_rejection(t.measures, d.y_test);
    write_band_figure(dir, name, d.grid, grid.at(name).measures, c.models.quiet);
  }
  results.write_sections(r);
  for (const auto* name : {"end", "end2", "end2_aux"})
    r["grid"][name] = grid_json(d.grid, grid.at(name).measures, grid.at("ensemble").measures, c.far);
  return r;
}

}  // namespace

nlohmann::json run_regression_toy(const RegressionToyConfig& c, c10::Device device, const std::string& dir) {
  ENDD_CHECK(c.models.members >= 2 && c.train_count >= 2 && c.test_count >= 1 && c.aux_count >= 1 && c.grid_points >= 2,
             "regression-toy: needs members >= 2, train_count >= 2 and test, AUX and grid points");
  const auto t0 = std::chrono::steady_clock::now();
  ToySets d;
  std::tie(d.x_train, d.y_train) = toy_points(c.train_count, derive_seed(c.models.seed, Stream::kTrainData));
  std::tie(d.x_test, d.y_test) = toy_points(c.test_count, derive_seed(c.models.seed, Stream::kTestData));
  d.grid = at::linspace(-c.grid_extent, c.grid_extent, c.grid_points, at::kDouble);
  at::Generator g = cpu_generator(derive_seed(c.models.seed, Stream::kAuxData));
  d.aux = (at::rand({c.aux_count}, g, at::kDouble) * 2 - 1) * c.aux_extent;  // around and beyond the data
  RegressionModels models =
      train_regression_models(c.models, d.x_train.unsqueeze(1), d.y_train, d.aux.unsqueeze(1), device);
  typical_member(models, d.x_test.unsqueeze(1), d.y_test);
  nlohmann::json r = report_toy(c, dir, d, regression_predictives(models, d.x_test.unsqueeze(1), d.y_test),
                                regression_predictives(models, d.grid.unsqueeze(1)));
  r["timing"] = {{"total_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
  report::write_json(dir + "/results.json", r);
  write_file_atomic(dir + "/results.md", toy_markdown(r));
  return r;
}

}  // namespace endd::experiments
