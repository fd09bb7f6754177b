#include "endd/report/regression_figures.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <filesystem>
#include <vector>

#include "endd/metrics/regression.h"
#include "endd/report/csv_writer.h"
#include "endd/report/figures.h"
#include "endd/report/results.h"

namespace endd::report {
namespace {

// MSE over the whole set after rejecting the k predictions ranked first by
// `order` (descending), k = 0 .. N, at 101 evenly spaced fractions.
std::vector<double> rejection_curve(const at::Tensor& loss, const at::Tensor& order) {
  const int64_t n = loss.size(0);
  at::Tensor removed = at::cat({at::zeros({1}, at::kDouble), loss.index_select(0, order).cumsum(0)});
  const double total = loss.sum().item<double>();
  std::vector<double> out;
  for (int k = 0; k <= 100; ++k) {
    const int64_t rejected = (n * k + 50) / 100;
    out.push_back((total - removed[rejected].item<double>()) / double(std::max<int64_t>(n, 1)));
  }
  return out;
}

at::Tensor descending(const at::Tensor& v) { return std::get<1>(at::sort(v, /*stable=*/true, 0, /*descending=*/true)); }

}  // namespace

void write_coverage_figure(const std::string& dir, const uncertainty::RegressionPredictive& p, bool quiet) {
  std::vector<double> nominal, observed;
  for (int k = 0; k <= 20; ++k) {
    nominal.push_back(5.0 * k);
    observed.push_back(metrics::central_coverage(p.pit, 0.05 * k));
  }
  const std::string csv = path_in(dir, "coverage.csv");
  write_csv(csv, {{"nominal", at::tensor(nominal, at::kDouble)}, {"observed", at::tensor(observed, at::kDouble)}});
  char title[96];
  std::snprintf(title, sizeof title, "Coverage of central intervals (calibration error %.2f points)",
                metrics::coverage_calibration_error(p.pit));
  render_png(path_in(dir, "coverage"),
             std::string(kPngScriptHeader) + "set title '" + title + "'\nset xlabel 'interval probability (%)'\n"
             "set ylabel 'targets inside (%)'\nset xrange [0:100]\nset yrange [0:100]\nset key top left\n"
             "plot " + gnuplot_quote(csv) + " skip 1 using 1:2 with linespoints lw 2 title 'observed', "
             "x with lines dt 2 lc rgb 'black' title 'perfect calibration'\n",
             quiet);
}

void write_squared_error_rejection_figure(const std::string& dir, const uncertainty::RegressionPredictive& p,
                                          const at::Tensor& targets, bool quiet) {
  const auto& m = p.measures;
  at::Tensor loss = (m.prediction - targets.to(at::kDouble)).pow(2).contiguous();
  std::vector<double> fraction;
  for (int k = 0; k <= 100; ++k) fraction.push_back(k / 100.0);
  std::vector<double> random;
  const double base = loss.numel() ? loss.mean().item<double>() : 0.0;
  for (double f : fraction) random.push_back(base * (1 - f));
  const std::string csv = path_in(dir, "rejection.csv");
  write_csv(csv, {{"fraction_rejected", at::tensor(fraction, at::kDouble)},
                  {"mse_total_variance", at::tensor(rejection_curve(loss, descending(m.total_variance)), at::kDouble)},
                  {"mse_knowledge_variance",
                   at::tensor(rejection_curve(loss, descending(m.knowledge_variance)), at::kDouble)},
                  {"oracle", at::tensor(rejection_curve(loss, descending(loss)), at::kDouble)},
                  {"random", at::tensor(random, at::kDouble)}});
  const std::vector<double> squared = to_vector(loss);
  char titles[200];
  std::snprintf(titles, sizeof titles,
                "title 'total variance (PRR %.1f%%)', '' skip 1 using 1:3 with lines lw 2 title 'knowledge variance "
                "(PRR %.1f%%)'",
                metrics::loss_rejection(to_vector(m.total_variance), squared).prr,
                metrics::loss_rejection(to_vector(m.knowledge_variance), squared).prr);
  render_png(path_in(dir, "rejection"),
             std::string(kPngScriptHeader) + "set title 'Prediction rejection by squared error'\n"
             "set xlabel 'fraction rejected'\nset ylabel 'mean squared error over the whole set'\nplot " +
                 gnuplot_quote(csv) + " skip 1 using 1:2 with lines lw 2 " + titles +
                 ", '' skip 1 using 1:4 with lines dt 2 title 'oracle', '' skip 1 using 1:5 with lines dt 3 title "
                 "'random'\n",
             quiet);
}

}  // namespace endd::report
