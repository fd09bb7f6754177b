#pragma once
// Runs the endd CLI in-process and captures what it prints.
#include <ATen/core/Tensor.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace endd::testing {

struct CliResult {
  int exit_code;
  std::string err;
  std::string out;  ///< what it printed to stdout
};

/// Runs `endd args...` through endd::cli::run_cli (adds -q unless asked not to).
CliResult run_endd(std::vector<std::string> args, bool quiet = true);

/// A fresh empty directory under the system temp directory, removed when the
/// test passes (kept, with its path printed, when it fails or with
/// ENDD_KEEP_TEST_DIRS=1).
std::string fresh_dir(const std::string& name);

/// Runs the endd binary (ENDD_BINARY) as a child with -q; kills it with
/// SIGKILL once RUN/run.json says `kill_after` epochs are done. Returns true
/// if it was killed mid-run (false if it ended first).
bool run_and_kill(const std::vector<std::string>& args, const std::string& run, int kill_after);

/// Runs `endd args...` as `world` processes with the variables torchrun sets
/// (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR 127.0.0.1, a free MASTER_PORT).
/// With `kill_rank` >= 0, SIGKILLs that rank once RUN/run.json counts
/// `kill_after` epochs. Without `variables`, none are set, and "{rank}" and
/// "{port}" in `args` become each rank's number and the port (--dist-url).
/// Returns each rank's exit code and stderr.
struct RankResults {
  std::vector<int> exit_codes;
  std::vector<std::string> errs;
  bool killed = false;
  std::chrono::steady_clock::time_point killed_at, ended_at;
};
RankResults run_ranks(const std::vector<std::string>& args, int world, int kill_rank = -1, const std::string& run = "",
                      int kill_after = 0, bool variables = true);

/// Runs the endd binary as a child, kills it with SIGKILL after `delay_ms`
/// (if still running). Returns true if it was killed.
bool run_and_kill_after(const std::vector<std::string>& args, int delay_ms);

/// Runs the endd binary as a child with a file-size limit (bytes) and
/// SIGXFSZ ignored, as on a full disk; returns its exit code, stderr in `err`.
int run_with_file_limit(const std::vector<std::string>& args, long limit_bytes, std::string& err);

/// Runs `endd args...`: success if it was refused, i.e. a non-zero exit,
/// `message` in what it printed, and nothing at `output` afterwards; the
/// failure says which of these did not hold. Use as EXPECT_TRUE(refused(...)).
::testing::AssertionResult refused(const std::vector<std::string>& args, const std::string& message,
                                   const std::string& output);

/// The final weights of a finished run, on the CPU (to compare runs bit for bit).
std::vector<at::Tensor> weights_of(const std::string& run);

void write_text(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);
nlohmann::json read_json(const std::string& path);
bool exists(const std::string& path);

/// Three Gaussian blobs around (0, 0), (3, 0) and (0, 3) (+ `shift`), a third
/// pure-noise feature, and the class (0-2) as the last column unless
/// `labels` is false: `n` rows of CSV, no header.
void write_blobs(const std::string& path, int n, uint64_t seed, bool labels = true, double shift = 0);

/// Whether Debian's python3-torch is there (/usr/bin/python3 imports torch).
bool python_has_torch();

/// Loads the exported TorchScript `module` in Python, runs it on the inputs
/// that `inputs` (a Python expression for a float32 tensor) makes, and checks
/// it against `predictions` (an `endd predict` CSV): each of `columns`
/// (measures such as "total", or "pK" for probability K) to 1e-5 and the
/// predicted class exactly. `dir` takes the script.
::testing::AssertionResult exported_module_matches(const std::string& module, const std::string& inputs,
                                                   const std::string& predictions,
                                                   const std::vector<std::string>& columns, const std::string& dir);

}  // namespace endd::testing
