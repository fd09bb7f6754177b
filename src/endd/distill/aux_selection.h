#pragma once
// Choosing AUX inputs by the ensemble's disagreement. AUX inputs exist to show
// the student where the members disagree (the paper, section 4); a candidate
// on which every member agrees only teaches it to be sure of an odd input.
// So more candidates are made than kept, and each kind keeps its candidates
// with the highest knowledge uncertainty (the members' mutual information).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace endd::distill {

/// Indices (ascending, int64) of the kept candidates. The candidates come in
/// consecutive groups (e.g. one per AUX kind) of `group_sizes`; group g keeps
/// its `keep[g]` candidates with the highest mutual information under the
/// members' logits `teacher_logits` [N, M, K] (ties: the earlier candidate).
/// Needs sum(group_sizes) = N and 0 <= keep[g] <= group_sizes[g].
at::Tensor select_most_disagreed(const at::Tensor& teacher_logits, const std::vector<int64_t>& group_sizes,
                                 const std::vector<int64_t>& keep);

}  // namespace endd::distill
