#pragma once
// Builds the sections of results.json (shared/reference/results-schema.md)
// from per-input measures and labels. Units: % for error, ECE, AUROC, AUPR,
// FPR and PRR; nats for NLL. Undefined values (NaN) are written as null.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "endd/metrics/classification.h"
#include "endd/uncertainty/measures.h"

namespace endd::report {

using nlohmann::json;

/// A float64 tensor [N] as a vector.
std::vector<double> to_vector(const at::Tensor& t);

/// The measures a model defines, each oriented as an uncertainty (high = less
/// certain): "confidence" is negated, Dirichlet models add "diff_entropy".
std::vector<std::pair<std::string, std::vector<double>>> uncertainty_scores(
    const uncertainty::Measures& m);

/// {error, nll, ece, ece_equal_mass, brier, count} of the predictive distribution.
json classification_json(const metrics::ClassificationResult& r);
metrics::ClassificationResult classify(const uncertainty::Measures& m, const at::Tensor& labels);

/// {measure: {auroc, prr}}: misclassified inputs are the positives.
json misclassification_json(const uncertainty::Measures& m, const at::Tensor& labels);

/// {measure: {auroc, aupr_in, aupr_out, fpr95}}: OOD inputs are the positives.
json ood_json(const uncertainty::Measures& in_domain, const uncertainty::Measures& ood);

/// The same from named scores (in-domain and OOD lists with the same names, in order).
using NamedScores = std::vector<std::pair<std::string, std::vector<double>>>;
json ood_json(const NamedScores& in_domain, const NamedScores& ood);

/// {agreement (% same prediction), count, knowledge_spearman, knowledge_pearson,
/// total_spearman, data_spearman, knowledge_mean_ratio, kl_to_ensemble, ...}
/// of a student against the ensemble it was distilled from, on one set.
json fidelity_json(const uncertainty::Measures& student, const uncertainty::Measures& ensemble);

double pearson(const std::vector<double>& a, const std::vector<double>& b);
double spearman(const std::vector<double>& a, const std::vector<double>& b);

/// Writes JSON (2-space indent, trailing newline) atomically.
void write_json(const std::string& path, const json& document);

}  // namespace endd::report
