#include "endd/report/regression_results.h"

#include <ATen/ATen.h>

#include "endd/report/csv_writer.h"

namespace endd::report {

using nlohmann::json;

NamedScores regression_scores(const uncertainty::RegressionMeasures& m) {
  return {{"total_variance", to_vector(m.total_variance)},
          {"data_variance", to_vector(m.data_variance)},
          {"knowledge_variance", to_vector(m.knowledge_variance)},
          {"total", to_vector(m.total)},
          {"data", to_vector(m.data)},
          {"knowledge", to_vector(m.knowledge)}};
}

metrics::RegressionResult regression_metrics(const uncertainty::RegressionPredictive& p, const at::Tensor& targets) {
  return metrics::regression_metrics(p.measures.prediction, p.log_likelihood, p.pit, targets);
}

ByMeasure<double> squared_error_rejection(const uncertainty::RegressionMeasures& m, const at::Tensor& targets) {
  const std::vector<double> loss = to_vector((m.prediction - targets.to(at::kDouble)).pow(2));
  ByMeasure<double> out;
  for (const auto& [name, score] : regression_scores(m)) out.emplace_back(name, metrics::loss_rejection(score, loss).prr);
  return out;
}

json to_json(const metrics::RegressionResult& r) {
  return json{{"rmse", r.rmse},
              {"nll", r.nll},
              {"coverage_50", r.coverage_50},
              {"coverage_90", r.coverage_90},
              {"coverage_95", r.coverage_95},
              {"calibration_error", r.calibration_error},
              {"count", r.count}};
}

json to_json(const RegressionRow& row) {
  json m = to_json(row.test);
  if (row.members) m["members"] = *row.members;
  if (row.parameters) m["parameters"] = *row.parameters;
  return m;
}

json rejection_json(const ByMeasure<double>& prr) {
  json out = json::object();
  for (const auto& [name, v] : prr) out[name] = {{"prr", v}};
  return out;
}

void RegressionResults::write_sections(json& r) const {
  for (const auto& name : order) {
    if (models.count(name)) r["models"][name] = to_json(models.at(name));
    if (rejection.count(name)) r["rejection"][name] = rejection_json(rejection.at(name));
  }
  if (!ood) return;
  r["ood"] = json::object();
  for (const auto& [set, per_model] : *ood)
    for (const auto& [name, figures] : per_model) r["ood"][set][name] = to_json(figures);
}

void write_regression_measures_csv(const std::string& path, const uncertainty::RegressionMeasures& m) {
  write_csv(path, {{"prediction", m.prediction},
                   {"total_variance", m.total_variance},
                   {"data_variance", m.data_variance},
                   {"knowledge_variance", m.knowledge_variance},
                   {"total", m.total},
                   {"data", m.data},
                   {"knowledge", m.knowledge}});
}

}  // namespace endd::report
