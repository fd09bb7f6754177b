#include "endd/distill/temperature_schedule.h"

#include <algorithm>
#include <cmath>

#include "endd/core/error.h"

namespace endd::distill {

TemperatureSchedule::TemperatureSchedule(double t0, int64_t epochs, double hold, double decay)
    : t0_(t0), hold_end_(hold * double(epochs)), decay_len_(decay * double(epochs)) {
  ENDD_CHECK(std::isfinite(t0) && t0 >= 1.0, "initial temperature T0 must be >= 1, got ", t0);
  ENDD_CHECK(epochs >= 1, "temperature schedule needs epochs >= 1, got ", epochs);
  ENDD_CHECK(hold >= 0 && hold <= 1 && decay >= 0 && decay <= 1 && hold + decay <= 1 + 1e-12,
             "temperature hold and decay fractions must lie in [0, 1] and sum to at most 1, got ", hold,
             " and ", decay);
}

double TemperatureSchedule::at(int64_t epoch) const {
  double e = double(epoch);
  if (e < hold_end_) return t0_;
  if (decay_len_ <= 0) return 1.0;
  double t = std::clamp((e - hold_end_) / decay_len_, 0.0, 1.0);
  return t0_ + (1.0 - t0_) * t;
}

}  // namespace endd::distill
