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
/// for ensembles: the same numbers as `endd predict`.
void export_torchscript(const runs::LoadedModel& model, const std::string& path);

}  // namespace endd::exporting
