#pragma once
// Choosing AUX inputs by the ensemble's disagreement. AUX inputs exist to show
// the student where the members disagree (the paper, section 4); a candidate
// on which every member agrees only teaches it to be sure of an odd input.
// So more candidates are made than kept, and each kind keeps its candidates
// with the highest knowledge uncertainty (the members' mutual information).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "endd/data/image_aux.h"

namespace endd::distill {

/// Indices (ascending, int64) of the kept candidates. The candidates come in
/// consecutive groups (e.g. one per AUX kind) of `group_sizes`; group g keeps
/// its `keep[g]` candidates with the highest mutual information under the
/// members' logits `teacher_logits` [N, M, K] (ties: the earlier candidate).
/// Needs sum(group_sizes) = N and 0 <= keep[g] <= group_sizes[g].
at::Tensor select_most_disagreed(const at::Tensor& teacher_logits, const std::vector<int64_t>& group_sizes,
                                 const std::vector<int64_t>& keep);

/// The members' logits [N, M, K] on images [N, C, H, W].
using TeacherLogits = std::function<at::Tensor(const at::Tensor& images)>;

/// `count` AUX images [count, C, H, W] made from training `images` and
/// `labels` (data/image_aux.h: `kinds` in equal shares, from `seed`). With
/// `oversample` F > 1, F x count candidates are made and each kind keeps its
/// share on which the teacher's members disagree most.
at::Tensor chosen_image_aux(const at::Tensor& images, const at::Tensor& labels, int64_t count, int64_t oversample,
                            const std::vector<data::ImageAuxKind>& kinds, uint64_t seed,
                            const TeacherLogits& teacher_logits);

}  // namespace endd::distill
