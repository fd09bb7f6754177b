#pragma once
// Subsets of a data set a user asks for: the first or a seeded random N rows
// (--limit), and a stratified validation split (--val-fraction).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <utility>

#include "endd/data/dataset.h"

namespace endd::data {

/// The rows `index` [n] int64 of `d` (labels or targets, and class names kept).
Dataset take_rows(const Dataset& d, const at::Tensor& index);

/// The first `n` rows, or `n` rows drawn without replacement from `seed`
/// (in their original order); all of them when n <= 0 or n >= size.
Dataset limit_rows(const Dataset& d, int64_t n, bool random, uint64_t seed);

/// Splits off round(fraction * n_c) rows of every class c (largest
/// remainders, so the total is round(fraction * N)) as a validation set,
/// chosen from `seed`; both parts keep the original row order. Errors when
/// `fraction` is outside [0, 1), or a part would be empty. A regression set
/// (targets, no labels) gives round(fraction * N) seeded random rows.
std::pair<Dataset, Dataset> stratified_split(const Dataset& d, double fraction, uint64_t seed);

}  // namespace endd::data
