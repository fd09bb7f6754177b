#pragma once
// Export of a finished run as a self-contained TorchScript module, loadable
// with torch.jit.load in Python or torch::jit::load in C++ (no endd needed).
#include <string>

#include "endd/runs/run_directory.h"

namespace endd::exporting {

/// Writes `path` (atomically). forward(x: Tensor[N, D] float32, raw features)
/// returns Dict[str, Tensor]: "probs" [N, K], "prediction", "confidence",
/// "total", "data", "knowledge", "epkl" [N] (float64), plus "alpha0" and
/// "diff_entropy" for Dirichlet (EnD^2) models and "member_probs" [N, M, K]
/// for ensembles: the same numbers as `endd predict`. A regression run
/// returns "prediction", "total_variance", "data_variance",
/// "knowledge_variance" and the predictive's parameters: "m", "kappa",
/// "alpha", "beta" of a Normal-Gamma student, "member_means" and
/// "member_variances" [N, M] of Gaussians; "total", "data", "knowledge"
/// (nats) for Normal-Gamma and single-Gaussian models (an ensemble's mixture
/// entropy is numerical, `endd predict` only).
void export_torchscript(const runs::LoadedModel& model, const std::string& path);

}  // namespace endd::exporting
