#pragma once
// Runs the endd CLI in-process and captures what it prints to stderr.
#include <string>
#include <vector>

namespace endd::testing {

struct CliResult {
  int exit_code;
  std::string err;
};

/// Runs `endd args...` through endd::cli::run_cli (adds -q unless asked not to).
CliResult run_endd(std::vector<std::string> args, bool quiet = true);

/// A fresh empty directory under the system temp directory, removed at exit.
std::string fresh_dir(const std::string& name);

void write_text(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);
bool exists(const std::string& path);

}  // namespace endd::testing
