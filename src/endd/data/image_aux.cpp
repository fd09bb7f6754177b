#include "endd/data/image_aux.h"

#include <ATen/ATen.h>

#include <sstream>

#include "endd/core/error.h"
#include "endd/core/seeding.h"

namespace endd::data {
namespace {

struct KindName {
  ImageAuxKind kind;
  const char* name;
};
constexpr KindName kKindNames[] = {{ImageAuxKind::kMix, "mix"},         {ImageAuxKind::kNoise, "noise"},
                                   {ImageAuxKind::kEdges, "edges"},     {ImageAuxKind::kZoom, "zoom"},
                                   {ImageAuxKind::kShuffle, "shuffle"}, {ImageAuxKind::kSmall, "small"},
                                   {ImageAuxKind::kOutline, "outline"},
                                   {ImageAuxKind::kChain, "chain"}};

bool transforms_one_image(ImageAuxKind kind) { return kind != ImageAuxKind::kMix && kind != ImageAuxKind::kChain; }

// Each maker draws from the shared generator in a fixed order, so the AUX set
// depends only on the seed and the list of kinds.
class AuxMaker {
 public:
  AuxMaker(const at::Tensor& images, const at::Tensor& labels, uint64_t seed)
      : images_(images), labels_(labels), g_(cpu_generator(seed)), n_(images.size(0)), C_(images.size(1)),
        H_(images.size(2)), W_(images.size(3)) {}

  at::Tensor make(ImageAuxKind kind, int64_t k) {
    if (kind == ImageAuxKind::kMix) return mixtures(k);
    if (kind == ImageAuxKind::kChain) return chains(k);
    return transform(kind, pick(k));
  }

 private:
  at::Tensor pick(int64_t k) { return images_.index_select(0, at::randint(0, n_, {k}, g_, at::kLong)); }

  // A kind for which transforms_one_image() holds.
  at::Tensor transform(ImageAuxKind kind, const at::Tensor& x) {
    switch (kind) {
      case ImageAuxKind::kNoise: return (x + at::randn(x.sizes(), g_) * 0.5).clamp(0, 1);
      case ImageAuxKind::kEdges: return edges(x);
      case ImageAuxKind::kZoom: return zooms(x);
      case ImageAuxKind::kShuffle: return shuffles(x);
      case ImageAuxKind::kSmall: return smalls(x);
      case ImageAuxKind::kOutline: return outlines(x);
      default: throw Error("AUX kind '" + image_aux_kind_name(kind) + "' does not transform one image");
    }
  }

  // Two different one-image transforms in a row, one ordered pair per
  // consecutive group of images (every pair about equally often).
  at::Tensor chains(int64_t k) {
    std::vector<std::pair<ImageAuxKind, ImageAuxKind>> pairs;
    for (const auto& a : kKindNames)
      for (const auto& b : kKindNames)
        if (transforms_one_image(a.kind) && transforms_one_image(b.kind) && a.kind != b.kind)
          pairs.emplace_back(a.kind, b.kind);
    at::Tensor x = pick(k);
    std::vector<at::Tensor> out;
    const int64_t n_pairs = static_cast<int64_t>(pairs.size());
    for (int64_t p = 0; p < n_pairs; ++p) {
      const int64_t begin = k * p / n_pairs, end = k * (p + 1) / n_pairs;
      if (end > begin) out.push_back(transform(pairs[p].second, transform(pairs[p].first, x.slice(0, begin, end))));
    }
    return out.empty() ? x : at::cat(out);
  }

  at::Tensor mixtures(int64_t k) {
    at::Tensor a = at::randint(0, n_, {k}, g_, at::kLong), b = at::randint(0, n_, {k}, g_, at::kLong);
    at::Tensor same = labels_.index_select(0, a) == labels_.index_select(0, b);
    b = at::where(same, (b + 1 + at::randint(0, n_ - 1, {k}, g_, at::kLong)) % n_, b);  // reroll most clashes
    at::Tensor w = at::rand({k, 1, 1, 1}, g_) * 0.4 + 0.3;
    return images_.index_select(0, a) * w + images_.index_select(0, b) * (1 - w);
  }

  at::Tensor edges(const at::Tensor& e) {
    at::Tensor dx = at::zeros_like(e), dy = at::zeros_like(e);
    dx.slice(3, 1, W_ - 1).copy_(e.slice(3, 2, W_) - e.slice(3, 0, W_ - 2));
    dy.slice(2, 1, H_ - 1).copy_(e.slice(2, 2, H_) - e.slice(2, 0, H_ - 2));
    at::Tensor magnitude = (dx * dx + dy * dy).sqrt();
    return magnitude / std::get<0>(magnitude.flatten(1).max(1)).clamp_min(1e-6).view({-1, 1, 1, 1});
  }

  at::Tensor zooms(const at::Tensor& z) {
    const int64_t k = z.size(0);
    const int64_t ch = std::max<int64_t>(1, H_ / 2), cw = std::max<int64_t>(1, W_ / 2);
    at::Tensor top = at::randint(0, H_ - ch + 1, {k}, g_, at::kLong);
    at::Tensor left = at::randint(0, W_ - cw + 1, {k}, g_, at::kLong);
    // Nearest-neighbour upscaling by index: row r of the output reads row r * ch / H.
    at::Tensor rows = at::div(at::arange(H_, at::kLong) * ch, H_, "floor");
    at::Tensor cols = at::div(at::arange(W_, at::kLong) * cw, W_, "floor");
    std::vector<at::Tensor> out;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t r0 = top[i].item<int64_t>(), c0 = left[i].item<int64_t>();
      out.push_back(z[i].slice(1, r0, r0 + ch).slice(2, c0, c0 + cw).index_select(1, rows).index_select(2, cols));
    }
    return k > 0 ? at::stack(out) : z;
  }

