#include "endd/data/image_transforms.h"

#include <ATen/ATen.h>

#include "endd/core/error.h"
#include "endd/core/seeding.h"

namespace endd::data {

at::Tensor random_crop_flip(const at::Tensor& images, int64_t pad, bool flip, uint64_t seed) {
  ENDD_CHECK(images.dim() >= 3, "augmentation needs images [..., C, H, W], got ", images.sizes());
  auto shape = images.sizes().vec();
  const int64_t C = shape[shape.size() - 3], H = shape[shape.size() - 2], W = shape[shape.size() - 1];
  at::Tensor x = images.reshape({-1, C, H, W});
  const int64_t n = x.size(0);
  at::Generator g = cpu_generator(seed);
  at::Tensor out = x;
  if (pad > 0) {
    at::Tensor padded = at::constant_pad_nd(x, {pad, pad, pad, pad}, 0.0);
    at::Tensor dy = at::randint(0, 2 * pad + 1, {n}, g, at::kLong).to(x.device());
    at::Tensor dx = at::randint(0, 2 * pad + 1, {n}, g, at::kLong).to(x.device());
    auto opts = at::TensorOptions().dtype(at::kLong).device(x.device());
    at::Tensor rows = (dy.view({n, 1, 1, 1}) + at::arange(H, opts).view({1, 1, H, 1})).expand({n, C, H, W + 2 * pad});
    out = padded.gather(2, rows);
    at::Tensor cols = (dx.view({n, 1, 1, 1}) + at::arange(W, opts).view({1, 1, 1, W})).expand({n, C, H, W});
    out = out.gather(3, cols);
  }
  if (flip) {
    at::Tensor mask = (at::rand({n}, g) < 0.5).to(x.device()).view({n, 1, 1, 1});
    out = at::where(mask, out.flip({3}), out);
  }
  return out.reshape(shape);
}

at::Tensor uniform_noise_images(int64_t count, at::IntArrayRef chw, uint64_t seed) {
  at::Generator g = cpu_generator(seed);
  std::vector<int64_t> shape{count};
  shape.insert(shape.end(), chw.begin(), chw.end());
  return at::rand(shape, g);
}

at::Tensor gaussian_noise_images(int64_t count, at::IntArrayRef chw, uint64_t seed) {
  at::Generator g = cpu_generator(seed);
  std::vector<int64_t> shape{count};
  shape.insert(shape.end(), chw.begin(), chw.end());
  return (at::randn(shape, g) * 0.25 + 0.5).clamp(0, 1);
}

}  // namespace endd::data
