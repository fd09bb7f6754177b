#pragma once
// The standard evaluation figures of `endd evaluate`, each a PNG with its CSV.
#include <string>
#include <vector>

#include "endd/uncertainty/measures.h"

namespace endd::report {

/// reliability.{csv,png}: accuracy vs confidence in 15 equal-width bins.
void write_reliability_figure(const std::string& dir, const uncertainty::Measures& m, const at::Tensor& labels,
                              bool quiet);

/// rejection.{csv,png}: error vs rejected fraction for total and knowledge
/// uncertainty, with the oracle and random curves; PRR in the legend.
void write_rejection_figure(const std::string& dir, const uncertainty::Measures& m, const at::Tensor& labels,
                            bool quiet);

/// ood_<name>_hist.{csv,png} and ood_<name>_roc.{csv,png}: knowledge (and
/// total) uncertainty in-domain vs the OOD set, and their ROC curves.
void write_ood_figures(const std::string& dir, const std::string& name, const uncertainty::Measures& in_domain,
                       const uncertainty::Measures& ood, bool quiet);

}  // namespace endd::report
