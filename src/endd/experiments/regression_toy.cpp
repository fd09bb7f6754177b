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

RegressionToyConfig RegressionToyConfig::defaults(bool quick) {
  RegressionToyConfig c;
  c.ensemble.objective = train::Objective::kGaussianNll;
  c.ensemble.epochs = 200;
  c.ensemble.batch_size = 64;
  c.ensemble.learning_rate = 3e-3;
  c.student.epochs = 200;
  c.student.batch_size = 64;
  c.student.learning_rate = 3e-3;
  if (quick) {
    c.members = 5;
    c.train_count = c.test_count = c.aux_count = 300;
    c.ensemble.epochs = c.student.epochs = 60;
  }
  return c;
}

nlohmann::json RegressionToyConfig::to_json() const {
  return {{"seed", seed}, {"members", members}, {"train_count", train_count}, {"test_count", test_count},
          {"aux_count", aux_count}, {"aux_extent", aux_extent}, {"grid_extent", grid_extent}, {"far", far}, {"grid_points", grid_points},
          {"model", {{"hidden_layers", hidden_layers}, {"width", width}, {"activation", "relu"}}},
          {"ensemble", {{"epochs", ensemble.epochs}, {"batch_size", ensemble.batch_size},
                        {"learning_rate", ensemble.learning_rate}}},
          {"student", {{"epochs", student.epochs}, {"batch_size", student.batch_size},
                       {"learning_rate", student.learning_rate}, {"clip_norm", student.clip_norm}}}};
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

// A model's predictive on a set, in the user's units.
struct Predictive {
  uncertainty::RegressionMeasures measures;
  at::Tensor log_likelihood, pit;  ///< of the targets, when given
};

struct Scale {
  double mean = 0, sd = 1;  ///< of the training targets
};

// Members' (or a Gaussian student's) means and variances [N, M] in user units.
std::pair<at::Tensor, at::Tensor> gaussians(models::EnsembleNet& net, const at::Tensor& x, const Scale& s) {
  torch::NoGradGuard no_grad;
  net.eval();
  models::GaussianHead h = models::gaussian_head(net.forward(x).to(at::kDouble).cpu());  // [M, N]
  return {(h.mean * s.sd + s.mean).t().contiguous(), (h.variance * s.sd * s.sd).t().contiguous()};
}

Predictive gaussian_predictive(models::EnsembleNet& net, const at::Tensor& x, const at::Tensor& y, const Scale& s) {
  auto [mu, s2] = gaussians(net, x, s);
  Predictive p{uncertainty::gaussian_ensemble_measures(mu, s2), {}, {}};
  if (y.defined()) {
    p.log_likelihood = uncertainty::gaussian_mixture_log_density(mu, s2, y);
    p.pit = uncertainty::gaussian_mixture_cdf(mu, s2, y);
  }
  return p;
}

Predictive normal_gamma_predictive(models::EnsembleNet& net, const at::Tensor& x, const at::Tensor& y, const Scale& s) {
  torch::NoGradGuard no_grad;
  net.eval();
  models::NormalGammaHead h = models::normal_gamma_head(net.forward(x).squeeze(0).to(at::kDouble).cpu());
  // tau scales by 1 / sd^2: the Gamma's rate by sd^2; kappa and alpha are unit-free.
  at::Tensor m = h.m * s.sd + s.mean, beta = h.beta * s.sd * s.sd;
  Predictive p{uncertainty::normal_gamma_measures(m, h.kappa, h.alpha, beta), {}, {}};
  if (y.defined()) {
    p.log_likelihood = uncertainty::normal_gamma_log_predictive(m, h.kappa, h.alpha, beta, y);
    p.pit = uncertainty::normal_gamma_predictive_cdf(m, h.kappa, h.alpha, beta, y);
  }
  return p;
}

// The member with the median test NLL (the lowest index among equals).
int64_t typical_member(const at::Tensor& means, const at::Tensor& variances, const at::Tensor& y) {
  at::Tensor nll = 0.5 * (at::log(2 * M_PI * variances) + (y.unsqueeze(1) - means).pow(2) / variances);
  at::Tensor per_member = nll.mean(0);
  at::Tensor order = std::get<1>(at::sort(per_member, /*stable=*/true, 0, false));
  return order[(order.size(0) - 1) / 2].item<int64_t>();
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
  gp << "set terminal pngcairo size 900,520\nset output outfile\nset datafile separator ','\n"
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

std::string markdown(const nlohmann::json& r) {
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

// Inputs as the networks take them: standardised rows on the device.
struct InputRows {
  data::Standardizer scaler;
  c10::Device device;
  at::Tensor operator()(const at::Tensor& x) const { return scaler.apply(x.to(at::kFloat).unsqueeze(1)).to(device); }
};

using Students = std::map<std::string, std::unique_ptr<models::MlpEnsemble>>;

models::MlpOptions mlp(const RegressionToyConfig& c, int64_t outputs) {
  return models::MlpOptions(1, outputs).hidden_layers(c.hidden_layers).width(c.width);
}

std::unique_ptr<models::MlpEnsemble> train_members(const RegressionToyConfig& c, const ToySets& d,
                                                   const InputRows& rows, const Scale& ys) {
  std::vector<uint64_t> init, order;
  for (int64_t m = 0; m < c.members; ++m) {
    init.push_back(derive_seed(c.seed, Stream::kMemberInit, uint64_t(m)));
    order.push_back(derive_seed(c.seed, Stream::kMemberOrder, uint64_t(m)));
  }
  auto ensemble = std::make_unique<models::MlpEnsemble>(mlp(c, 2), init);
  ensemble->to(rows.device);
  auto o = c.ensemble;
  o.quiet = c.quiet;
  o.objective = train::Objective::kGaussianNll;
  at::Tensor targets = ((d.y_train - ys.mean) / ys.sd).to(at::kFloat).to(rows.device);
  train::train_ensemble(*ensemble, rows(d.x_train), targets, order, o);
  return ensemble;
}

// EnD, EnD^2 and EnD^2+AUX learn the members' Gaussians (standardised units)
// on the training inputs, the last also on the AUX inputs.
Students train_students(const RegressionToyConfig& c, models::MlpEnsemble& ensemble, const ToySets& d,
                        const InputRows& rows) {
  at::Tensor transfer = rows(at::cat({d.x_train, d.aux}));
  auto [mu, s2] = gaussians(ensemble, transfer, Scale{});
  struct Spec {
    std::string name;
    train::RegressionMethod method;
    bool aux;
  };
  const std::vector<Spec> specs{{"end", train::RegressionMethod::kEnD, false},
                                {"end2", train::RegressionMethod::kEnD2, false},
                                {"end2_aux", train::RegressionMethod::kEnD2, true}};
  Students students;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    const int64_t outputs = spec.method == train::RegressionMethod::kEnD ? 2 : 4;
    auto student = std::make_unique<models::MlpEnsemble>(
        mlp(c, outputs), std::vector<uint64_t>{derive_seed(c.seed, Stream::kStudentInit, i)});
    student->to(rows.device);
    auto o = c.student;
    o.method = spec.method;
    o.order_seed = derive_seed(c.seed, Stream::kStudentOrder, i);
    o.quiet = c.quiet;
    o.label = "distill " + spec.name;
    const int64_t n = spec.aux ? transfer.size(0) : d.x_train.size(0);
    train::distill_regression(*student, transfer.slice(0, 0, n), mu.slice(0, 0, n), s2.slice(0, 0, n), o);
    students[spec.name] = std::move(student);
  }
  return students;
}

// Every model's predictive on the test points and the grid.
std::map<std::string, std::pair<Predictive, Predictive>> predictives(models::MlpEnsemble& ensemble, Students& students,
                                                                    const ToySets& d, const InputRows& rows,
                                                                    const Scale& ys) {
  std::map<std::string, std::pair<Predictive, Predictive>> out;
  out["ensemble"] = {gaussian_predictive(ensemble, rows(d.x_test), d.y_test, ys),
                     gaussian_predictive(ensemble, rows(d.grid), at::Tensor(), ys)};
  auto [mu, s2] = gaussians(ensemble, rows(d.x_test), ys);
  const int64_t typical = typical_member(mu, s2, d.y_test);
  auto single = [&](const at::Tensor& x, const at::Tensor& y) {
    auto [m, v] = gaussians(ensemble, rows(x), ys);
    m = m.slice(1, typical, typical + 1);
    v = v.slice(1, typical, typical + 1);
    Predictive p{uncertainty::gaussian_ensemble_measures(m, v), {}, {}};
    if (y.defined()) {
      p.log_likelihood = uncertainty::gaussian_mixture_log_density(m, v, y);
      p.pit = uncertainty::gaussian_mixture_cdf(m, v, y);
    }
    return p;
  };
  out["single"] = {single(d.x_test, d.y_test), single(d.grid, at::Tensor())};
  out["end"] = {gaussian_predictive(*students.at("end"), rows(d.x_test), d.y_test, ys),
                gaussian_predictive(*students.at("end"), rows(d.grid), at::Tensor(), ys)};
  for (const char* name : {"end2", "end2_aux"})
    out[name] = {normal_gamma_predictive(*students.at(name), rows(d.x_test), d.y_test, ys),
                 normal_gamma_predictive(*students.at(name), rows(d.grid), at::Tensor(), ys)};
  return out;
}

nlohmann::json report_toy(const RegressionToyConfig& c, const std::string& dir, const ToySets& d,
                          const std::map<std::string, std::pair<Predictive, Predictive>>& p) {
  nlohmann::json r;
  r["endd_version"] = kVersion;
  r["experiment"] = "regression-toy";
  r["task"] = "regression";
  r["seed"] = c.seed;
  r["config"] = c.to_json();
  ensure_writable_directory(dir + "/figures");
  report::write_csv(dir + "/figures/training.csv", {{"x", d.x_train}, {"y", d.y_train}});
  for (const auto* name : {"single", "ensemble", "end", "end2", "end2_aux"}) {
    const Predictive& test = p.at(name).first;
    r["models"][name] = report::regression_json(
        metrics::regression_metrics(test.measures.prediction, test.log_likelihood, test.pit, d.y_test));
    r["rejection"][name] = report::squared_error_rejection_json(test.measures, d.y_test);
    write_band_figure(dir, name, d.grid, p.at(name).second.measures, c.quiet);
  }
  for (const auto* name : {"end", "end2", "end2_aux"})
    r["grid"][name] = grid_json(d.grid, p.at(name).second.measures, p.at("ensemble").second.measures, c.far);
  return r;
}

}  // namespace

nlohmann::json run_regression_toy(const RegressionToyConfig& c, c10::Device device, const std::string& dir) {
  ENDD_CHECK(c.members >= 2 && c.train_count >= 2 && c.test_count >= 1 && c.aux_count >= 1 && c.grid_points >= 2,
             "regression-toy: needs members >= 2, train_count >= 2 and test, AUX and grid points");
  const auto t0 = std::chrono::steady_clock::now();
  ToySets d;
  std::tie(d.x_train, d.y_train) = toy_points(c.train_count, derive_seed(c.seed, Stream::kTrainData));
  std::tie(d.x_test, d.y_test) = toy_points(c.test_count, derive_seed(c.seed, Stream::kTestData));
  d.grid = at::linspace(-c.grid_extent, c.grid_extent, c.grid_points, at::kDouble);
  at::Generator g = cpu_generator(derive_seed(c.seed, Stream::kAuxData));
  d.aux = (at::rand({c.aux_count}, g, at::kDouble) * 2 - 1) * c.aux_extent;  // around and beyond the data
  const InputRows rows{data::Standardizer::fit(d.x_train.to(at::kFloat).unsqueeze(1)), device};
  const Scale ys{d.y_train.mean().item<double>(), d.y_train.std().item<double>()};
  auto ensemble = train_members(c, d, rows, ys);
  Students students = train_students(c, *ensemble, d, rows);
  nlohmann::json r = report_toy(c, dir, d, predictives(*ensemble, students, d, rows, ys));
  r["timing"] = {{"total_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
  report::write_json(dir + "/results.json", r);
  write_file_atomic(dir + "/results.md", markdown(r));
  return r;
}

}  // namespace endd::experiments
