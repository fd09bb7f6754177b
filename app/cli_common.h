#pragma once
// What every subcommand shares: the global flags, their one-time application,
// and the registration hooks of the subcommands (one file each).
#include <CLI/CLI.hpp>

#include <c10/core/Device.h>

#include "endd/config/config.h"
#include "endd/core/runtime.h"
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace endd::cli {

struct GlobalOptions {
  uint64_t seed = 0;
  int threads = 0;  ///< 0 = the measured default (docs/threads.md)
  std::string device = "cpu";
  bool quiet = false;
  const CLI::Option* seed_option = nullptr;
  /// --seed was typed: only then does it override a config file's seed.
  bool seed_given() const { return seed_option && seed_option->count() > 0; }
};

/// Validators whose messages say what was given and what is accepted.
CLI::Validator integer_at_least(int64_t min);
CLI::Validator integer_in(int64_t min, int64_t max);
CLI::Validator positive_number();
CLI::Validator number_at_least(double min);
CLI::Validator number_in(double min, double below);  ///< min <= x < below

/// Prints a command-line error as "endd: error: ..." (help and --version as
/// CLI11 does) and returns the exit code: 2, or 0 for help.
int report_parse_error(CLI::App& app, const CLI::ParseError& e, const std::vector<std::string>& args);

/// How a command joins a process group (docs/distributed.md): torchrun's
/// variables, or --dist-url tcp://HOST:PORT --rank R --world-size W.
struct DistributedArgs {
  std::string url;
  int rank = -1, world_size = -1;
  int64_t timeout_seconds = 60;
};
void add_distributed_options(CLI::App* cmd, DistributedArgs& a);
/// Joins the group `a` or the environment describes (none: one process).
void join_group(const DistributedArgs& a);

/// Applies threads (default by workload) and returns the parsed device; call
/// at the start of a command.
c10::Device apply_globals(const GlobalOptions& g, Workload workload = Workload::kTraining);

/// Defaults < config file < command-line flags (`flags`, key=value) < --set.
/// Relative data-source paths become absolute, so a run resumes from anywhere.
/// A typed flag as its key's value; `flag` (e.g. "--ood") is named as the
/// value's origin in any error ("" = "the command line").
struct FlagValue {
  std::string key;
  config::Value value;
  std::string flag;
};
using Flags = std::vector<FlagValue>;
config::Config build_config(config::Config base, const std::string& config_file, const Flags& flags,
                            const std::vector<std::string>& sets);

void add_uncertainty_command(CLI::App& app, GlobalOptions& g);
void add_train_command(CLI::App& app, GlobalOptions& g);
void add_distill_command(CLI::App& app, GlobalOptions& g);
void add_evaluate_command(CLI::App& app, GlobalOptions& g);
void add_predict_command(CLI::App& app, GlobalOptions& g);
void add_export_command(CLI::App& app, GlobalOptions& g);
void add_score_command(CLI::App& app, GlobalOptions& g);
void add_experiment_command(CLI::App& app, GlobalOptions& g);

/// The whole CLI: parses argv, runs the chosen subcommand, returns the exit
/// code. Errors are printed to stderr as "endd: error: ..." with exit code 1
/// (2 for a malformed command line).
int run_cli(int argc, char** argv);

}  // namespace endd::cli