  at::Tensor shuffles(const at::Tensor& d) {
    const int64_t k = d.size(0);
    const int64_t ph = H_ / 4, pw = W_ / 4;
    at::Tensor out = d.clone();
    if (ph == 0 || pw == 0) return out;
    at::Tensor core = d.slice(2, 0, 4 * ph).slice(3, 0, 4 * pw);
    at::Tensor patches = core.reshape({k, C_, 4, ph, 4, pw}).permute({0, 2, 4, 1, 3, 5}).reshape({k, 16, C_, ph, pw});
    at::Tensor order = std::get<1>(at::rand({k, 16}, g_).sort(1));
    patches = patches.gather(1, order.view({k, 16, 1, 1, 1}).expand({k, 16, C_, ph, pw}));
    out.slice(2, 0, 4 * ph).slice(3, 0, 4 * pw).copy_(
        patches.reshape({k, 4, 4, C_, ph, pw}).permute({0, 3, 1, 4, 2, 5}).reshape({k, C_, 4 * ph, 4 * pw}));
    return out;
  }

  at::Tensor smalls(const at::Tensor& x) {
    const int64_t k = x.size(0);
    at::Tensor half = at::avg_pool2d(x, {2, 2});  // [k, C, H/2, W/2]
    const int64_t h = half.size(2), w = half.size(3);
    at::Tensor top = at::randint(0, H_ - h + 1, {k}, g_, at::kLong);
    at::Tensor left = at::randint(0, W_ - w + 1, {k}, g_, at::kLong);
    at::Tensor out = at::zeros({k, C_, H_, W_}, images_.options());
    for (int64_t i = 0; i < k; ++i) {
      const int64_t r0 = top[i].item<int64_t>(), c0 = left[i].item<int64_t>();
      out[i].slice(1, r0, r0 + h).slice(2, c0, c0 + w).copy_(half[i]);
    }
    return out;
  }

  at::Tensor outlines(const at::Tensor& x) {
    // Bright region (any channel above the threshold) minus its 3 x 3 erosion.
    const int64_t k = x.size(0);
    at::Tensor threshold = at::rand({k, 1, 1, 1}, g_) * 0.4 + 0.1;
    at::Tensor region = (std::get<0>(x.max(1, true)) > threshold).to(x.scalar_type());
    at::Tensor eroded = -at::max_pool2d(-region, {3, 3}, {1, 1}, {1, 1});
    return (region - eroded).expand({k, C_, H_, W_}).contiguous();
  }

  const at::Tensor& images_;
  const at::Tensor& labels_;
  at::Generator g_;
  const int64_t n_, C_, H_, W_;
};

}  // namespace

std::vector<ImageAuxKind> default_image_aux_kinds() {
  std::vector<ImageAuxKind> kinds;
  for (const auto& k : kKindNames) kinds.push_back(k.kind);
  return kinds;
}

std::string image_aux_kind_name(ImageAuxKind kind) {
  for (const auto& k : kKindNames)
    if (k.kind == kind) return k.name;
  throw Error("unknown AUX kind");
}

std::vector<ImageAuxKind> parse_image_aux_kinds(const std::string& list) {
  std::vector<ImageAuxKind> kinds;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) {
    bool found = false;
    for (const auto& k : kKindNames)
      if (name == k.name) {
        kinds.push_back(k.kind);
        found = true;
      }
    if (!found) {
      std::string known;
      for (const auto& k : kKindNames) known += std::string(known.empty() ? "" : ", ") + k.name;
      throw Error("AUX kinds: unknown kind '" + name + "' in '" + list + "' (expected a comma-separated list of: " +
                  known + ")");
    }
  }
  ENDD_CHECK(!kinds.empty(), "AUX kinds: expected at least one kind, got '", list, "'");
  return kinds;
}

std::vector<int64_t> image_aux_counts(int64_t count, int64_t kinds) {
  ENDD_CHECK(kinds >= 1, "AUX needs at least one kind");
  ENDD_CHECK(count >= kinds, "AUX count must be >= the number of kinds (", kinds, "), got ", count);
  std::vector<int64_t> counts(static_cast<size_t>(kinds), count / kinds);
  counts.back() = count - (count / kinds) * (kinds - 1);
  return counts;
}

at::Tensor make_image_aux(const at::Tensor& images, const at::Tensor& labels, int64_t count, uint64_t seed,
                          const std::vector<ImageAuxKind>& kinds) {
  ENDD_CHECK(images.dim() == 4 && images.size(0) >= 2, "AUX needs at least 2 training images [N, C, H, W]");
  const std::vector<int64_t> counts = image_aux_counts(count, static_cast<int64_t>(kinds.size()));
  AuxMaker maker(images, labels, seed);
  std::vector<at::Tensor> parts;
  for (size_t i = 0; i < kinds.size(); ++i) parts.push_back(maker.make(kinds[i], counts[i]));
  return at::cat(parts);
}

}  // namespace endd::data
