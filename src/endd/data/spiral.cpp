#include "endd/data/spiral.h"

#include <ATen/ATen.h>

#include <cmath>

#include "endd/core/error.h"
#include "endd/core/seeding.h"

namespace endd::data {

double spiral_radius() { return std::pow(6.0 * M_PI, 2.0); }

Dataset make_spiral(int64_t per_class, double noise, uint64_t seed) {
  ENDD_CHECK(per_class >= 1, "spiral: points per class must be >= 1, got ", per_class);
  ENDD_CHECK(noise >= 0 && std::isfinite(noise), "spiral: noise must be >= 0, got ", noise);
  at::Generator gen = cpu_generator(seed);
  const int64_t n = 3 * per_class;
  auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor u = at::rand({n}, gen, opts);
  at::Tensor e = at::randn({n, 2}, gen, opts);
  at::Tensor k = at::arange(3, at::kLong).repeat_interleave(per_class);
  at::Tensor arm = at::sqrt(u) * (6.0 * M_PI);
  at::Tensor angle = arm + k.to(at::kDouble) * (2.0 * M_PI / 3.0);
  at::Tensor r = arm.pow(2), spread = arm.pow(1.5) * noise;
  at::Tensor x = at::stack({-at::cos(angle) * r + e.select(1, 0) * spread,
                            at::sin(angle) * r + e.select(1, 1) * spread},
                           1);
  return {"spiral", x.to(at::kFloat), k};
}

Dataset uniform_annulus(int64_t count, double inner, double outer, uint64_t seed, const std::string& name) {
  ENDD_CHECK(count >= 1, name, ": count must be >= 1, got ", count);
  ENDD_CHECK(inner >= 0 && outer > inner, name, ": need 0 <= inner < outer radius, got ", inner, ", ", outer);
  at::Generator gen = cpu_generator(seed);
  auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor u = at::rand({count}, gen, opts);
  at::Tensor theta = at::rand({count}, gen, opts) * (2.0 * M_PI);
  // Uniform by area: r^2 uniform between inner^2 and outer^2.
  at::Tensor r = at::sqrt(u * (outer * outer - inner * inner) + inner * inner);
  at::Tensor x = at::stack({r * at::cos(theta), r * at::sin(theta)}, 1);
  return {name, x.to(at::kFloat), at::Tensor()};
}

Dataset uniform_disc(int64_t count, double radius, uint64_t seed, const std::string& name) {
  return uniform_annulus(count, 0.0, radius, seed, name);
}

}  // namespace endd::data
