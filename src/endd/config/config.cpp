#include "endd/config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"

namespace endd::config {
namespace {

const char* type_name(const Value& v) {
  switch (v.index()) {
    case 0: return "a boolean";
    case 1: return "an integer";
    case 2: return "a number";
    default: return "a string";
  }
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Converts a TOML leaf to the field's type; false if the types do not fit.
bool convert(const toml::node& node, const Value& like, Value& out) {
  switch (like.index()) {
    case 0:
      if (auto v = node.value_exact<bool>()) { out = *v; return true; }
      return false;
    case 1:
      if (auto v = node.value_exact<int64_t>()) { out = *v; return true; }
      return false;
    case 2:
      if (auto v = node.value_exact<double>()) { out = *v; return true; }
      if (auto v = node.value_exact<int64_t>()) { out = double(*v); return true; }
      return false;
    default:
      if (auto v = node.value_exact<std::string>()) { out = *v; return true; }
      // A column index written as a number (label_column = 0) means its text.
      if (auto v = node.value_exact<int64_t>()) { out = std::to_string(*v); return true; }
      return false;
  }
}

std::string format(const Value& v) {
  std::ostringstream s;
  switch (v.index()) {
    case 0: s << (std::get<bool>(v) ? "true" : "false"); break;
    case 1: s << std::get<int64_t>(v); break;
    case 2: {
      double d = std::get<double>(v);
      s.precision(17);
      s << d;
      if (s.str().find_first_of(".eEn") == std::string::npos) s << ".0";
      break;
    }
    default: s << toml::value<std::string>(std::get<std::string>(v)); break;
  }
  return s.str();
}

}  // namespace

std::string nearest_word(const std::string& word, const std::vector<std::string>& choices) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : choices) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string nearest_key(const std::string& key, const std::vector<Field>& schema) {
  std::string best;
  size_t best_d = std::max<size_t>(3, key.size() / 3) + 1;
  for (const auto& f : schema) {
    size_t d = edit_distance(key, f.key);
    // Also match the last component alone ("epoch" -> "train.epochs").
    auto dot = f.key.rfind('.');
    if (dot != std::string::npos) d = std::min(d, edit_distance(key, f.key.substr(dot + 1)) + 1);
    if (d < best_d) {
      best_d = d;
      best = f.key;
    }
  }
  return best;
}

Config::Config(std::vector<Field> schema) : schema_(std::move(schema)) {
  for (const auto& f : schema_) values_[f.key] = f.default_value;
}

const Field& Config::field(const std::string& key, const std::string& origin) const {
  for (const auto& f : schema_)
    if (f.key == key) return f;
  std::string near = nearest_key(key, schema_);
  throw Error(origin + ": unknown key '" + key + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?"));
}

void Config::assign(const std::string& key, const Value& value, const std::string& origin) {
  const Field& f = field(key, origin);
  ENDD_CHECK(value.index() == f.default_value.index(), origin, ": ", key, ": expected ", type_name(f.default_value),
             ", got ", type_name(value));
  values_[key] = value;
}

namespace {
// endd configs are ASCII: toml++ 3.3 reaches __builtin_unreachable (undefined
// behaviour) classifying some non-ASCII characters (found by fuzzing), and
// no key or value endd defines needs them. Non-ASCII paths go through --data /
// --set, which never reach the TOML parser.
void check_ascii(const std::string& text, const std::string& origin) {
  int64_t line = 1;
  for (char c : text) {
    if (c == '\n') ++line;
    ENDD_CHECK(static_cast<unsigned char>(c) < 0x80, origin, ":", line,
               ": non-ASCII character; endd configuration files are ASCII (give non-ASCII paths with --data or "
               "--set)");
  }
}
}  // namespace

void Config::merge_toml(const std::string& text, const std::string& origin) {
  check_ascii(text, origin);
  toml::table table;
  try {
    table = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw Error(detail::concat(origin, ":", e.source().begin.line, ": invalid TOML: ", e.description()));
  }
  std::function<void(const toml::table&, const std::string&)> walk = [&](const toml::table& t,
                                                                         const std::string& prefix) {
    for (const auto& [k, node] : t) {
      std::string key = prefix + std::string(k.str());
      std::string where = detail::concat(origin, ":", node.source().begin.line);
      if (const auto* sub = node.as_table()) {
        walk(*sub, key + ".");
        continue;
      }
      const Field& f = field(key, where);
      Value v;
      ENDD_CHECK(convert(node, f.default_value, v), where, ": ", key, ": expected ", type_name(f.default_value));
      values_[key] = v;
    }
  };
  walk(table, "");
}

void Config::merge_toml_file(const std::string& path) { merge_toml(read_file(path), path); }

void Config::set(const std::string& assignment) {
  auto eq = assignment.find('=');
  ENDD_CHECK(eq != std::string::npos && eq > 0, "--set ", assignment, ": expected key=value");
  std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  const Field& f = field(key, "--set " + assignment);
  // Let TOML parse the value; a bare word is a string. Non-ASCII text never
  // reaches the TOML parser (see check_ascii).
  Value v;
  bool ok = false;
  const bool ascii = std::all_of(text.begin(), text.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
  if (ascii) try {
    toml::table t = toml::parse("v = " + text);
    ok = convert(*t.get("v"), f.default_value, v);
  } catch (const toml::parse_error&) {
  }
  if (!ok && f.default_value.index() == 3) {
    v = text;
    ok = true;
  }
  ENDD_CHECK(ok, "--set ", assignment, ": ", key, ": expected ", type_name(f.default_value), ", got '", text, "'");
  values_[key] = v;
}

bool Config::get_bool(const std::string& key) const { return std::get<bool>(values_.at(key)); }
int64_t Config::get_int(const std::string& key) const { return std::get<int64_t>(values_.at(key)); }
double Config::get_double(const std::string& key) const { return std::get<double>(values_.at(key)); }
const std::string& Config::get_string(const std::string& key) const { return std::get<std::string>(values_.at(key)); }

std::string Config::to_toml() const {
  std::ostringstream out;
  out << "# Resolved endd configuration (every key, defaults included)\n";
  std::string section;
  for (const auto& f : schema_) {  // schema order groups sections
    auto dot = f.key.rfind('.');
    std::string sec = dot == std::string::npos ? "" : f.key.substr(0, dot);
    std::string name = dot == std::string::npos ? f.key : f.key.substr(dot + 1);
    if (sec != section) {
      out << "\n[" << sec << "]\n";
      section = sec;
    }
    out << name << " = " << format(values_.at(f.key)) << "  # " << f.help << "\n";
  }
  return out.str();
}

nlohmann::json Config::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : schema_) {
    std::visit([&](const auto& v) { j[f.key] = v; }, values_.at(f.key));
  }
  return j;
}

}  // namespace endd::config
