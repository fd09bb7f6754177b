#include "endd/distill/teacher_cache.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "endd/core/error.h"

namespace endd::distill {

at::Tensor compute_teacher_logits(models::EnsembleNet& ensemble, const at::Tensor& inputs, int64_t batch_size) {
  ENDD_CHECK(batch_size >= 1, "teacher batch size must be >= 1");
  torch::NoGradGuard no_grad;
  bool was_training = ensemble.is_training();
  ensemble.eval();
  auto device = ensemble.parameters().front().device();
  std::vector<at::Tensor> parts;
  for (int64_t s = 0; s < inputs.size(0); s += batch_size) {
    at::Tensor x = inputs.slice(0, s, std::min(inputs.size(0), s + batch_size)).to(device);
    parts.push_back(ensemble.forward(x).transpose(0, 1).contiguous());  // [b, M, K]
  }
  ensemble.train(was_training);
  if (parts.empty())
    return at::empty({0, ensemble.members(), ensemble.num_classes()}, at::TensorOptions().device(device));
  return at::cat(parts, 0);
}

}  // namespace endd::distill
