#pragma once
// Which CPU layout of a convolutional ensemble's stages trains faster on this
// machine (issue 21): all members' channels stacked in one tensor, or member
// after member (ConvEnsemble::set_member_major). Both give the same numbers
// bit for bit, so the choice is about speed alone, and it differs by machine:
// on a 2-core AMD EPYC member-major took 0.87x the stacked layout's time per
// step of the Fashion-MNIST CNN (bench/RESULTS.md).
#include <cstdint>

#include "endd/models/conv_ensemble.h"

namespace endd::models {

struct ConvLayoutMeasurement {
  bool member_major = false;  ///< the faster layout
  double stacked_ms = 0;      ///< one training step of two members, stacked
  double member_major_ms = 0;  ///< the same, member after member
};

/// Times a few training steps (forward and backward, one thread) of a
/// two-member ensemble of `options` on random images of `batch`, in each
/// layout, alternating, and keeps each layout's fastest step. Measured once
/// per process for each architecture and batch; later calls return that.
ConvLayoutMeasurement measure_conv_layout(const ConvOptions& options, int64_t batch);

}  // namespace endd::models
