#include "endd/experiments/model_table.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "endd/core/seeding.h"
#include "endd/metrics/bootstrap.h"
#include "endd/report/results.h"

namespace endd::experiments {
namespace {


std::array<double, 2> error_interval(const uncertainty::Measures& m, const at::Tensor& labels, int bootstrap,
                                     uint64_t seed) {
  auto errors = report::to_vector((m.prediction != labels).to(at::kDouble));
  auto ci = metrics::bootstrap_interval(
      static_cast<int64_t>(errors.size()),
      [&](const std::vector<int64_t>& idx) {
        double s = 0;
        for (auto i : idx) s += errors[static_cast<size_t>(i)];
        return 100.0 * s / double(idx.size());
      },
      bootstrap, derive_seed(seed, Stream::kBootstrap));
  return {ci.low, ci.high};
}

}  // namespace

MemberErrors member_errors(const at::Tensor& logits, const at::Tensor& labels) {
  MemberErrors e;
  at::Tensor wrong = (logits.argmax(2) != labels.unsqueeze(1)).to(at::kDouble).mean(0).mul(100);  // [M]
  e.error = report::to_vector(wrong);
  std::vector<double> sorted = e.error;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[(sorted.size() - 1) / 2];
  e.typical = std::find(e.error.begin(), e.error.end(), median) - e.error.begin();
  return e;
}

report::MemberErrorSummary MemberErrors::summary() const {
  const double n = static_cast<double>(error.size());
  double mean = 0, var = 0;
  for (double v : error) mean += v / n;
  for (double v : error) var += (v - mean) * (v - mean) / std::max(1.0, n - 1);
  return {typical, mean, std::sqrt(var), *std::min_element(error.begin(), error.end()),
          error[static_cast<size_t>(typical)], *std::max_element(error.begin(), error.end())};
}

std::vector<std::string> EvaluationSets::ood_names() const {
  std::vector<std::string> names;
  for (const auto& [name, x] : ood) names.push_back(name);
  return names;
}

std::map<std::string, at::Tensor> EvaluationSets::all() const {
  std::map<std::string, at::Tensor> sets{{"test", test.inputs}};
  for (const auto& [name, x] : ood) sets[name] = x;
  return sets;
}

void ModelTable::add(const std::string& model, int64_t m, int64_t p, double seconds) {
  order.push_back(model);
  members[model] = m;
  parameters[model] = p;
  train_seconds[model] = seconds;
}

void ModelTable::add_ensemble(const std::map<std::string, at::Tensor>& member_logits, const at::Tensor& test_labels,
                              int64_t parameters, double seconds) {
  const int64_t m = member_logits.at("test").size(1);
  add("single", 1, parameters / m, seconds / double(m));
  add("ensemble", m, parameters, seconds);
  const MemberErrors errors = experiments::member_errors(member_logits.at("test"), test_labels);
  member_errors = errors.summary();
  for (const auto& [set, z] : member_logits) {
    measures["ensemble"][set] = uncertainty::ensemble_measures_from_logits(z);
    measures["single"][set] = uncertainty::ensemble_measures_from_logits(z.slice(1, errors.typical, errors.typical + 1));
  }
}

report::ClassificationResults ModelTable::evaluate(const at::Tensor& test_labels,
                                                   const std::vector<std::string>& ood_sets, int bootstrap,
                                                   uint64_t seed) const {
  report::ClassificationResults r;
  r.order = order;
  r.ood_sets = ood_sets;
  r.member_errors = member_errors;
  for (const auto& set : ood_sets) r.ood[set];
  for (const auto& name : order) {
    if (!measures.count(name)) continue;
    const auto& sets = measures.at(name);
    const auto& test = sets.at("test");
    r.models[name] = {report::classify(test, test_labels), error_interval(test, test_labels, bootstrap, seed),
                      members.at(name), parameters.at(name), train_seconds.at(name)};
    r.misclassification[name] = report::misclassification(test, test_labels);
    for (const auto& set : ood_sets) r.ood[set][name] = report::detection(test, sets.at(set));
    if (name != "single" && name != "ensemble" && measures.count("ensemble")) {
      const auto& ens = measures.at("ensemble");
      r.fidelity[name]["test"] = report::fidelity(test, ens.at("test"));
      for (const auto& set : ood_sets) r.fidelity[name][set] = report::fidelity(sets.at(set), ens.at(set));
    }
  }
  return r;
}

}  // namespace endd::experiments
