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
  ENDD_CHECK(count >= 5, "AUX count must be >= 5, got ", count);
  at::Generator g = cpu_generator(seed);
  const int64_t n = images.size(0), per = count / 5;
  const int64_t C = images.size(1), H = images.size(2), W = images.size(3);
  auto pick = [&](int64_t k) { return images.index_select(0, at::randint(0, n, {k}, g, at::kLong)); };
  // 1. Mixtures of two images of different classes.
  at::Tensor a = at::randint(0, n, {per}, g, at::kLong), b = at::randint(0, n, {per}, g, at::kLong);
  at::Tensor same = labels.index_select(0, a) == labels.index_select(0, b);
  b = at::where(same, (b + 1 + at::randint(0, n - 1, {per}, g, at::kLong)) % n, b);  // reroll most clashes
  at::Tensor w = (at::rand({per, 1, 1, 1}, g) * 0.4 + 0.3);
  at::Tensor mixes = images.index_select(0, a) * w + images.index_select(0, b) * (1 - w);
  // 2. Heavy Gaussian corruption.
  at::Tensor c = pick(per);
  at::Tensor noisy = (c + at::randn(c.sizes(), g) * 0.5).clamp(0, 1);
  // 3. Edge maps: the gradient magnitude of an image, scaled to a peak of 1,
  // turns filled shapes into thin outlines.
  at::Tensor e = pick(per);
  at::Tensor dx = at::zeros_like(e), dy = at::zeros_like(e);
  dx.slice(3, 1, W - 1).copy_(e.slice(3, 2, W) - e.slice(3, 0, W - 2));
  dy.slice(2, 1, H - 1).copy_(e.slice(2, 2, H) - e.slice(2, 0, H - 2));
  at::Tensor edges = (dx * dx + dy * dy).sqrt();
  edges = edges / std::get<0>(edges.flatten(1).max(1)).clamp_min(1e-6).view({per, 1, 1, 1});
  // 4. Zoomed crops: a random half-size window scaled up to full size.
  at::Tensor z = pick(per);
  const int64_t ch = std::max<int64_t>(1, H / 2), cw = std::max<int64_t>(1, W / 2);
  at::Tensor top = at::randint(0, H - ch + 1, {per}, g, at::kLong), left = at::randint(0, W - cw + 1, {per}, g, at::kLong);
  // Nearest-neighbour upscaling by index: row r of the output reads row r * ch / H.
  at::Tensor rows = at::div(at::arange(H, at::kLong) * ch, H, "floor");
  at::Tensor cols = at::div(at::arange(W, at::kLong) * cw, W, "floor");
  std::vector<at::Tensor> zooms;
  for (int64_t i = 0; i < per; ++i) {
    const int64_t r0 = top[i].item<int64_t>(), c0 = left[i].item<int64_t>();
    at::Tensor window = z[i].slice(1, r0, r0 + ch).slice(2, c0, c0 + cw);
    zooms.push_back(window.index_select(1, rows).index_select(2, cols));
  }
  at::Tensor zoomed = per > 0 ? at::stack(zooms) : z;
  // 5. Shuffled 4x4 patches (the rest of the count).
  const int64_t rest = count - 4 * per;
  at::Tensor d = pick(rest);
  const int64_t ph = H / 4, pw = W / 4;
  at::Tensor shuffled = d.clone();
  if (ph > 0 && pw > 0) {
    at::Tensor core = d.slice(2, 0, 4 * ph).slice(3, 0, 4 * pw);
    at::Tensor patches = core.reshape({rest, C, 4, ph, 4, pw}).permute({0, 2, 4, 1, 3, 5}).reshape({rest, 16, C, ph, pw});
    at::Tensor order = std::get<1>(at::rand({rest, 16}, g).sort(1));
    patches = patches.gather(1, order.view({rest, 16, 1, 1, 1}).expand({rest, 16, C, ph, pw}));
    shuffled.slice(2, 0, 4 * ph).slice(3, 0, 4 * pw).copy_(
        patches.reshape({rest, 4, 4, C, ph, pw}).permute({0, 3, 1, 4, 2, 5}).reshape({rest, C, 4 * ph, 4 * pw}));
  }
  return at::cat({mixes, noisy, edges, zoomed, shuffled});
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
