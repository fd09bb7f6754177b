#pragma once
// The spiral experiment's 2-D sets as data sources (docs/data-sources.md), so
// its stages are ordinary `endd train` / `endd distill` runs and a user can
// evaluate them, or train on the spiral, by naming the same source:
//   spiral:train|test[,n=N][,noise=S][,seed=K][,scale=r]  3 classes, n per class
//   disc[:n=N][,radius=F][,seed=K][,scale=r]               uniform in the disc of radius F R
//   annulus[:n=N][,inner=A][,outer=B][,seed=K][,scale=r]   uniform (by area) in A R <= |x| <= B R
// R = (6 pi)^2 is the noise-free spiral's outer radius. Each set draws from
// its own stream of `seed` (the experiment's seed), so spiral:train and
// spiral:test of one seed are the experiment's training and test sets.
// scale=r > 0 gives coordinates scaled so that R becomes r (the paper's
// unstandardised inputs); 0 (the default) gives raw coordinates.
#include <string>
#include <vector>

#include "endd/data/dataset.h"

namespace endd::data {

/// spiral:..., disc, disc:..., annulus, annulus:...
bool is_generated_source(const std::string& spec);

/// The part of `spec` after the kind that belongs to the source (for
/// "SRC[:NAME]"): 1 when the second colon-separated part holds its settings.
size_t generated_source_parts(const std::vector<std::string>& parts);

/// The set; spiral labels are classes "0", "1", "2". endd::Error naming the
/// source and the key for an unknown key, a bad value or a missing split.
Dataset load_generated_source(const std::string& spec);

/// The source texts that load_generated_source() reads back to the same set
/// (numbers written so that they read back exactly; scale 0 is left out).
std::string spiral_source(bool train, int64_t per_class, double noise, uint64_t seed, double scale);
std::string disc_source(int64_t count, double radius, uint64_t seed, double scale);
std::string annulus_source(int64_t count, double inner, double outer, uint64_t seed, double scale);

/// Coordinates as a source with scale=r gives them: raw ones scaled so that
/// R becomes r (r = 0: unchanged).
at::Tensor scale_coordinates(const at::Tensor& raw, double scale);

}  // namespace endd::data
