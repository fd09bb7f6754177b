#pragma once
// Image augmentation and synthetic out-of-domain sets (AUX inputs are in
// image_aux.h). Images are float [N, C, H, W] in [0, 1]; every function is
// deterministic given its seed.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace endd::data {

/// Random crop of each image from its zero-padded copy (`pad` pixels a side)
/// and, if `flip`, a horizontal flip with probability 1/2. Any leading shape
/// [..., C, H, W].
at::Tensor random_crop_flip(const at::Tensor& images, int64_t pad, bool flip, uint64_t seed);

/// Synthetic OOD sets shaped like `like` [N, C, H, W]: uniform noise U(0, 1),
/// Gaussian noise N(0.5, 0.25^2) clipped to [0, 1].
at::Tensor uniform_noise_images(int64_t count, at::IntArrayRef chw, uint64_t seed);
at::Tensor gaussian_noise_images(int64_t count, at::IntArrayRef chw, uint64_t seed);

}  // namespace endd::data
