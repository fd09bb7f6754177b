#include "endd/distill/aux_selection.h"

#include <ATen/ATen.h>

#include <numeric>

#include "endd/core/error.h"
#include "endd/uncertainty/measures.h"

namespace endd::distill {

at::Tensor select_most_disagreed(const at::Tensor& teacher_logits, const std::vector<int64_t>& group_sizes,
                                 const std::vector<int64_t>& keep) {
  ENDD_CHECK(teacher_logits.dim() == 3, "AUX selection: expected teacher logits [N, M, K], got ",
             teacher_logits.sizes());
  ENDD_CHECK(group_sizes.size() == keep.size(), "AUX selection: ", group_sizes.size(), " groups but ", keep.size(),
             " counts to keep");
  const int64_t n = std::accumulate(group_sizes.begin(), group_sizes.end(), int64_t{0});
  ENDD_CHECK(n == teacher_logits.size(0), "AUX selection: groups hold ", n, " candidates, the logits ",
             teacher_logits.size(0));
  const at::Tensor knowledge = uncertainty::ensemble_measures_from_logits(teacher_logits.cpu()).knowledge;
  std::vector<at::Tensor> kept;
  int64_t begin = 0;
  for (size_t g = 0; g < group_sizes.size(); ++g) {
    ENDD_CHECK(group_sizes[g] >= 0 && keep[g] >= 0 && keep[g] <= group_sizes[g], "AUX selection: group ", g,
               " of ", group_sizes[g], " candidates cannot keep ", keep[g]);
    // A stable sort keeps the earlier of equal candidates, so the choice is
    // the same on every machine that computes the same measures.
    at::Tensor order = std::get<1>(
        at::sort(knowledge.slice(0, begin, begin + group_sizes[g]), /*stable=*/true, /*dim=*/0, /*descending=*/true));
    kept.push_back(order.slice(0, 0, keep[g]) + begin);
    begin += group_sizes[g];
  }
  if (kept.empty()) return at::empty({0}, at::kLong);
  return std::get<0>(at::sort(at::cat(kept)));
}

at::Tensor chosen_image_aux(const at::Tensor& images, const at::Tensor& labels, int64_t count, int64_t oversample,
                            const std::vector<data::ImageAuxKind>& kinds, uint64_t seed,
                            const TeacherLogits& teacher_logits) {
  ENDD_CHECK(oversample >= 1, "AUX oversampling must be >= 1, got ", oversample);
  if (oversample == 1) return data::make_image_aux(images, labels, count, seed, kinds);
  const auto k = static_cast<int64_t>(kinds.size());
  const int64_t candidates = count * oversample;
  at::Tensor x = data::make_image_aux(images, labels, candidates, seed, kinds);
  at::Tensor kept = select_most_disagreed(teacher_logits(x), data::image_aux_counts(candidates, k),
                                          data::image_aux_counts(count, k));
  return x.index_select(0, kept);
}

}  // namespace endd::distill
