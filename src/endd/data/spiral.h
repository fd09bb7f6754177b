#pragma once
// The three-class spiral of the paper's artificial experiment (MATH.md
// section 5), plus the AUX and far out-of-domain inputs around it.
#include <cstdint>

#include "endd/data/dataset.h"

namespace endd::data {

/// Outer radius of the noise-free spiral, (6 pi)^2 ~ 355.3.
double spiral_radius();

/// `per_class` points on each of the 3 arms with noise scale `noise` (raw
/// coordinates, not standardised). Deterministic given `seed`.
Dataset make_spiral(int64_t per_class, double noise, uint64_t seed);

/// `count` points uniform in the disc of radius `radius` (raw coordinates).
Dataset uniform_disc(int64_t count, double radius, uint64_t seed, const std::string& name);

/// `count` points uniform (by area) in the annulus inner <= r <= outer.
Dataset uniform_annulus(int64_t count, double inner, double outer, uint64_t seed,
                        const std::string& name);

}  // namespace endd::data
