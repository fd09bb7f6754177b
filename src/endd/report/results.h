#pragma once
// What the results (classification_results.h, regression_results.h) are
// built from: measures as score vectors, correlations, and the JSON writer.
// Undefined values (NaN) are written as null.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "endd/metrics/classification.h"
#include "endd/uncertainty/measures.h"

namespace endd::report {

using nlohmann::json;

/// A float64 tensor [N] as a vector.
std::vector<double> to_vector(const at::Tensor& t);

/// Scores per input, by name.
using NamedScores = std::vector<std::pair<std::string, std::vector<double>>>;

/// The measures a model defines, each oriented as an uncertainty (high = less
/// certain): "confidence" is negated, Dirichlet models add "diff_entropy".
NamedScores uncertainty_scores(const uncertainty::Measures& m);

/// The predictive distribution's figures against `labels` (classification_results.h writes them).
metrics::ClassificationResult classify(const uncertainty::Measures& m, const at::Tensor& labels);

double pearson(const std::vector<double>& a, const std::vector<double>& b);
double spearman(const std::vector<double>& a, const std::vector<double>& b);

/// Writes JSON (2-space indent, trailing newline) atomically.
void write_json(const std::string& path, const json& document);

}  // namespace endd::report
