#include "endd/data/ood_sets.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "endd/config/config.h"
#include "endd/core/error.h"
#include "endd/data/image_transforms.h"
#include "endd/data/source.h"

namespace endd::data {
bool OodSpec::generated() const {
  const auto& kinds = generated_ood_sources();
  return std::find(kinds.begin(), kinds.end(), source) != kinds.end();
}

const std::vector<std::string>& generated_ood_sources() {
  static const std::vector<std::string> kinds{"uniform-noise", "gaussian-noise", "inverted"};
  return kinds;
}

std::vector<OodSpec> parse_ood_sets(const std::string& text) {
  std::vector<OodSpec> sets;
  for (const auto& entry : config::split_words(text, ";\n")) {
    OodSpec s;
    const auto colon = entry.find(':');
    s.source = entry.substr(0, colon);
    if (s.generated()) {
      s.name = colon == std::string::npos ? s.source : entry.substr(colon + 1);
      ENDD_CHECK(!s.name.empty() && s.name.find_first_of("/\\") == std::string::npos, "'", entry,
                 "': expected a set name after ':' without '/'");
    } else {
      std::tie(s.source, s.name) = split_source_name(entry);
    }
    ENDD_CHECK(s.name != "test", "'", entry, "': the name 'test' is the test set's; name this set (SRC:NAME)");
    for (const auto& seen : sets)
      ENDD_CHECK(seen.name != s.name, "the set name '", s.name, "' is given twice; name each set (SRC:NAME)");
    sets.push_back(s);
  }
  return sets;
}

void check_generated_ood(const OodSpec& spec, const at::Tensor& test) {
  const double lo = test.min().item<double>(), hi = test.max().item<double>();
  ENDD_CHECK(lo >= 0 && hi <= 1, spec.source, " (set '", spec.name, "') is made for images with values in [0, 1], "
             "but the test set's values lie in [", lo, ", ", hi, "]");
}

at::Tensor generated_ood_inputs(const OodSpec& spec, const at::Tensor& test, int64_t rows, uint64_t seed) {
  check_generated_ood(spec, test);
  if (spec.source == "inverted") return 1.0 - test.slice(0, 0, std::min(rows, test.size(0)));
  const std::vector<int64_t> shape{test.size(1)};
  return spec.source == "uniform-noise" ? uniform_noise_images(rows, shape, seed) : gaussian_noise_images(rows, shape, seed);
}

}  // namespace endd::data
