#include "endd/models/regression_heads.h"

#include <ATen/ATen.h>

#include "endd/core/error.h"

namespace endd::models {

GaussianHead gaussian_head(const at::Tensor& z) {
  ENDD_CHECK(z.size(-1) == 2, "a Gaussian head takes 2 outputs (mean, variance), got ", z.size(-1));
  return {z.select(-1, 0), at::softplus(z.select(-1, 1)) + kMinVariance};
}

const char* positive_link_name(PositiveLink link) { return link == PositiveLink::kExp ? "exp" : "softplus"; }

std::optional<PositiveLink> parse_positive_link(const std::string& name) {
  if (name == "exp") return PositiveLink::kExp;
  if (name == "softplus") return PositiveLink::kSoftplus;
  return std::nullopt;
}

NormalGammaHead normal_gamma_head(const at::Tensor& z, PositiveLink link) {
  ENDD_CHECK(z.size(-1) == 4, "a Normal-Gamma head takes 4 outputs (m, kappa, alpha, beta), got ", z.size(-1));
  auto positive = [link](const at::Tensor& raw) {
    return link == PositiveLink::kExp ? at::exp(raw.clamp(-kMaxLogParameter, kMaxLogParameter)) : at::softplus(raw);
  };
  return {z.select(-1, 0), positive(z.select(-1, 1)) + kNormalGammaFloor,
          1.0 + positive(z.select(-1, 2)) + kMinAlphaExcess, positive(z.select(-1, 3)) + kNormalGammaFloor};
}

}  // namespace endd::models
