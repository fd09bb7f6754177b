#pragma once
// Image augmentation, AUX inputs made from training images, and synthetic
// out-of-domain sets. Images are float [N, C, H, W] in [0, 1]; every function
// is deterministic given its seed.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace endd::data {

/// Random crop of each image from its zero-padded copy (`pad` pixels a side)
/// and, if `flip`, a horizontal flip with probability 1/2. Any leading shape
/// [..., C, H, W].
at::Tensor random_crop_flip(const at::Tensor& images, int64_t pad, bool flip, uint64_t seed);

/// AUX inputs around the training data, never from an OOD test set; a fifth
/// each, in this order: mixtures of two training images of different classes
/// (weight U(0.3, 0.7)); heavily corrupted training images (Gaussian noise,
/// sd 0.5, clipped); edge maps (gradient magnitude scaled to a peak of 1);
/// zoomed crops (a random half-size window scaled up, nearest neighbour);
/// and, for the rest of the count, training images with their 4x4 grid of
/// patches shuffled. Values stay in the images' [0, 1].
at::Tensor make_image_aux(const at::Tensor& images, const at::Tensor& labels, int64_t count, uint64_t seed);

/// Synthetic OOD sets shaped like `like` [N, C, H, W]: uniform noise U(0, 1),
/// Gaussian noise N(0.5, 0.25^2) clipped to [0, 1].
at::Tensor uniform_noise_images(int64_t count, at::IntArrayRef chw, uint64_t seed);
at::Tensor gaussian_noise_images(int64_t count, at::IntArrayRef chw, uint64_t seed);

}  // namespace endd::data
