#include "endd/train/best_members.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <limits>
#include <vector>

#include "endd/core/error.h"

namespace endd::train {
void BestMembers::reset(models::EnsembleNet& net) {
  const int64_t m = net.members();
  params.clear();
  for (const auto& p : net.parameters()) params.push_back(p.detach().cpu().clone());
  nll = at::full({m}, std::numeric_limits<double>::infinity(), at::kDouble);
  epoch = at::full({m}, -1, at::kLong);
}

void BestMembers::update(models::EnsembleNet& net, const at::Tensor& member_nll, int64_t e) {
  ENDD_ASSERT(!empty() && member_nll.numel() == nll.numel());
  at::Tensor current = member_nll.detach().cpu().to(at::kDouble);
  at::Tensor improved = (current < nll).nonzero().flatten();
  if (improved.numel() == 0) return;
  nll.index_copy_(0, improved, current.index_select(0, improved));
  epoch.index_fill_(0, improved, e);
  auto live = net.parameters();
  for (int64_t m : std::vector<int64_t>(improved.data_ptr<int64_t>(), improved.data_ptr<int64_t>() + improved.numel()))
    for (size_t i = 0; i < live.size(); ++i) {
      at::Tensor from = net.member_part(i, live[i].detach(), m);
      if (from.defined()) net.member_part(i, params[i], m).copy_(from);
    }
}

bool BestMembers::all_stopped(int64_t e, int64_t patience) const {
  return !empty() && (epoch.ge(0) & (epoch + patience).le(e)).all().item<bool>();
}

void BestMembers::restore_into(models::EnsembleNet& net) const {
  ENDD_ASSERT(!empty());
  torch::NoGradGuard no_grad;
  auto live = net.parameters();
  ENDD_ASSERT(live.size() == params.size());
  for (size_t i = 0; i < live.size(); ++i) live[i].copy_(params[i].to(live[i].device()));
}

}  // namespace endd::train
