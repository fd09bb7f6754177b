#include "cli_test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "cli_common.h"
#include "endd/runs/run_directory.h"

namespace endd::testing {

CliResult run_endd(std::vector<std::string> args, bool quiet) {
  args.insert(args.begin(), "endd");
  if (quiet) args.insert(args.begin() + 1, "-q");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  int code = cli::run_cli(static_cast<int>(argv.size()), argv.data());
  std::string out = ::testing::internal::GetCapturedStdout();
  return {code, ::testing::internal::GetCapturedStderr(), out};
}

std::vector<at::Tensor> weights_of(const std::string& run) {
  auto m = runs::load_model(run, c10::Device(c10::kCPU));
  std::vector<at::Tensor> out;
  for (const auto& p : m.net->parameters()) out.push_back(p.detach().clone());
  return out;
}

namespace {

// The directories fresh_dir made for the running test. A test that passes
// takes them with it; one that fails leaves them for a look (the path is
// printed), as does ENDD_KEEP_TEST_DIRS=1.
std::vector<std::filesystem::path>& test_dirs() {
  static std::vector<std::filesystem::path> dirs;
  return dirs;
}

class RemoveTestDirs : public ::testing::EmptyTestEventListener {
  void OnTestEnd(const ::testing::TestInfo& info) override {
    const char* keep = std::getenv("ENDD_KEEP_TEST_DIRS");
    const bool failed = info.result() && info.result()->Failed();
    for (const auto& dir : test_dirs()) {
      std::error_code ec;
      if (failed || (keep && std::string(keep) == "1"))
        std::fprintf(stderr, "[ test dir ] %s\n", dir.c_str());
      else
        std::filesystem::remove_all(dir, ec);
    }
    test_dirs().clear();
  }
};

// Registered once, from the first fresh_dir (gtest owns the listener).
void remove_test_dirs_after_each_test() {
  static const bool registered = [] {
    ::testing::UnitTest::GetInstance()->listeners().Append(new RemoveTestDirs);
    return true;
  }();
  (void)registered;
}

}  // namespace

std::string fresh_dir(const std::string& name) {
  remove_test_dirs_after_each_test();
  auto dir = std::filesystem::temp_directory_path() / ("endd_cli_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  test_dirs().push_back(dir);
  return dir.string();
}

namespace {
pid_t spawn(const std::vector<std::string>& args, const std::function<void()>& in_child = {}) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (in_child) in_child();
    std::vector<char*> argv{const_cast<char*>(ENDD_BINARY), const_cast<char*>("-q")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(ENDD_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}
}  // namespace

namespace {
// A TCP port nobody listens on now (the kernel's pick for port 0).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}
}  // namespace

RankResults run_ranks(const std::vector<std::string>& args, int world, int kill_rank, const std::string& run,
                      int kill_after, bool variables) {
  const std::string port = std::to_string(free_port());
  const auto base = std::filesystem::temp_directory_path() / ("endd_rank_" + std::to_string(::getpid()) + "_");
  std::vector<pid_t> pids;
  for (int r = 0; r < world; ++r) {
    const std::string err = base.string() + std::to_string(r);
    std::vector<std::string> rank_args;  // "{rank}" and "{port}" filled in
    for (std::string a : args) {
      for (const auto& [key, value] : {std::pair<std::string, std::string>{"{rank}", std::to_string(r)}, {"{port}", port}})
        for (size_t at = a.find(key); at != std::string::npos; at = a.find(key)) a.replace(at, key.size(), value);
      rank_args.push_back(a);
    }
    pids.push_back(spawn(rank_args, [&] {
      std::freopen(err.c_str(), "w", stderr);
      if (!variables) return;
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", port.c_str(), 1);
    }));
  }
  RankResults out;
  out.exit_codes.assign(static_cast<size_t>(world), -1);
  if (kill_rank >= 0) {  // SIGKILL it once run.json counts `kill_after` epochs
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline && !out.killed) {
      try {
        if (nlohmann::json::parse(read_text(run + "/run.json"))["epochs_done"].get<int>() >= kill_after) {
          ::kill(pids[static_cast<size_t>(kill_rank)], SIGKILL);
          out.killed = true;
          out.killed_at = std::chrono::steady_clock::now();
        }
      } catch (...) {
        // not written yet
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  for (int r = 0; r < world; ++r) {
    int status = 0;
    ::waitpid(pids[static_cast<size_t>(r)], &status, 0);
    out.exit_codes[static_cast<size_t>(r)] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    out.errs.push_back(read_text(base.string() + std::to_string(r)));
    std::filesystem::remove(base.string() + std::to_string(r));
  }
  out.ended_at = std::chrono::steady_clock::now();
  return out;
}

bool run_and_kill(const std::vector<std::string>& args, const std::string& run, int kill_after) {
  pid_t pid = spawn(args);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;  // finished before the kill point
    try {
      auto j = nlohmann::json::parse(read_text(run + "/run.json"));
      if (j["epochs_done"].get<int>() >= kill_after) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return true;
      }
    } catch (...) {
      // not written yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return false;
}

bool run_and_kill_after(const std::vector<std::string>& args, int delay_ms) {
  pid_t pid = spawn(args);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
  int status;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return true;
}

int run_with_file_limit(const std::vector<std::string>& args, long limit_bytes, std::string& err) {
  std::string err_path = std::filesystem::temp_directory_path() / ("endd_fsize_" + std::to_string(::getpid()));
  pid_t pid = spawn(args, [&] {
    std::freopen(err_path.c_str(), "w", stderr);  // opened before the limit applies to it
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim {static_cast<rlim_t>(limit_bytes), static_cast<rlim_t>(limit_bytes)};
    ::setrlimit(RLIMIT_FSIZE, &lim);
  });
  int status = 0;
  ::waitpid(pid, &status, 0);
  err = read_text(err_path);
  std::filesystem::remove(err_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool exists(const std::string& path) { return std::filesystem::exists(path); }

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

void write_blobs(const std::string& path, int n, uint64_t seed, bool labels, double shift) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  std::ostringstream out;
  const double centers[3][2] = {{0, 0}, {3, 0}, {0, 3}};
  for (int i = 0; i < n; ++i) {
    int y = static_cast<int>(rng() % 3);
    out << centers[y][0] + noise(rng) + shift << "," << centers[y][1] + noise(rng) + shift << "," << noise(rng);
    if (labels) out << "," << y;
    out << "\n";
  }
  write_text(path, out.str());
}

bool python_has_torch() { return std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0; }

::testing::AssertionResult exported_module_matches(const std::string& module, const std::string& inputs,
                                                   const std::string& predictions,
                                                   const std::vector<std::string>& columns, const std::string& dir) {
  std::string keys;
  for (const auto& c : columns) keys += (keys.empty() ? "" : ",") + c;
  const std::string script = dir + "/check_export.py";
  write_text(script, "import sys, csv, numpy as np, torch\n"
                     "module, predictions, keys = sys.argv[1], sys.argv[2], sys.argv[3].split(',')\n"
                     "x = " + inputs + "\n"
                     "out = torch.jit.load(module)(x)\n"
                     "rows = list(csv.DictReader(open(predictions)))\n"
                     "for key in keys:\n"
                     "    got = out['probs'][:, int(key[1:])] if key[0] == 'p' and key[1:].isdigit() else out[key]\n"
                     "    want = torch.tensor([float(r[key]) for r in rows], dtype=torch.float64)\n"
                     "    err = (got.double() - want).abs().max().item()\n"
                     "    assert err < 1e-5, (key, err)\n"
                     "assert out['prediction'].tolist() == [int(r['prediction']) for r in rows]\n");
  const int code = std::system(("/usr/bin/python3 " + script + " " + module + " " + predictions + " " + keys).c_str());
  if (code == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << module << " disagrees with " << predictions << " (python exit " << code
                                       << "; its message above)";
}

::testing::AssertionResult refused(const std::vector<std::string>& args, const std::string& message,
                                   const std::string& output) {
  auto r = run_endd(args);
  if (r.exit_code == 0) return ::testing::AssertionFailure() << "exit 0, expected a refusal naming '" << message << "'";
  if (r.err.find(message) == std::string::npos)
    return ::testing::AssertionFailure() << "expected '" << message << "' in: " << r.err;
  if (exists(output)) return ::testing::AssertionFailure() << output << " was left behind (" << message << ")";
  return ::testing::AssertionSuccess();
}

}  // namespace endd::testing
