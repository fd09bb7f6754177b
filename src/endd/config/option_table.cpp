#include "endd/config/option_table.h"

#include <cmath>
#include <sstream>

namespace endd::config {
namespace {

// A number's value as a double; NaN for other types (they fail every check).
double number(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return double(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return std::nan("");
}

std::string text(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

}  // namespace

Check at_least(double min) {
  return [min](const Value& v) {
    const double x = number(v);
    return std::isfinite(x) && x >= min ? "" : "expected >= " + text(min);
  };
}

Check above(double min) {
  return [min](const Value& v) {
    const double x = number(v);
    return std::isfinite(x) && x > min ? "" : "expected > " + text(min);
  };
}

Check in_range(double min, double max) {
  return [min, max](const Value& v) {
    const double x = number(v);
    return std::isfinite(x) && x >= min && x <= max ? "" : "expected " + text(min) + " to " + text(max);
  };
}

Check below_one(double min) {
  return [min](const Value& v) {
    const double x = number(v);
    return std::isfinite(x) && x >= min && x < 1 ? "" : "expected in [" + text(min) + ", 1)";
  };
}

Check one_of(std::vector<std::string> words) {
  return [words](const Value& v) {
    const auto* s = std::get_if<std::string>(&v);
    std::string list;
    for (const auto& w : words) {
      if (s && *s == w) return std::string();
      list += (list.empty() ? "" : ", ") + w;
    }
    return "expected one of " + list;
  };
}

}  // namespace endd::config
