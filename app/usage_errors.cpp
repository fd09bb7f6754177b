// Command-line errors in the project's words: every malformed command line
// gets "endd: error: ...", what was wrong, and exit code 2 (docs/cli.md).
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <iostream>
#include <regex>

#include "cli_common.h"
#include "endd/config/config.h"

namespace endd::cli {
namespace {

std::vector<std::string> subcommand_names(const CLI::App& cmd) {
  std::vector<std::string> out;
  for (const auto* sub : cmd.get_subcommands({})) out.push_back(sub->get_name());
  return out;
}

std::vector<std::string> long_option_names(const CLI::App& cmd) {
  std::vector<std::string> out;
  for (const auto* app = &cmd; app; app = app->get_parent())
    for (const auto* opt : app->get_options())
      for (const auto& name : opt->get_lnames()) out.push_back("--" + name);
  return out;
}

// The command word that follows `cmd` on the command line, skipping flags and
// the values of the global options that take one.
std::string word_after(const CLI::App& cmd, const std::vector<std::string>& args) {
  size_t i = 0;
  if (cmd.get_parent()) {
    while (i < args.size() && args[i] != cmd.get_name()) ++i;
    ++i;
  }
  for (; i < args.size(); ++i) {
    if (args[i] == "--seed" || args[i] == "--threads" || args[i] == "--device") {
      ++i;
      continue;
    }
    if (!args[i].empty() && args[i][0] != '-') return args[i];
  }
  return "";
}

std::string command_path(const CLI::App& cmd) {
  std::string path = cmd.get_parent() ? cmd.get_name() : "endd";
  for (const auto* p = cmd.get_parent(); p; p = p->get_parent()) path = (p->get_parent() ? p->get_name() : "endd") + " " + path;
  return path;
}

std::string rewrite(const CLI::App& cmd, const CLI::ParseError& e, const std::vector<std::string>& args) {
  std::string msg = e.what();
  std::smatch m;
  const std::vector<std::string> subs = subcommand_names(cmd);
  const bool needs_subcommand = !subs.empty() && cmd.get_subcommands().empty();
  const std::string first_word = word_after(cmd, args);
  // `endd experiment FILE.toml --flag`: the file form takes --set, not the
  // named experiments' flags.
  const bool experiment_file = cmd.get_name() == "experiment" && first_word.find(".toml") != std::string::npos;
  if (experiment_file && dynamic_cast<const CLI::ExtrasError*>(&e)) {
    static const std::regex extras_in_file("not expected: (.*)");
    std::string extra = std::regex_search(msg, m, extras_in_file) ? std::string(m[1]) : msg;
    return "unknown option or argument: " + extra + " (with an experiment file, set any key with --set KEY=VALUE; "
           "--print-config lists the keys)";
  }
  if (needs_subcommand && (dynamic_cast<const CLI::RequiredError*>(&e) || dynamic_cast<const CLI::ExtrasError*>(&e))) {
    std::string word = first_word;
    const std::string what = cmd.get_parent() ? "experiment" : "command";
    if (word.empty()) return "no " + what + " given; expected one of: " + config::join_words(subs);
    std::string near = config::nearest_word(word, subs);
    return "unknown " + what + " '" + word + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?") +
           " (expected one of: " + config::join_words(subs) + ")";
  }
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    static const std::regex extras("not expected: (.*)");
    std::string extra = std::regex_search(msg, m, extras) ? std::string(m[1]) : msg;
    std::string first = extra.substr(0, extra.find(' '));
    std::string near = first.rfind("--", 0) == 0 ? config::nearest_word(first, long_option_names(cmd)) : "";
    return "unknown option or argument: " + extra + (near.empty() ? "" : " (did you mean " + near + "?)");
  }
  static const std::regex convert("Could not convert: (\\S+) = (.*)");
  static const std::regex not_allowed("The value (.*) is not an allowed value for (\\S+)");
  if (std::regex_search(msg, m, convert)) return std::string(m[1]) + ": got '" + std::string(m[2]) + "', expected a number";
  if (std::regex_search(msg, m, not_allowed)) return std::string(m[2]) + ": got '" + std::string(m[1]) + "', which it does not accept";
  static const std::regex missing_value("^(\\S+): (\\d+) required \\S+ missing");
  if (std::regex_search(msg, m, missing_value)) return std::string(m[1]) + " needs a value";
  return msg;
}

}  // namespace

namespace {

// A validator whose message says what was given and what is accepted.
CLI::Validator integer_check(int64_t min, int64_t max, const std::string& expected, const std::string& range) {
  return CLI::Validator(
      [min, max, expected](std::string& s) -> std::string {
        int64_t v = 0;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max)
          return "got '" + s + "', expected " + expected;
        return "";
      },
      range);
}

CLI::Validator number_check(const std::function<bool(double)>& accepts, const std::string& expected,
                            const std::string& range) {
  return CLI::Validator(
      [accepts, expected](std::string& s) -> std::string {
        char* end = nullptr;
        double v = std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || !accepts(v))
          return "got '" + s + "', expected " + expected;
        return "";
      },
      range);
}

}  // namespace

CLI::Validator integer_at_least(int64_t min) {
  return integer_check(min, std::numeric_limits<int64_t>::max(), "an integer >= " + std::to_string(min),
                       ">= " + std::to_string(min));
}

CLI::Validator integer_in(int64_t min, int64_t max) {
  return integer_check(min, max, "an integer from " + std::to_string(min) + " to " + std::to_string(max),
                       std::to_string(min) + " to " + std::to_string(max));
}

CLI::Validator positive_number() {
  return number_check([](double v) { return v > 0; }, "a number > 0", "> 0");
}

CLI::Validator number_at_least(double min) {
  return number_check([min](double v) { return v >= min; }, "a number >= " + CLI::detail::to_string(min),
                      ">= " + CLI::detail::to_string(min));
}

CLI::Validator number_in(double min, double below) {
  return number_check([min, below](double v) { return v >= min && v < below; },
                      "a number >= " + CLI::detail::to_string(min) + " and < " + CLI::detail::to_string(below),
                      "[" + CLI::detail::to_string(min) + ", " + CLI::detail::to_string(below) + ")");
}

int report_parse_error(CLI::App& app, const CLI::ParseError& e, const std::vector<std::string>& args) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
  const CLI::App* cmd = &app;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (const auto* sub : cmd->get_subcommands()) {
      cmd = sub;
      deeper = true;
      break;
    }
  }
  std::cerr << "endd: error: " << rewrite(*cmd, e, args) << "\n"
            << "(see '" << command_path(*cmd) << " --help')\n";
  return 2;
}

}  // namespace endd::cli
