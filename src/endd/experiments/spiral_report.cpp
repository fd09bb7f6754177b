// results.json, results.md and figures of the spiral experiment.
#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "endd/core/atomic_file.h"
#include "endd/core/version.h"
#include "endd/experiments/classification_report.h"
#include "endd/experiments/spiral.h"
#include "endd/report/csv_writer.h"
#include "endd/report/figures.h"
#include "endd/report/results.h"

namespace endd::experiments {
namespace {

using nlohmann::json;
const std::vector<std::string> kMapModels{"ensemble", "end2", "end2_aux"};
const std::vector<std::string> kMapMeasures{"total", "data", "knowledge"};

// The paper's Table (artificial data): test error in %.
const std::map<std::string, double> kPaperError{{"single", 13.21}, {"ensemble", 12.37}, {"end2", 12.47}, {"end2_aux", 12.50}};

json paper_section() {
  return {{"source", "Malinin, Mlodozeniec, Gales (2019), Ensemble Distribution Distillation, artificial data"},
          {"error", kPaperError}};
}

std::string path_in(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

const at::Tensor& measure(const uncertainty::Measures& m, const std::string& name) {
  if (name == "total") return m.total;
  if (name == "data") return m.data;
  return m.knowledge;
}


// Data: training points by class, AUX and far OOD inputs.
void write_data_figure(const SpiralOutcome& o, const std::string& dir, bool quiet) {
  at::Tensor kind = at::cat({o.train_labels, at::full({o.aux_raw.size(0)}, 3, at::kLong),
                             at::full({o.far_raw.size(0)}, 4, at::kLong)});
  at::Tensor xy = at::cat({o.train_raw, o.aux_raw, o.far_raw}, 0);
  report::write_csv(path_in(dir, "data_points.csv"),
                    {{"x", xy.select(1, 0)}, {"y", xy.select(1, 1)}, {"kind", kind}});
  report::render_png(path_in(dir, "data_points"),
                     "set terminal pngcairo noenhanced size 800,800\nset output outfile\nset datafile separator ','\n"
                     "set title 'Spiral training data (classes), AUX inputs and far OOD inputs'\n"
                     "set size ratio -1\nset key outside bottom center horizontal\n"
                     "f = " + report::gnuplot_quote(path_in(dir, "data_points.csv")) + "\n"
                     "plot f skip 1 using 1:($3==3?$2:1/0) with points pt 7 ps 0.3 lc rgb '#bbbbbb' title 'AUX', \\\n"
                     " f skip 1 using 1:($3==4?$2:1/0) with points pt 7 ps 0.3 lc rgb 'black' title 'far OOD', \\\n"
                     " for [k=0:2] f skip 1 using 1:($3==k?$2:1/0) with points pt 7 ps 0.3 title sprintf('class %d', k)\n",
                     quiet);
}

// Figure 4 of the paper: total / data / knowledge uncertainty over the plane.
void write_uncertainty_maps(const SpiralOutcome& o, const std::string& dir, bool quiet) {
  std::vector<report::CsvColumn> cols{{"x", o.map_x}, {"y", o.map_y}};
  std::map<std::string, double> top;
  for (const auto& model : kMapModels) {
    if (!o.map_measures.count(model)) continue;
    for (const auto& meas : kMapMeasures) {
      const at::Tensor& v = measure(o.map_measures.at(model), meas);
      cols.push_back({model + "_" + meas, v});
      top[meas] = std::max(top[meas], v.max().item<double>());
    }
  }
  report::write_csv(path_in(dir, "uncertainty_maps.csv"), cols);
  std::ostringstream gp;
  gp << "set terminal pngcairo noenhanced size 1500,1500 font ',10'\nset output outfile\nset datafile separator ','\n"
     << "set multiplot layout 3,3 title 'Uncertainty over the input plane (spiral radius R = 355)'\n"
     << "set size ratio -1\nunset key\nset palette rgbformulae 33,13,10\n"
     << "f = " << report::gnuplot_quote(path_in(dir, "uncertainty_maps.csv")) << "\n";
  int column = 3;
  for (const auto& model : kMapModels) {
    if (!o.map_measures.count(model)) continue;
    for (const auto& meas : kMapMeasures) {
      gp << "set title '" << model << ": " << meas << "'\nset cbrange [0:" << std::max(top[meas], 1e-9)
         << "]\nplot f skip 1 using 1:2:" << column++ << " with image\n";
    }
  }
  gp << "unset multiplot\n";
  report::render_png(path_in(dir, "uncertainty_maps"), gp.str(), quiet);
}

// Knowledge uncertainty in-domain (test) vs far OOD.
void write_knowledge_histograms(const SpiralOutcome& o, const std::string& dir, bool quiet) {
  double hi = 1e-9;
  for (const auto& model : kMapModels)
    if (o.models.measures.count(model))
      for (const auto* set : {"test", "far"})
        hi = std::max(hi, o.models.measures.at(model).at(set).knowledge.max().item<double>());
  std::vector<report::CsvColumn> cols;
  const int bins = 40;
  std::ostringstream gp;
  gp << "set terminal pngcairo noenhanced size 1500,450\nset output outfile\nset datafile separator ','\n"
     << "set multiplot layout 1,3 title 'Knowledge uncertainty: test (in-domain) vs far OOD'\n"
     << "set style fill transparent solid 0.5\nset xlabel 'knowledge uncertainty (nats)'\n"
     << "set ylabel 'density (log scale)'\nset logscale y\n"
     << "f = " << report::gnuplot_quote(path_in(dir, "knowledge_histograms.csv")) << "\n";
  int column = 2;
  for (const auto& model : kMapModels) {
    if (!o.models.measures.count(model)) continue;
    for (const auto* set : {"test", "far"}) {
      auto h = report::histogram(report::to_vector(o.models.measures.at(model).at(set).knowledge), 0, hi, bins);
      if (cols.empty()) cols.push_back({"knowledge", at::tensor(h.centers, at::kDouble)});
      cols.push_back({model + "_" + set, at::tensor(h.density, at::kDouble)});
    }
    gp << "set title '" << model << "'\nplot f skip 1 using 1:" << column << " with boxes title 'test', "
       << "f skip 1 using 1:" << column + 1 << " with boxes title 'far OOD'\n";
    column += 2;
  }
  gp << "unset multiplot\n";
  report::write_csv(path_in(dir, "knowledge_histograms.csv"), cols);
  report::render_png(path_in(dir, "knowledge_histograms"), gp.str(), quiet);
}

// Training curves: ensemble loss; student losses with the temperature.
void write_training_curves(const SpiralOutcome& o, const std::string& dir, bool quiet) {
  const auto& ens = o.curves.at("ensemble");
  std::vector<double> ep, loss;
  for (const auto& e : ens) { ep.push_back(double(e.epoch + 1)); loss.push_back(e.loss); }
  report::write_csv(path_in(dir, "ensemble_curve.csv"),
                    {{"epoch", at::tensor(ep, at::kDouble)}, {"loss", at::tensor(loss, at::kDouble)}});
  std::vector<report::CsvColumn> cols;
  std::vector<std::string> names;
  for (const auto* name : {"end", "end2", "end2_aux"}) {
    if (!o.curves.count(name)) continue;
    std::vector<double> e2, l2, t2;
    for (const auto& e : o.curves.at(name)) {
      e2.push_back(double(e.epoch + 1)); l2.push_back(e.loss); t2.push_back(e.temperature);
    }
    if (cols.empty()) {
      cols.push_back({"epoch", at::tensor(e2, at::kDouble)});
      cols.push_back({"temperature", at::tensor(t2, at::kDouble)});
    }
    cols.push_back({std::string(name) + "_loss", at::tensor(l2, at::kDouble)});
    names.push_back(name);
  }
  report::write_csv(path_in(dir, "distill_curves.csv"), cols);
  std::ostringstream gp;
  gp << "set terminal pngcairo noenhanced size 1400,500\nset output outfile\nset datafile separator ','\n"
     << "set multiplot layout 1,2\nset xlabel 'epoch'\n"
     << "set title 'Ensemble training: mean member cross-entropy'\nset ylabel 'loss (nats)'\n"
     << "plot " << report::gnuplot_quote(path_in(dir, "ensemble_curve.csv")) << " skip 1 using 1:2 with lines lw 2 title 'ensemble'\n"
     << "set title 'Distillation: loss and temperature T'\nset ylabel 'loss'\nset y2label 'T'\nset y2tics\nset ytics nomirror\n"
     // Headroom above T0, or the held T0 hides in the top border.
     << "set y2range [0:" << 1.1 * o.config.student.initial_temperature << "]\n"
     << "g = " << report::gnuplot_quote(path_in(dir, "distill_curves.csv")) << "\nplot ";
  for (size_t i = 0; i < names.size(); ++i)
    gp << "g skip 1 using 1:" << i + 3 << " with lines lw 2 title '" << names[i] << "', ";
  gp << "g skip 1 using 1:2 axes x1y2 with lines dt 2 lc rgb 'black' title 'T'\nunset multiplot\n";
  report::render_png(path_in(dir, "training_curves"), gp.str(), quiet);
}

void write_figures(const SpiralOutcome& o, const std::string& dir, bool quiet) {
  write_data_figure(o, dir, quiet);
  write_uncertainty_maps(o, dir, quiet);
  write_knowledge_histograms(o, dir, quiet);
  write_training_curves(o, dir, quiet);
}

}  // namespace

report::ClassificationResults write_spiral_report(const SpiralOutcome& o, const std::string& dir) {
  json r;
  r["endd_version"] = kVersion;
  r["experiment"] = "spiral";
  r["seed"] = o.config.seed;
  r["config"] = o.config.to_json();
  r["paper"] = paper_section();
  r["stages"] = o.stages;
  r["sources"] = o.sources;
  ReportSettings report;
  report.title = "Spiral experiment: endd vs the paper";
  report.ood_sets = {"far"};
  report.bootstrap = o.config.bootstrap;
  report.seed = o.config.seed;
  report.model_figures = false;
  report.paper_error = kPaperError;
  report.notes = "Figures: `data_points.png`, `uncertainty_maps.png` (the paper's Figure 4), "
                 "`knowledge_histograms.png`, `training_curves.png`; the data behind each is the CSV of the same "
                 "name.\n";
  auto results = write_classification_report(r, o.models, o.test_labels, report, dir, o.total_seconds);
  write_figures(o, dir, o.config.quiet);
  return results;
}

}  // namespace endd::experiments
