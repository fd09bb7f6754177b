#include "endd/models/regression_outputs.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <vector>

#include "endd/core/error.h"
#include "endd/models/regression_heads.h"

namespace endd::models {
namespace {

// The network's raw outputs [N, M, outputs] in float64 on the CPU.
at::Tensor raw_outputs(EnsembleNet& net, const at::Tensor& x, int64_t batch) {
  ENDD_CHECK(batch >= 1, "inference batch must be >= 1, got ", batch);
  torch::NoGradGuard no_grad;
  net.eval();
  const auto device = net.parameters().front().device();
  std::vector<at::Tensor> parts;
  for (int64_t start = 0; start < x.size(0); start += batch)
    parts.push_back(net.forward(x.slice(0, start, std::min(x.size(0), start + batch)).to(device))
                        .to(at::kDouble)
                        .cpu()
                        .transpose(0, 1));
  if (parts.empty()) return at::zeros({0, net.members(), net.num_classes()}, at::kDouble);
  return at::cat(parts, 0);
}

}  // namespace

TargetScale TargetScale::fit(const at::Tensor& targets) {
  ENDD_CHECK(targets.numel() >= 1, "no targets to scale");
  at::Tensor y = targets.to(at::kDouble);
  const double sd = targets.numel() >= 2 ? y.std().item<double>() : 0.0;
  return {y.mean().item<double>(), sd > 0 && std::isfinite(sd) ? sd : 1.0};
}

MemberGaussians member_gaussians(EnsembleNet& net, const at::Tensor& x, const TargetScale& s, int64_t batch) {
  GaussianHead h = gaussian_head(raw_outputs(net, x, batch));  // [N, M]
  return {(h.mean * s.sd + s.mean).contiguous(), (h.variance * (s.sd * s.sd)).contiguous()};
}

uncertainty::NormalGammaParams normal_gamma_outputs(EnsembleNet& net, const at::Tensor& x, const TargetScale& s,
                                                    PositiveLink link, int64_t batch) {
  ENDD_CHECK(net.members() == 1, "a Normal-Gamma prior network is one network, got ", net.members(), " members");
  NormalGammaHead h = normal_gamma_head(raw_outputs(net, x, batch).squeeze(1), link);
  return {h.m * s.sd + s.mean, h.kappa, h.alpha, h.beta * (s.sd * s.sd)};
}

}  // namespace endd::models
