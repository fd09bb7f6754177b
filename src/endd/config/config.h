#pragma once
// Run configuration: a schema of typed keys with defaults, filled from a TOML
// file and `--set key=value` overrides. Strings stop here: the library gets
// typed structs built from a checked Config (see runs/run_config.h).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace endd::config {

using Value = std::variant<bool, int64_t, double, std::string>;

struct Field {
  std::string key;  ///< dotted: "train.epochs"
  Value default_value;
  std::string help;
};

class Config {
 public:
  /// `origin` names the schema's own values in errors ("default", or the
  /// settings struct they were taken from).
  explicit Config(std::vector<Field> schema, const std::string& origin = "default");

  /// Merges a TOML file. Errors name the file, line and key: an unknown key
  /// (with the nearest valid key suggested), a value of the wrong type.
  void merge_toml_file(const std::string& path);
  /// Merges TOML text (`origin` names it in errors).
  void merge_toml(const std::string& text, const std::string& origin);
  /// Applies "key=value" (value parsed by the key's type).
  void set(const std::string& assignment);
  /// Sets `key` from text parsed by the key's type; `origin` (e.g. the flag
  /// "--noise") names the value in this and later errors.
  void set_text(const std::string& key, const std::string& text, const std::string& origin);
  /// Sets a typed value (the type must match the key's).
  void set_value(const std::string& key, const Value& value, const std::string& origin = "the command line") {
    assign(key, value, origin);
  }

  bool get_bool(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_double(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  const Value& get(const std::string& key) const { return values_.at(key); }
  /// Where the key's value came from: "FILE:LINE", "--set key=value", a flag
  /// such as "--noise", or "default".
  const std::string& origin(const std::string& key) const { return origins_.at(key); }
  /// Throws endd::Error "ORIGIN: key: EXPECTED, got VALUE" unless `ok`.
  void require(const std::string& key, bool ok, const std::string& expected) const;
  /// Throws "ORIGIN: key: MESSAGE": endd::UsageError when the value was typed
  /// on the command line, endd::Error when it came from a file.
  [[noreturn]] void reject(const std::string& key, const std::string& message) const;

  /// The resolved configuration as TOML (sections by key prefix) and JSON.
  std::string to_toml() const;
  nlohmann::json to_json() const;
  const std::vector<Field>& schema() const { return schema_; }

 private:
  const Field& field(const std::string& key, const std::string& origin) const;
  void assign(const std::string& key, const Value& value, const std::string& origin);

  std::vector<Field> schema_;
  std::map<std::string, Value> values_;
  std::map<std::string, std::string> origins_;
};

/// The string value of top-level `key` in TOML file `path` (nullopt when
/// absent or not a string); endd::Error naming file:line for invalid TOML.
std::optional<std::string> top_level_string(const std::string& path, const std::string& key);

/// A value as TOML writes it (strings quoted, doubles with a decimal point).
std::string format_value(const Value& v);

/// The choice closest to `word` by edit distance ("" if none is close).
std::string nearest_word(const std::string& word, const std::vector<std::string>& choices);

/// "a, b, c": the words with `separator` between them.
std::string join_words(const std::vector<std::string>& words, const std::string& separator = ", ");

/// The reverse: the non-empty items of `text` between any of `separators`,
/// each without surrounding white space ("a, b;c" by ",;" -> a, b, c).
std::vector<std::string> split_words(const std::string& text, const std::string& separators);

/// The valid key closest to `key` by edit distance ("" if none is close).
std::string nearest_key(const std::string& key, const std::vector<Field>& schema);

}  // namespace endd::config
