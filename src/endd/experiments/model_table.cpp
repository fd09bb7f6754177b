#include "endd/experiments/model_table.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "endd/core/seeding.h"
#include "endd/metrics/bootstrap.h"
#include "endd/report/results.h"

namespace endd::experiments {
namespace {

using nlohmann::json;

std::string fmt(const json& v, int digits = 2) {
  if (!v.is_number() || std::isnan(v.get<double>())) return "n/a";
  char buf[48];
  // A ratio over a near-zero mean (a far set where every member agrees) would
  // print 30 digits; beyond a million, 3 significant digits say as much.
  const double x = v.get<double>();
  if (std::fabs(x) < 1e6) {
    std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  } else {
    std::snprintf(buf, sizeof buf, "%.3e", x);
  }
  return buf;
}

json error_interval(const uncertainty::Measures& m, const at::Tensor& labels, int bootstrap, uint64_t seed) {
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

json MemberErrors::to_json() const {
  const double n = static_cast<double>(error.size());
  double mean = 0, var = 0;
  for (double v : error) mean += v / n;
  for (double v : error) var += (v - mean) * (v - mean) / std::max(1.0, n - 1);
  return {{"typical_member", typical},
          {"mean", mean},
          {"std", std::sqrt(var)},
          {"min", *std::min_element(error.begin(), error.end())},
          {"median", error[static_cast<size_t>(typical)]},
          {"max", *std::max_element(error.begin(), error.end())}};
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
  member_errors = errors.to_json();
  for (const auto& [set, z] : member_logits) {
    measures["ensemble"][set] = uncertainty::ensemble_measures_from_logits(z);
    measures["single"][set] = uncertainty::ensemble_measures_from_logits(z.slice(1, errors.typical, errors.typical + 1));
  }
}

void add_evaluation_sections(json& r, const ModelTable& t, const at::Tensor& test_labels,
                             const std::vector<std::string>& ood_sets, int bootstrap, uint64_t seed) {
  if (!t.member_errors.is_null()) r["member_errors"] = t.member_errors;
  r["models"] = json::object();
  r["misclassification"] = json::object();
  r["ood"] = json::object();
  for (const auto& set : ood_sets) r["ood"][set] = json::object();
  r["fidelity"] = json::object();
  for (const auto& name : t.order) {
    if (!t.measures.count(name)) continue;
    const auto& sets = t.measures.at(name);
    const auto& test = sets.at("test");
    json m = report::classification_json(report::classify(test, test_labels));
    m["error_ci95"] = error_interval(test, test_labels, bootstrap, seed);
    m["members"] = t.members.at(name);
    m["parameters"] = t.parameters.at(name);
    m["train_seconds"] = t.train_seconds.at(name);
    r["models"][name] = m;
    r["misclassification"][name] = report::misclassification_json(test, test_labels);
    for (const auto& set : ood_sets) r["ood"][set][name] = report::ood_json(test, sets.at(set));
    if (name != "single" && name != "ensemble" && t.measures.count("ensemble")) {
      const auto& ens = t.measures.at("ensemble");
      r["fidelity"][name]["test"] = report::fidelity_json(test, ens.at("test"));
      for (const auto& set : ood_sets) r["fidelity"][name][set] = report::fidelity_json(sets.at(set), ens.at(set));
    }
  }
}

std::string results_markdown(const json& r, const std::string& title, const ModelTable& t,
                             const std::vector<std::string>& ood_sets) {
  std::ostringstream md;
  md << "# " << title << "\n\nTest error in % (95% bootstrap interval)"
     << (r.contains("paper") ? "; paper figures from Malinin et al. (2019)" : "")
     << ". Misclassification detection by total uncertainty; OOD detection AUROC by knowledge uncertainty.\n\n"
     << "| model | error | 95% CI | paper error | NLL | ECE | Brier | misc. AUROC | PRR |";
  for (const auto& set : ood_sets) md << " " << set << " AUROC |";
  md << "\n|---|---|---|---|---|---|---|---|---|";
  for (size_t i = 0; i < ood_sets.size(); ++i) md << "---|";
  md << "\n";
  for (const auto& name : t.order) {
    if (!r["models"].contains(name)) continue;
    const auto& m = r["models"][name];
    json paper = r.contains("paper") && r["paper"].contains("error") && r["paper"]["error"].contains(name)
                     ? r["paper"]["error"][name]
                     : json();
    md << "| " << name << " | " << fmt(m["error"]) << " | " << fmt(m["error_ci95"][0]) << " - "
       << fmt(m["error_ci95"][1]) << " | " << (paper.is_number() ? fmt(paper) : "-") << " | " << fmt(m["nll"], 3)
       << " | " << fmt(m["ece"]) << " | " << fmt(m["brier"], 3) << " | "
       << fmt(r["misclassification"][name]["total"]["auroc"]) << " | "
       << fmt(r["misclassification"][name]["total"]["prr"]) << " |";
    for (const auto& set : ood_sets) md << " " << fmt(r["ood"][set][name]["knowledge"]["auroc"]) << " |";
    md << "\n";
  }
  if (r.contains("member_errors")) {
    const auto& e = r["member_errors"];
    md << "\n`single` is member " << e["typical_member"] << ", the typical member (median test error). All "
       << r["models"]["ensemble"]["members"] << " members: mean " << fmt(e["mean"]) << " (sd " << fmt(e["std"])
       << "), range " << fmt(e["min"]) << " - " << fmt(e["max"]) << ".\n";
  }
  md << "\nFidelity to the ensemble's knowledge uncertainty per input (Spearman / Pearson; mean ratio = student's "
        "mean over the ensemble's):\n\n| student | test Spearman | test Pearson | KL to ensemble (test) |";
  for (const auto& set : ood_sets) md << " " << set << " Spearman | " << set << " Pearson | " << set << " mean ratio |";
  md << "\n|---|---|---|---|";
  for (size_t i = 0; i < ood_sets.size(); ++i) md << "---|---|---|";
  md << "\n";
  for (const auto& [name, f] : r["fidelity"].items()) {
    md << "| " << name << " | " << fmt(f["test"]["knowledge_spearman"], 3) << " | "
       << fmt(f["test"]["knowledge_pearson"], 3) << " | " << fmt(f["test"]["kl_to_ensemble"], 4) << " |";
    for (const auto& set : ood_sets)
      md << " " << fmt(f[set]["knowledge_spearman"], 3) << " | " << fmt(f[set]["knowledge_pearson"], 3) << " | "
         << fmt(f[set]["knowledge_mean_ratio"], 3) << " |";
    md << "\n";
  }
  return md.str();
}

}  // namespace endd::experiments
