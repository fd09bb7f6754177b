#pragma once
// Out-of-domain sets as `endd evaluate` and the experiments name them:
// "SRC[:NAME]; SRC[:NAME] ...", each a data source (data/source.h) or a set
// made from the test set's shape (uniform-noise, gaussian-noise, inverted).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace endd::data {

/// An evaluation set other than the test set: a data source read without
/// labels, or one made from the test set (generated()).
struct OodSpec {
  std::string name, source;
  bool generated() const;
};

/// The sets made rather than read: uniform-noise and gaussian-noise (inputs
/// of the test set's size, U(0,1) and N(0.5, 0.25^2) clipped), inverted
/// (1 - each test input).
const std::vector<std::string>& generated_ood_sources();

/// "SRC[:NAME]; SRC[:NAME] ...", entries separated by ';' or new lines. Names
/// must differ and may not be "test". endd::Error on anything else.
std::vector<OodSpec> parse_ood_sets(const std::string& text);

/// A generated set of `rows` rows like `test` [N, D] (values in [0, 1]:
/// they are made for images; endd::Error naming the set otherwise). Inverted
/// takes the first `rows` test rows.
at::Tensor generated_ood_inputs(const OodSpec& spec, const at::Tensor& test, int64_t rows, uint64_t seed);

/// The same check alone, before any work.
void check_generated_ood(const OodSpec& spec, const at::Tensor& test);

}  // namespace endd::data
