#include "endd/report/regression_results.h"

#include <ATen/ATen.h>

#include "endd/report/csv_writer.h"

namespace endd::report {

NamedScores regression_scores(const uncertainty::RegressionMeasures& m) {
  return {{"total_variance", to_vector(m.total_variance)},
          {"data_variance", to_vector(m.data_variance)},
          {"knowledge_variance", to_vector(m.knowledge_variance)},
          {"total", to_vector(m.total)},
          {"data", to_vector(m.data)},
          {"knowledge", to_vector(m.knowledge)}};
}

json regression_json(const metrics::RegressionResult& r) {
  return json{{"rmse", r.rmse},
              {"nll", r.nll},
              {"coverage_50", r.coverage_50},
              {"coverage_90", r.coverage_90},
              {"coverage_95", r.coverage_95},
              {"calibration_error", r.calibration_error},
              {"count", r.count}};
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

json regression_json(const uncertainty::RegressionPredictive& p, const at::Tensor& targets) {
  return regression_json(metrics::regression_metrics(p.measures.prediction, p.log_likelihood, p.pit, targets));
}

json squared_error_rejection_json(const uncertainty::RegressionMeasures& m, const at::Tensor& targets) {
  const std::vector<double> loss = to_vector((m.prediction - targets.to(at::kDouble)).pow(2));
  json out = json::object();
  for (const auto& [name, score] : regression_scores(m)) out[name] = {{"prr", metrics::loss_rejection(score, loss).prr}};
  return out;
}

}  // namespace endd::report
