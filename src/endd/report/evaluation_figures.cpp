#include "endd/report/evaluation_figures.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "endd/metrics/classification.h"
#include "endd/metrics/ranking.h"
#include "endd/metrics/rejection.h"
#include "endd/report/csv_writer.h"
#include "endd/report/figures.h"
#include "endd/report/results.h"

namespace endd::report {
namespace {

at::Tensor column(const std::vector<double>& v) { return at::tensor(v, at::kDouble); }

}  // namespace

void write_reliability_figure(const std::string& dir, const uncertainty::Measures& m, const at::Tensor& labels,
                              bool quiet) {
  auto conf = to_vector(m.confidence);
  auto correct_t = (m.prediction == labels.cpu()).to(at::kByte).contiguous();
  std::vector<uint8_t> correct(correct_t.data_ptr<uint8_t>(), correct_t.data_ptr<uint8_t>() + correct_t.numel());
  auto bins = metrics::reliability_bins(conf, correct, 15);
  std::vector<double> center, acc, mean_conf, count;
  for (const auto& b : bins) {
    center.push_back(0.5 * (b.lower + b.upper));
    acc.push_back(b.accuracy);
    mean_conf.push_back(b.mean_confidence);
    count.push_back(double(b.count));
  }
  std::string csv = path_in(dir, "reliability.csv");
  write_csv(csv, {{"bin_center", column(center)}, {"accuracy", column(acc)}, {"mean_confidence", column(mean_conf)},
                  {"count", column(count)}});
  double ece = metrics::expected_calibration_error(conf, correct, 15);
  char title[96];
  std::snprintf(title, sizeof title, "Reliability (ECE %.2f%%)", ece);
  render_png(path_in(dir, "reliability"),
             std::string(kPngScriptHeader) + "set title '" + title + "'\nset xlabel 'confidence'\nset ylabel 'accuracy'\n"
             "set xrange [0:1]\nset yrange [0:1]\nset style fill solid 0.6\nset boxwidth 1.0/15\nset key top left\n"
             "plot " + gnuplot_quote(csv) + " skip 1 using 1:($4>0?$2:1/0) with boxes title 'accuracy', "
             "x with lines dt 2 lc rgb 'black' title 'perfect calibration'\n",
             quiet);
}

void write_rejection_figure(const std::string& dir, const uncertainty::Measures& m, const at::Tensor& labels,
                            bool quiet) {
  auto wrong_t = (m.prediction != labels.cpu()).to(at::kByte).contiguous();
  std::vector<uint8_t> wrong(wrong_t.data_ptr<uint8_t>(), wrong_t.data_ptr<uint8_t>() + wrong_t.numel());
  auto total = metrics::prediction_rejection(to_vector(m.total), wrong);
  auto knowledge = metrics::prediction_rejection(to_vector(m.knowledge), wrong);
  std::string csv = path_in(dir, "rejection.csv");
  write_csv(csv, {{"fraction_rejected", column(total.fraction)}, {"error_total", column(total.error)},
                  {"error_knowledge", column(knowledge.error)}, {"oracle", column(total.oracle)},
                  {"random", column(total.random)}});
  char titles[160];
  std::snprintf(titles, sizeof titles, "title 'total (PRR %.1f%%)', '' skip 1 using 1:3 with lines lw 2 title 'knowledge (PRR %.1f%%)'",
                total.prr, knowledge.prr);
  render_png(path_in(dir, "rejection"),
             std::string(kPngScriptHeader) + "set title 'Prediction rejection'\nset xlabel 'fraction rejected'\n"
             "set ylabel 'error over the whole set (%)'\nplot " + gnuplot_quote(csv) +
             " skip 1 using 1:2 with lines lw 2 " + titles +
             ", '' skip 1 using 1:4 with lines dt 2 title 'oracle', '' skip 1 using 1:5 with lines dt 3 title 'random'\n",
             quiet);
}

void write_ood_figures(const std::string& dir, const std::string& name, const uncertainty::Measures& in_domain,
                       const uncertainty::Measures& ood, bool quiet) {
  auto in_k = to_vector(in_domain.knowledge), out_k = to_vector(ood.knowledge);
  auto in_t = to_vector(in_domain.total), out_t = to_vector(ood.total);
  double hi_k = std::max(*std::max_element(in_k.begin(), in_k.end()), *std::max_element(out_k.begin(), out_k.end()));
  double hi_t = std::max(*std::max_element(in_t.begin(), in_t.end()), *std::max_element(out_t.begin(), out_t.end()));
  auto hk_in = histogram(in_k, 0, std::max(hi_k, 1e-9), 40), hk_out = histogram(out_k, 0, std::max(hi_k, 1e-9), 40);
  auto ht_in = histogram(in_t, 0, std::max(hi_t, 1e-9), 40), ht_out = histogram(out_t, 0, std::max(hi_t, 1e-9), 40);
  std::string hist = path_in(dir, "ood_" + name + "_hist.csv");
  write_csv(hist, {{"knowledge", column(hk_in.centers)}, {"knowledge_in_domain", column(hk_in.density)},
                   {"knowledge_ood", column(hk_out.density)}, {"total", column(ht_in.centers)},
                   {"total_in_domain", column(ht_in.density)}, {"total_ood", column(ht_out.density)}});
  render_png(path_in(dir, "ood_" + name + "_hist"),
             "set terminal pngcairo noenhanced size 1200,450\nset output outfile\nset datafile separator ','\n"
             "set multiplot layout 1,2 title 'In-domain vs " + name + "'\nset style fill transparent solid 0.5\n"
             "set ylabel 'density'\nf = " + gnuplot_quote(hist) + "\n"
             "set xlabel 'knowledge uncertainty'\nplot f skip 1 using 1:2 with boxes title 'in-domain', f skip 1 using 1:3 with boxes title '" + name + "'\n"
             "set xlabel 'total uncertainty'\nplot f skip 1 using 4:5 with boxes title 'in-domain', f skip 1 using 4:6 with boxes title '" + name + "'\n"
             "unset multiplot\n",
             quiet);
  auto roc_of = [&](const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> s(a);
    s.insert(s.end(), b.begin(), b.end());
    std::vector<uint8_t> pos(a.size(), 0);
    pos.resize(s.size(), 1);
    return metrics::roc_curve(s, pos);
  };
  auto roc_k = roc_of(in_k, out_k), roc_t = roc_of(in_t, out_t);
  std::string roc_k_csv = path_in(dir, "ood_" + name + "_roc_knowledge.csv");
  std::string roc_t_csv = path_in(dir, "ood_" + name + "_roc_total.csv");
  write_csv(roc_k_csv, {{"fpr", column(roc_k.fpr)}, {"tpr", column(roc_k.tpr)}});
  write_csv(roc_t_csv, {{"fpr", column(roc_t.fpr)}, {"tpr", column(roc_t.tpr)}});
  render_png(path_in(dir, "ood_" + name + "_roc"),
             std::string(kPngScriptHeader) + "set title 'OOD detection: " + name + " (OOD positive)'\nset xlabel 'false-positive rate'\n"
             "set ylabel 'true-positive rate'\nset key bottom right\nplot " + gnuplot_quote(roc_k_csv) +
             " skip 1 using 1:2 with lines lw 2 title 'knowledge', " + gnuplot_quote(roc_t_csv) +
             " skip 1 using 1:2 with lines lw 2 title 'total', x with lines dt 2 lc rgb 'black' title 'chance'\n",
             quiet);
}

}  // namespace endd::report
