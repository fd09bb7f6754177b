#include "endd/config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
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

}  // namespace

std::string format_value(const Value& v) {
  std::ostringstream s;
  switch (v.index()) {
    case 0: s << (std::get<bool>(v) ? "true" : "false"); break;
    case 1: s << std::get<int64_t>(v); break;
    case 2: {
      // The shortest decimal that reads back as the same double (0.35, not
      // 0.34999999999999998).
      const double d = std::get<double>(v);
      for (int digits = 15; digits <= 17; ++digits) {
        std::ostringstream t;
        t.precision(digits);
        t << d;
        if (digits == 17 || std::strtod(t.str().c_str(), nullptr) == d) {
          s << t.str();
          break;
        }
      }
      if (s.str().find_first_of(".eEn") == std::string::npos) s << ".0";
      break;
    }
    default: s << toml::value<std::string>(std::get<std::string>(v)); break;
  }
  return s.str();
}

std::string join_words(const std::vector<std::string>& words, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) out += (i ? separator : "") + words[i];
  return out;
}

std::vector<std::string> split_words(const std::string& text, const std::string& separators) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find_first_of(separators, start);
    const std::string item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const auto first = item.find_first_not_of(" \t\r\n");
    if (first != std::string::npos) items.push_back(item.substr(first, item.find_last_not_of(" \t\r\n") - first + 1));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return items;
}

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

namespace {
// A value typed on the command line (a flag, --set) is a usage error (exit 2).
[[noreturn]] void fail(const std::string& origin, const std::string& message) {
  if (!origin.empty() && origin[0] == '-') throw UsageError(origin + ": " + message);
  throw Error(origin + ": " + message);
}
}  // namespace

Config::Config(std::vector<Field> schema, const std::string& origin) : schema_(std::move(schema)) {
  for (const auto& f : schema_) {
    values_[f.key] = f.default_value;
    origins_[f.key] = origin;
  }
}

const Field& Config::field(const std::string& key, const std::string& origin) const {
  for (const auto& f : schema_)
    if (f.key == key) return f;
  std::string near = nearest_key(key, schema_);
  fail(origin, "unknown key '" + key + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?"));
}

void Config::assign(const std::string& key, const Value& value, const std::string& origin) {
  const Field& f = field(key, origin);
  ENDD_CHECK(value.index() == f.default_value.index(), origin, ": ", key, ": expected ", type_name(f.default_value),
             ", got ", type_name(value));
  values_[key] = value;
  origins_[key] = origin;
}

void Config::reject(const std::string& key, const std::string& message) const {
  fail(origin(key), key + ": " + message);
}

void Config::require(const std::string& key, bool ok, const std::string& expected) const {
  if (!ok) fail(origin(key), key + ": " + expected + ", got " + format_value(values_.at(key)));
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

toml::table parse_toml(const std::string& text, const std::string& origin) {
  check_ascii(text, origin);
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw Error(detail::concat(origin, ":", e.source().begin.line, ": invalid TOML: ", e.description()));
  }
}
}  // namespace

std::optional<std::string> top_level_string(const std::string& path, const std::string& key) {
  toml::table table = parse_toml(read_file(path), path);
  return table[key].value_exact<std::string>();
}

void Config::merge_toml(const std::string& text, const std::string& origin) {
  toml::table table = parse_toml(text, origin);
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
      origins_[key] = where;
    }
  };
  walk(table, "");
}

void Config::merge_toml_file(const std::string& path) { merge_toml(read_file(path), path); }

void Config::set(const std::string& assignment) {
  auto eq = assignment.find('=');
  ENDD_CHECK(eq != std::string::npos && eq > 0, "--set ", assignment, ": expected key=value");
  set_text(assignment.substr(0, eq), assignment.substr(eq + 1), "--set " + assignment);
}

void Config::set_text(const std::string& key, const std::string& text, const std::string& origin) {
  const Field& f = field(key, origin);
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
  if (!ok) fail(origin, detail::concat(key, ": expected ", type_name(f.default_value), ", got '", text, "'"));
  values_[key] = v;
  origins_[key] = origin;
}

bool Config::get_bool(const std::string& key) const { return std::get<bool>(values_.at(key)); }
int64_t Config::get_int(const std::string& key) const { return std::get<int64_t>(values_.at(key)); }
double Config::get_double(const std::string& key) const { return std::get<double>(values_.at(key)); }
const std::string& Config::get_string(const std::string& key) const { return std::get<std::string>(values_.at(key)); }

std::string Config::to_toml() const {
  // Top-level keys first (TOML puts every key after a [header] in that
  // table), then each section once, in the order the schema first names it.
  std::vector<std::string> sections{""};
  auto section_of = [](const std::string& key) {
    auto dot = key.rfind('.');
    return dot == std::string::npos ? std::string() : key.substr(0, dot);
  };
  for (const auto& f : schema_)
    if (std::find(sections.begin(), sections.end(), section_of(f.key)) == sections.end())
      sections.push_back(section_of(f.key));
  std::ostringstream out;
  out << "# Resolved endd configuration (every key, defaults included)\n";
  for (const auto& section : sections) {
    if (!section.empty()) out << "\n[" << section << "]\n";
    for (const auto& f : schema_) {
      if (section_of(f.key) != section) continue;
      const std::string name = section.empty() ? f.key : f.key.substr(section.size() + 1);
      out << name << " = " << format_value(values_.at(f.key)) << "  # " << f.help << "\n";
    }
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
