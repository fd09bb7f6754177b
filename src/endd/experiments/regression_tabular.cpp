#include "endd/experiments/regression_tabular.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <map>
#include <sstream>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/core/progress.h"
#include "endd/core/seeding.h"
#include "endd/core/version.h"
#include "endd/data/regression_datasets.h"
#include "endd/metrics/regression.h"
#include "endd/report/regression_results.h"
#include "endd/report/results.h"

namespace endd::experiments {

nlohmann::json RegressionTabularConfig::to_json() const {
  nlohmann::json j = models.to_json();
  j.update({{"seed", models.seed}, {"datasets", datasets}, {"splits", splits}, {"test_fraction", test_fraction},
            {"aux_scale", aux_scale}});
  return j;
}

namespace {

// The figures kept per split and summarised over splits.
const char* const kSummaryKeys[] = {"rmse", "nll", "calibration_error", "coverage_90", "prr_total_variance"};

nlohmann::json split_metrics(const uncertainty::RegressionPredictive& p, const at::Tensor& targets) {
  nlohmann::json j = report::to_json(report::regression_metrics(p, targets));
  j["prr_total_variance"] = report::squared_error_rejection(p.measures, targets).front().second;  // total_variance
  return j;
}

// {key: {mean, standard_error}} over the splits' figures.
nlohmann::json summarise(const std::vector<nlohmann::json>& splits) {
  nlohmann::json out;
  for (const char* key : kSummaryKeys) {
    std::vector<double> v;
    for (const auto& s : splits)
      if (s[key].is_number()) v.push_back(s[key].get<double>());
    double mean = 0, var = 0;
    for (double x : v) mean += x / double(v.size());
    for (double x : v) var += (x - mean) * (x - mean) / double(std::max<size_t>(1, v.size() - 1));
    out[key] = {{"mean", v.empty() ? NAN : mean},
                {"standard_error", v.size() < 2 ? NAN : std::sqrt(var / double(v.size()))}};
  }
  return out;
}

// Each model's figures on one split, and its PIT values there (pooled over
// splits for a calibration error that is not dominated by the noise of a
// 10% test set: with 45 targets, one coverage has a standard deviation of ~7 points).
struct SplitResult {
  nlohmann::json metrics;
  std::map<std::string, at::Tensor> pit;
};

// One split: a seeded permutation, the first ceil(test_fraction N) rows for test.
SplitResult run_split(const RegressionTabularConfig& c, const data::Dataset& d, int64_t split, c10::Device device) {
  const uint64_t seed = derive_seed(c.models.seed, Stream::kValidationSplit, uint64_t(split));
  at::Generator g = cpu_generator(seed);
  const int64_t n = d.size();
  const int64_t test = std::clamp<int64_t>(int64_t(std::ceil(c.test_fraction * double(n))), 1, n - 2);
  at::Tensor perm = at::randperm(n, g, at::kLong);
  at::Tensor test_rows = perm.slice(0, 0, test), train_rows = perm.slice(0, test);
  at::Tensor x_train = d.inputs.index_select(0, train_rows), y_train = d.targets.index_select(0, train_rows);
  at::Tensor x_test = d.inputs.index_select(0, test_rows), y_test = d.targets.index_select(0, test_rows);
  data::Standardizer scale = data::Standardizer::fit(x_train);
  at::Generator aux_g = cpu_generator(derive_seed(seed, Stream::kAuxData));
  at::Tensor aux = scale.invert(c.aux_scale * at::randn({x_train.size(0), x_train.size(1)}, aux_g, at::kFloat));
  RegressionModelOptions o = c.models;
  o.seed = seed;
  o.quiet = true;  // one progress line for the whole experiment
  RegressionModels models = train_regression_models(o, x_train, y_train, aux, device);
  typical_member(models, x_test, y_test);
  SplitResult out;
  for (const auto& [name, p] : regression_predictives(models, x_test, y_test)) {
    out.metrics[name] = split_metrics(p, y_test);
    out.pit[name] = p.pit;
  }
  return out;
}

std::string cell(const nlohmann::json& s, int precision = 2) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(precision);
  if (!s["mean"].is_number()) return "-";
  o << s["mean"].get<double>();
  if (s["standard_error"].is_number()) o << " ± " << s["standard_error"].get<double>();
  return o.str();
}

std::string number(const nlohmann::json& v) {
  if (!v.is_number()) return "-";
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << v.get<double>();
  return o.str();
}

std::string tabular_markdown(const nlohmann::json& r) {
  std::ostringstream md;
  md << "# Regression on real tables\n\n" << r["config"]["splits"] << " random splits, "
     << r["config"]["test_fraction"].get<double>() * 100 << "% test; mean ± standard error over the splits. "
     << "NLL of each model's own predictive (nats, user units); calibration error and coverage in % points "
        "(pooled: the calibration error of all splits' test targets together); "
        "PRR by squared error, rejecting by total variance.\n";
  for (const auto& [name, set] : r["datasets"].items()) {
    md << "\n## " << name << " (" << set["rows"] << " rows, " << set["features"] << " features)\n\n"
       << "| model | RMSE | NLL | calibration error | pooled | coverage 90% | PRR |\n|---|---|---|---|---|---|---|\n";
    for (const char* model : kRegressionModelNames) {
      const auto& s = set["summary"][model];
      md << "| " << model << " | " << cell(s["rmse"]) << " | " << cell(s["nll"], 3) << " | "
         << cell(s["calibration_error"]) << " | " << number(s["pooled_calibration_error"]) << " | "
         << cell(s["coverage_90"]) << " | " << cell(s["prr_total_variance"])
         << " |\n";
    }
  }
  return md.str();
}

}  // namespace

