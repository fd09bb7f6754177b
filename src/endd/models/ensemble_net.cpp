#include "endd/models/ensemble_net.h"

#include <ATen/ATen.h>

namespace endd::models {

int64_t EnsembleNet::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

at::Tensor EnsembleNet::member_part(size_t, const at::Tensor& parameter, int64_t member) const {
  return parameter.view({members(), -1})[member];
}

}  // namespace endd::models
