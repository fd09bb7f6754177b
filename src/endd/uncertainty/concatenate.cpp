#include <ATen/ATen.h>

#include "endd/core/error.h"
#include "endd/uncertainty/measures.h"

namespace endd::uncertainty {

Measures concatenate(const std::vector<Measures>& parts) {
  ENDD_CHECK(!parts.empty(), "concatenate: no measures to join");
  if (parts.size() == 1) return parts.front();
  auto cat = [&](auto field) {
    std::vector<at::Tensor> ts;
    ts.reserve(parts.size());
    for (const auto& p : parts) ts.push_back(field(p));
    return at::cat(ts, 0);
  };
  Measures m;
  m.mean_probs = cat([](const Measures& p) { return p.mean_probs; });
  m.prediction = cat([](const Measures& p) { return p.prediction; });
  m.confidence = cat([](const Measures& p) { return p.confidence; });
  m.total = cat([](const Measures& p) { return p.total; });
  m.data = cat([](const Measures& p) { return p.data; });
  m.knowledge = cat([](const Measures& p) { return p.knowledge; });
  m.epkl = cat([](const Measures& p) { return p.epkl; });
  auto all_have = [&](auto field) {
    for (const auto& p : parts)
      if (!(p.*field)) return false;
    return true;
  };
  if (all_have(&Measures::diff_entropy)) m.diff_entropy = cat([](const Measures& p) { return *p.diff_entropy; });
  if (all_have(&Measures::precision)) m.precision = cat([](const Measures& p) { return *p.precision; });
  return m;
}

}  // namespace endd::uncertainty
