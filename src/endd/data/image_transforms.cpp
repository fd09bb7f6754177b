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

at::Tensor make_image_aux(const at::Tensor& images, const at::Tensor& labels, int64_t count, uint64_t seed) {
  ENDD_CHECK(images.dim() == 4 && images.size(0) >= 2, "AUX needs at least 2 training images [N, C, H, W]");
  ENDD_CHECK(count >= 3, "AUX count must be >= 3, got ", count);
  at::Generator g = cpu_generator(seed);
  const int64_t n = images.size(0), per = count / 3;
  // 1. Mixtures of two images of different classes.
  at::Tensor a = at::randint(0, n, {per}, g, at::kLong), b = at::randint(0, n, {per}, g, at::kLong);
  at::Tensor same = labels.index_select(0, a) == labels.index_select(0, b);
  b = at::where(same, (b + 1 + at::randint(0, n - 1, {per}, g, at::kLong)) % n, b);  // reroll most clashes
  at::Tensor w = (at::rand({per, 1, 1, 1}, g) * 0.4 + 0.3);
  at::Tensor mixes = images.index_select(0, a) * w + images.index_select(0, b) * (1 - w);
  // 2. Heavy Gaussian corruption.
  at::Tensor c = images.index_select(0, at::randint(0, n, {per}, g, at::kLong));
  at::Tensor noisy = (c + at::randn(c.sizes(), g) * 0.5).clamp(0, 1);
  // 3. Shuffled 4x4 patches.
  const int64_t rest = count - 2 * per;
  at::Tensor d = images.index_select(0, at::randint(0, n, {rest}, g, at::kLong));
  const int64_t C = images.size(1), H = images.size(2), W = images.size(3), ph = H / 4, pw = W / 4;
  at::Tensor shuffled = d.clone();
  if (ph > 0 && pw > 0) {
    at::Tensor core = d.slice(2, 0, 4 * ph).slice(3, 0, 4 * pw);
    at::Tensor patches = core.reshape({rest, C, 4, ph, 4, pw}).permute({0, 2, 4, 1, 3, 5}).reshape({rest, 16, C, ph, pw});
    at::Tensor order = std::get<1>(at::rand({rest, 16}, g).sort(1));
    patches = patches.gather(1, order.view({rest, 16, 1, 1, 1}).expand({rest, 16, C, ph, pw}));
    shuffled.slice(2, 0, 4 * ph).slice(3, 0, 4 * pw).copy_(
        patches.reshape({rest, 4, 4, C, ph, pw}).permute({0, 3, 1, 4, 2, 5}).reshape({rest, C, 4 * ph, 4 * pw}));
  }
  return at::cat({mixes, noisy, shuffled});
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
