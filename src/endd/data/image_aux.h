#pragma once
// AUX inputs for distillation, made from training images only (never from an
// OOD test set): inputs around the training data where the ensemble's members
// may disagree, labelled later by the ensemble itself. Images are float
// [N, C, H, W] in [0, 1]; deterministic given the seed.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace endd::data {

enum class ImageAuxKind {
  kMix,      ///< "mix": mixture of two images of different classes, weight U(0.3, 0.7)
  kNoise,    ///< "noise": Gaussian corruption, sd 0.5, clipped to [0, 1]
  kEdges,    ///< "edges": gradient magnitude scaled to a peak of 1 (filled shapes become outlines)
  kZoom,     ///< "zoom": a random half-size window scaled up (nearest neighbour)
  kShuffle,  ///< "shuffle": the image's 4 x 4 grid of patches in a random order
  kSmall,    ///< "small": the image at half size (2 x 2 means) at a random place on a dark field
  kOutline,  ///< "outline": the one-pixel boundary of the image's bright region (threshold U(0.1, 0.5))
  kChain,    ///< "chain": two different kinds of noise/edges/zoom/shuffle/small/outline in a row
};

/// Every kind, in the order above. On Fashion-MNIST the eight together gave
/// EnD^2+AUX an MNIST AUROC of 82.2 against 73.2 for the first five
/// (docs/fashion-mnist.md).
std::vector<ImageAuxKind> default_image_aux_kinds();

/// Parses a comma-separated list of kind names (above), e.g. "mix,edges";
/// throws endd::Error naming the unknown name and the known ones.
std::vector<ImageAuxKind> parse_image_aux_kinds(const std::string& list);
std::string image_aux_kind_name(ImageAuxKind kind);

/// How `count` AUX images are shared among `kinds` kinds: equally, the last
/// kind taking the remainder. Needs count >= kinds >= 1.
std::vector<int64_t> image_aux_counts(int64_t count, int64_t kinds);

/// `count` AUX images, an equal share per kind in the order given (the last
/// kind takes the remainder). Needs count >= kinds.size() and at least 2
/// training images; labels are used only to mix different classes.
at::Tensor make_image_aux(const at::Tensor& images, const at::Tensor& labels, int64_t count, uint64_t seed,
                          const std::vector<ImageAuxKind>& kinds = default_image_aux_kinds());

}  // namespace endd::data
