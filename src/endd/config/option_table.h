#pragma once
// One declaration per option of a settings struct: its config key, command-
// line flag, help text, range check and the struct member it fills. From the
// table come the schema (defaults taken from a struct value), the struct read
// back from a resolved Config (each value checked, an error naming the file
// and line, flag or --set it came from) and the Config of a struct (for
// --print-config and results.json). A key is written once, here.
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "endd/config/config.h"
#include "endd/core/error.h"

namespace endd::config {

/// "" when a value is acceptable, else what was expected ("expected >= 1").
using Check = std::function<std::string(const Value&)>;
Check at_least(double min);               ///< numbers >= min
Check above(double min);                  ///< numbers > min
Check in_range(double min, double max);   ///< numbers in [min, max]
Check below_one(double min);              ///< numbers in [min, 1)
Check one_of(std::vector<std::string> words);  ///< strings

/// One option as the command line sees it: `flag` sets `key`.
struct FlagSpec {
  std::string flag, key, help;
  bool is_switch = false;  ///< a bool option: the bare flag means true
};

template <class Settings>
class OptionTable {
 public:
  /// `member` maps a Settings& to the member's reference, e.g.
  /// [](auto& s) -> auto& { return s.ensemble.epochs; }. `flag` may be "".
  template <class Member>
  OptionTable& add(std::string key, std::string flag, std::string help, Member member, Check check = {}) {
    using T = std::remove_reference_t<decltype(member(std::declval<Settings&>()))>;
    Option o;
    o.key = std::move(key);
    o.flag = std::move(flag);
    o.help = std::move(help);
    o.check = std::move(check);
    o.is_switch = std::is_same_v<T, bool>;
    o.get = [member](const Settings& s) { return to_value(member(const_cast<Settings&>(s))); };
    o.put = [member](Settings& s, const Value& v) { from_value(v, member(s)); };
    options_.push_back(std::move(o));
    return *this;
  }

  /// An option held in the struct as something richer than a Value (a list,
  /// an enum): `to_text(s)` writes it, `from_text(s, text)` parses it and
  /// throws endd::Error on bad text (the error gains the value's origin).
  template <class ToText, class FromText>
  OptionTable& add_parsed(std::string key, std::string flag, std::string help, ToText to_text, FromText from_text) {
    Option o;
    o.key = std::move(key);
    o.flag = std::move(flag);
    o.help = std::move(help);
    o.get = [to_text](const Settings& s) { return Value(std::string(to_text(s))); };
    o.put = [from_text](Settings& s, const Value& v) { from_text(s, std::get<std::string>(v)); };
    options_.push_back(std::move(o));
    return *this;
  }

  /// The schema, each default taken from `defaults`; `origin` names those
  /// values in errors.
  Config schema(const Settings& defaults, const std::string& origin = "default") const {
    std::vector<Field> fields;
    for (const auto& o : options_) fields.push_back({o.key, o.get(defaults), o.help});
    return Config(std::move(fields), origin);
  }

  /// The settings a resolved Config describes; every value checked first.
  Settings read(const Config& c, Settings s = Settings{}) const {
    for (const auto& o : options_) {
      if (o.check) {
        const std::string expected = o.check(c.get(o.key));
        c.require(o.key, expected.empty(), expected);
      }
      try {
        o.put(s, c.get(o.key));
      } catch (const Error& e) {
        std::string message = e.what();
        if (message.rfind(o.key + ": ", 0) == 0) message.erase(0, o.key.size() + 2);  // named once
        c.reject(o.key, message);
      }
    }
    return s;
  }


  std::vector<FlagSpec> flags() const {
    std::vector<FlagSpec> out;
    for (const auto& o : options_)
      if (!o.flag.empty()) out.push_back({o.flag, o.key, o.help, o.is_switch});
    return out;
  }

 private:
  struct Option {
    std::string key, flag, help;
    Check check;
    bool is_switch = false;
    std::function<Value(const Settings&)> get;
    std::function<void(Settings&, const Value&)> put;
  };

  template <class T>
  static Value to_value(const T& v) {
    if constexpr (std::is_same_v<T, bool>) return v;
    else if constexpr (std::is_integral_v<T>) return static_cast<int64_t>(v);
    else if constexpr (std::is_floating_point_v<T>) return static_cast<double>(v);
    else return std::string(v);
  }
  template <class T>
  static void from_value(const Value& v, T& out) {
    if constexpr (std::is_same_v<T, bool>) out = std::get<bool>(v);
    else if constexpr (std::is_integral_v<T>) out = static_cast<T>(std::get<int64_t>(v));
    else if constexpr (std::is_floating_point_v<T>) out = static_cast<T>(std::get<double>(v));
    else out = std::get<std::string>(v);
  }

  std::vector<Option> options_;
};

}  // namespace endd::config
