#pragma once
// Temperature annealing (MATH.md section 3): hold T0, decay linearly to 1,
// then stay at 1.
#include <cstdint>

namespace endd::distill {

class TemperatureSchedule {
 public:
  /// Over `epochs` epochs: T0 for the first hold_fraction of them, then a
  /// linear decay to 1 over the next decay_fraction, then 1. Throws
  /// endd::Error for T0 < 1, fractions outside [0, 1] or summing above 1.
  TemperatureSchedule(double t0, int64_t epochs, double hold_fraction = 1.0 / 3.0,
                      double decay_fraction = 1.0 / 3.0);
  /// Temperature of epoch `epoch` (0-based).
  double at(int64_t epoch) const;
  double initial() const { return t0_; }

 private:
  double t0_;
  double hold_end_;   ///< epoch at which the decay starts
  double decay_len_;  ///< epochs from T0 to 1
};

}  // namespace endd::distill
