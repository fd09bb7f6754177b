#pragma once
// Early stopping for vectorised members: each member's weights at the epoch
// of its lowest validation NLL, kept while all members go on training in one
// graph. Every parameter of an EnsembleNet is member-major (dimension 0 holds
// the M members' blocks), so member m's slice is row m of param.view({M, -1}).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "endd/models/ensemble_net.h"

namespace endd::train {

struct BestMembers {
  std::vector<at::Tensor> params;  ///< per parameter: the best epoch's values of every member (CPU)
  at::Tensor nll;                  ///< [M] float64 best validation NLL so far (inf before any)
  at::Tensor epoch;                ///< [M] int64 0-based epoch of it (-1 before any)

  bool empty() const { return !nll.defined(); }
  /// Starts the record for `net` (no epoch seen yet).
  void reset(models::EnsembleNet& net);
  /// Records epoch `e`'s member NLLs [M]: members that improved take the
  /// current weights.
  void update(models::EnsembleNet& net, const at::Tensor& member_nll, int64_t e);
  /// True when, after epoch `e`, every member has gone `patience` epochs without improving.
  bool all_stopped(int64_t e, int64_t patience) const;
  /// Copies every member's best weights into `net`.
  void restore_into(models::EnsembleNet& net) const;
};

}  // namespace endd::train