nlohmann::json run_regression_tabular(const RegressionTabularConfig& c, c10::Device device, const std::string& dir) {
  ENDD_CHECK(c.splits >= 1 && c.test_fraction > 0 && c.test_fraction < 1 && !c.datasets.empty(),
             "regression-tabular: needs splits >= 1, 0 < test_fraction < 1 and a data set");
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<data::Dataset> sets;  // all read (and checked) before any training
  for (const auto& name : c.datasets) sets.push_back(data::load_regression_dataset(name));
  nlohmann::json r;
  r["endd_version"] = kVersion;
  r["experiment"] = "regression-tabular";
  r["task"] = "regression";
  r["seed"] = c.models.seed;
  r["config"] = c.to_json();
  Progress progress("regression-tabular", int64_t(sets.size()) * c.splits, "splits", c.models.quiet);
  int64_t done = 0;
  for (const auto& d : sets) {
    ENDD_CHECK(d.size() >= 4, d.name, ": ", d.size(), " rows; a train/test split needs at least 4");
    std::map<std::string, std::vector<nlohmann::json>> per_model;
    std::map<std::string, std::vector<at::Tensor>> pits;
    nlohmann::json splits = nlohmann::json::array();
    for (int64_t s = 0; s < c.splits; ++s) {
      SplitResult m = run_split(c, d, s, device);
      for (const char* name : kRegressionModelNames) {
        per_model[name].push_back(m.metrics[name]);
        pits[name].push_back(m.pit[name]);
      }
      splits.push_back(m.metrics);
      progress.update(++done, d.name);
    }
    nlohmann::json& set = r["datasets"][d.name];
    set["rows"] = d.size();
    set["features"] = d.inputs.size(1);
    set["splits"] = splits;
    for (const char* name : kRegressionModelNames) {
      set["summary"][name] = summarise(per_model[name]);
      set["summary"][name]["pooled_calibration_error"] = metrics::coverage_calibration_error(at::cat(pits[name]));
    }
  }
  progress.finish();
  r["timing"] = {{"total_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
  report::write_json(dir + "/results.json", r);
  write_file_atomic(dir + "/results.md", tabular_markdown(r));
  return r;
}

}  // namespace endd::experiments
