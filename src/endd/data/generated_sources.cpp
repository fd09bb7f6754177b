#include "endd/data/generated_sources.h"

#include <ATen/ATen.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

#include "endd/config/config.h"
#include "endd/core/error.h"
#include "endd/core/seeding.h"
#include "endd/data/class_labels.h"
#include "endd/data/spiral.h"

namespace endd::data {
namespace {

std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return out;
    start = p + 1;
  }
}

// "n=1000,noise=0.36" against the keys a kind takes and their defaults.
class Settings {
 public:
  Settings(std::string spec, std::map<std::string, double> defaults)
      : spec_(std::move(spec)), values_(std::move(defaults)) {}

  void read(const std::vector<std::string>& items) {
    for (const auto& item : items) {
      const size_t eq = item.find('=');
      ENDD_CHECK(eq != std::string::npos, "data source '", spec_, "': expected key=value, got '", item, "'");
      const std::string key = item.substr(0, eq), text = item.substr(eq + 1);
      if (!values_.count(key)) {
        std::vector<std::string> known;
        for (const auto& [k, v] : values_) known.push_back(k);
        const std::string near = config::nearest_word(key, known);
        throw Error("data source '" + spec_ + "': unknown key '" + key + "'" +
                    (near.empty() ? "" : "; did you mean '" + near + "'?") + " (expected " + keys() + ")");
      }
      char* end = nullptr;
      if (key == "seed") {  // any 64-bit seed, which a double would round
        const unsigned long long seed = std::strtoull(text.c_str(), &end, 10);
        ENDD_CHECK(!text.empty() && text[0] != '-' && end && *end == '\0', "data source '", spec_,
                   "': seed: expected a whole number >= 0, got '", text, "'");
        seed_ = seed;
        continue;
      }
      const double v = std::strtod(text.c_str(), &end);
      ENDD_CHECK(!text.empty() && end && *end == '\0' && std::isfinite(v), "data source '", spec_, "': ", key,
                 ": expected a number, got '", text, "'");
      values_[key] = v;
    }
  }
  double number(const std::string& key, double low) const {
    const double v = values_.at(key);
    ENDD_CHECK(v >= low, "data source '", spec_, "': ", key, ": expected >= ", low, ", got ", v);
    return v;
  }
  int64_t count(const std::string& key, int64_t low) const {
    const double v = number(key, double(low));
    ENDD_CHECK(v == std::floor(v) && v <= 1e9, "data source '", spec_, "': ", key, ": expected a whole number, got ", v);
    return static_cast<int64_t>(v);
  }
  uint64_t seed() const { return seed_; }

 private:
  std::string keys() const {
    std::string out;
    for (const auto& [k, v] : values_) out += (out.empty() ? "" : ", ") + k;
    return out;
  }
  std::string spec_;
  std::map<std::string, double> values_;
  uint64_t seed_ = 0;
};

// The shortest text that reads back as exactly `v` ("10", "0.36").
std::string exact(double v) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;
  return std::string(buffer, end);
}

std::string scale_part(double scale) { return scale > 0 ? ",scale=" + exact(scale) : ""; }

}  // namespace

std::string spiral_source(bool train, int64_t per_class, double noise, uint64_t seed, double scale) {
  return std::string("spiral:") + (train ? "train" : "test") + ",n=" + std::to_string(per_class) +
         ",noise=" + exact(noise) + ",seed=" + std::to_string(seed) + scale_part(scale);
}

std::string disc_source(int64_t count, double radius, uint64_t seed, double scale) {
  return "disc:n=" + std::to_string(count) + ",radius=" + exact(radius) + ",seed=" + std::to_string(seed) +
         scale_part(scale);
}

std::string annulus_source(int64_t count, double inner, double outer, uint64_t seed, double scale) {
  return "annulus:n=" + std::to_string(count) + ",inner=" + exact(inner) + ",outer=" + exact(outer) +
         ",seed=" + std::to_string(seed) + scale_part(scale);
}

bool is_generated_source(const std::string& spec) {
  const std::string kind = spec.substr(0, spec.find(':'));
  return kind == "spiral" || kind == "disc" || kind == "annulus";
}

size_t generated_source_parts(const std::vector<std::string>& parts) {
  if (parts.size() < 2) return 0;
  const std::string first = parts[1].substr(0, parts[1].find(','));
  return parts[0] == "spiral" || first.find('=') != std::string::npos ? 1 : 0;
}

at::Tensor scale_coordinates(const at::Tensor& raw, double scale) {
  if (scale <= 0) return raw;
  // Divides by R / r in float32, as a standardiser with that spread would.
  return raw / at::full({raw.size(-1)}, spiral_radius() / scale, at::kFloat);
}

Dataset load_generated_source(const std::string& spec) {
  const auto parts = split_on(spec, ':');
  const std::string& kind = parts[0];
  ENDD_CHECK(parts.size() <= 2, "data source '", spec, "': expected ", kind,
             kind == "spiral" ? ":train|test[,key=value...]" : "[:key=value,...]");
  std::vector<std::string> items = parts.size() == 2 ? split_on(parts[1], ',') : std::vector<std::string>{};
  const double R = spiral_radius();
  Dataset d;
  if (kind == "spiral") {
    ENDD_CHECK(!items.empty() && (items[0] == "train" || items[0] == "test"), "data source '", spec,
               "': expected spiral:train or spiral:test, then optional n=, noise=, seed=, scale=");
    const bool train = items[0] == "train";
    Settings s(spec, {{"n", 1000}, {"noise", 0.36}, {"seed", 0}, {"scale", 0}});
    s.read({items.begin() + 1, items.end()});
    d = make_spiral(s.count("n", 1), s.number("noise", 0),
                    derive_seed(s.seed(), train ? Stream::kTrainData : Stream::kTestData));
    d.classes = index_classes(3);
    d.inputs = scale_coordinates(d.inputs, s.number("scale", 0));
  } else if (kind == "disc") {
    Settings s(spec, {{"n", 3000}, {"radius", 2.0}, {"seed", 0}, {"scale", 0}});
    s.read(items);
    const double radius = s.number("radius", 0);
    ENDD_CHECK(radius > 0, "data source '", spec, "': radius: expected > 0");
    d = uniform_disc(s.count("n", 1), radius * R, derive_seed(s.seed(), Stream::kAuxData), "disc");
    d.inputs = scale_coordinates(d.inputs, s.number("scale", 0));
  } else {
    ENDD_CHECK(kind == "annulus", "data source '", spec, "': unknown generated kind");
    Settings s(spec, {{"n", 1000}, {"inner", 1.25}, {"outer", 2.0}, {"seed", 0}, {"scale", 0}});
    s.read(items);
    const double inner = s.number("inner", 0), outer = s.number("outer", 0);
    ENDD_CHECK(outer > inner, "data source '", spec, "': outer: expected > inner (", inner, "), got ", outer);
    d = uniform_annulus(s.count("n", 1), inner * R, outer * R, derive_seed(s.seed(), Stream::kOodData), "annulus");
    d.inputs = scale_coordinates(d.inputs, s.number("scale", 0));
  }
  d.name = kind;
  return d;
}

}  // namespace endd::data
