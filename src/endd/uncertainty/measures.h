#pragma once
// Per-input uncertainty of an ensemble ([N, M, K] member outputs) or of a
// Dirichlet prior network ([N, K] logits), MATH.md sections 1 and 2.
// Everything is computed in float64; results are float64 CPU tensors of shape [N].
#include <ATen/core/Tensor.h>

#include <optional>
#include <vector>

namespace endd::uncertainty {

/// Probabilities are floored at this value where (and only where) a logarithm
/// needs it (EPKL and NLL with exact zeros); 0 ln 0 is taken as 0 everywhere.
inline constexpr double kLogFloor = 1e-300;

/// Dirichlet logits are clamped to [-kMaxDirichletLogit, kMaxDirichletLogit] so
/// that alpha = exp(z) and its digamma/lgamma stay finite in float64.
inline constexpr double kMaxDirichletLogit = 300.0;

/// Every measure endd reports for a set of inputs. `mean_probs` is the
/// predictive distribution (pbar for an ensemble, alpha/alpha_0 for a Dirichlet).
struct Measures {
  at::Tensor mean_probs;  ///< [N, K]
  at::Tensor prediction;  ///< [N] int64, argmax of mean_probs
  at::Tensor confidence;  ///< [N] max_c mean_probs (high = certain)
  at::Tensor total;       ///< [N] H[mean_probs]
  at::Tensor data;        ///< [N] expected entropy
  at::Tensor knowledge;   ///< [N] mutual information, >= 0
  at::Tensor epkl;        ///< [N] expected pairwise KL
  std::optional<at::Tensor> diff_entropy;  ///< [N] Dirichlet models only
  std::optional<at::Tensor> precision;     ///< [N] alpha_0, Dirichlet models only

  int64_t size() const { return prediction.size(0); }
};

/// The measures of consecutive chunks of inputs as one set, in order (the
/// Dirichlet-only fields kept only if every part has them). At least one part.
Measures concatenate(const std::vector<Measures>& parts);

/// Ensemble measures from member probabilities `probs` [N, M, K] (rows on the
/// simplex). EPKL uses the 1/(M(M-1)) normaliser and is 0 for M = 1.
Measures ensemble_measures_from_probs(const at::Tensor& probs);

/// Ensemble measures from member logits [N, M, K]; logs are exact (log_softmax),
/// so no floor is needed.
Measures ensemble_measures_from_logits(const at::Tensor& logits);

/// Dirichlet prior-network measures from logits z [N, K], alpha = exp(z).
/// EPKL = (K - 1) / alpha_0.
Measures dirichlet_measures(const at::Tensor& logits);

}  // namespace endd::uncertainty
