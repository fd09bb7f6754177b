#pragma once
// The report of an image or tabular classification experiment: results.json,
// results.md and per model its figures (reliability, rejection, and for the
// models with knowledge uncertainty, per OOD set histograms and ROC).
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "endd/experiments/model_table.h"

namespace endd::experiments {

struct ReportSettings {
  std::string title;
  std::vector<std::string> ood_sets;
  /// Models whose OOD histograms and ROC curves are drawn (those with knowledge uncertainty).
  std::vector<std::string> ood_figure_models;
  int bootstrap = 200;
  uint64_t seed = 0;
  bool quiet = false;
  /// Reliability and rejection figures per model in figures/<model>/ (the
  /// spiral draws its own figures instead).
  bool model_figures = true;
  /// Markdown after the tables (what the figures are); "" = the model figures'.
  std::string notes;
  /// The paper's error per model, shown beside the results.
  std::map<std::string, double> paper_error;
};

/// Evaluates the table (ModelTable::evaluate), adds its sections and
/// r["timing"]["total_seconds"] to `r` (which holds the experiment's own
/// keys: config, stages, paper, ...), then writes DIR/results.json,
/// DIR/results.md and DIR/figures/<model>/. The one writer of the
/// experiments' results; returns them, for the command's summary.
report::ClassificationResults write_classification_report(nlohmann::json& r, const ModelTable& table,
                                                          const at::Tensor& test_labels,
                                                          const ReportSettings& settings, const std::string& dir,
                                                          double total_seconds);

}  // namespace endd::experiments
