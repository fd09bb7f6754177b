// Crash safety (SIGKILL at random moments, then resume), a full disk, and
// byte-for-byte determinism.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <sstream>

#include "cli_test_util.h"
#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/data/numeric_csv.h"
#include "endd/runs/run_directory.h"

using namespace endd::testing;
namespace fs = std::filesystem;

namespace {

void write_data(const std::string& path, int n) {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> z(0, 1);
  std::ostringstream out;
  for (int i = 0; i < n; ++i) {
    int y = static_cast<int>(rng() % 3);
    out << y * 2.0 + z(rng) << "," << z(rng) << "," << y << "\n";
  }
  write_text(path, out.str());
}

// Every file a killed run left must be whole: parseable, loadable, no temporaries
// under their real names.
void expect_whole_files(const std::string& run, const std::string& when) {
  std::error_code ec;
  if (!fs::exists(run + "/run.json", ec)) return;  // killed before the run began
  EXPECT_NO_THROW(endd::runs::load_run_info(run)) << when;
  if (fs::exists(run + "/train_log.csv", ec)) EXPECT_NO_THROW(endd::data::read_numeric_csv(run + "/train_log.csv")) << when;
  if (fs::exists(run + "/checkpoint.pt", ec)) {
    auto info = endd::runs::load_run_info(run);
    auto net = endd::runs::make_network(info, std::vector<uint64_t>(static_cast<size_t>(info.members), 0));
    torch::optim::Adam opt(net->parameters());
    endd::train::TrainingCurve curve;
    EXPECT_NO_THROW(endd::runs::load_checkpoint(run + "/checkpoint.pt", *net, opt, curve)) << when;
  }
}

// Runs `args` (+ --out run), killing it at the given random moments, resuming
// (or restarting if it never got going) until it finishes. Returns how many
// kills hit a run that had begun (written run.json).
int run_with_kills(const std::vector<std::string>& args, const std::string& resume_cmd, const std::string& run,
                   const std::vector<int>& delays_ms) {
  int kills = 0;
  std::vector<std::string> start = args;
  start.insert(start.end(), {"--out", run});
  bool started = false;
  for (int delay : delays_ms) {
    std::vector<std::string> cmd = started ? std::vector<std::string>{resume_cmd, "--resume", run} : start;
    bool killed = run_and_kill_after(cmd, delay);
    expect_whole_files(run, "after a kill at " + std::to_string(delay) + " ms");
    started = fs::exists(run + "/run.json");
    if (!killed) break;
    if (started) ++kills;
  }
  auto info_finished = [&] { return started && endd::runs::load_run_info(run).finished; };
  if (!info_finished()) {
    auto r = started ? run_endd({resume_cmd, "--resume", run}) : run_endd(start);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  return kills;
}

}  // namespace

TEST(CrashSafetyTest, KillsAtRandomMomentsThenResumeMatchAnUninterruptedRun) {
  auto dir = fresh_dir("crash");
  write_data(dir + "/train.csv", 3000);
  const std::vector<std::string> train{"train", "--data", dir + "/train.csv", "--members", "6", "--epochs", "60",
                                       "--set", "model.width=96"};
  auto full = train;
  full.insert(full.end(), {"--out", dir + "/full"});
  // The moments are taken from the binary's own times: its start-up (loading
  // LibTorch, ~0.7 s) and a whole run, timed as children. The first kill
  // comes before the run has begun (30 ms: the restart path); the others
  // after start-up, at 20-45% of the training that follows, so that the
  // first two land before a resumed run (start-up again, then the rest) can
  // have finished, however fast or loaded the machine is. (Moments from an
  // in-process run fell inside start-up on a fast machine.)
  auto child_ms = [](const std::vector<std::string>& args) {
    const auto t = std::chrono::steady_clock::now();
    EXPECT_FALSE(run_and_kill_after(args, 600000));
    return static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count());
  };
  const int startup = child_ms({"--version"});
  std::mt19937 rng(2024);
  auto kill_moments = [&rng, startup](int whole) {
    const int training = std::max(1, whole - startup);
    std::uniform_int_distribution<int> delay(startup + training / 5, startup + training * 9 / 20);
    std::vector<int> moments{30};
    for (int k = 0; k < 4; ++k) moments.push_back(delay(rng));
    return moments;
  };
  std::vector<int> kills = kill_moments(child_ms(full));
  // At least two kills must land in a run that has begun, or resuming is untested.
  EXPECT_GE(run_with_kills(train, "train", dir + "/cut", kills), 2) << "too few kills interrupted the run";
  auto a = weights_of(dir + "/full"), b = weights_of(dir + "/cut");
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << "tensor " << i;

  const std::vector<std::string> distill{"distill", "--teacher", dir + "/full", "--epochs", "60", "--aux", "generated"};
  auto sfull = distill;
  sfull.insert(sfull.end(), {"--out", dir + "/s_full"});
  kills = kill_moments(child_ms(sfull));
  EXPECT_GE(run_with_kills(distill, "distill", dir + "/s_cut", kills), 2) << "too few kills interrupted the run";
  a = weights_of(dir + "/s_full");
  b = weights_of(dir + "/s_cut");
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << "student tensor " << i;
  for (const auto& entry : fs::directory_iterator(dir + "/s_cut"))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << "temporary left: " << entry.path();
}

TEST(CrashSafetyTest, FullDiskGivesAClearErrorAndKeepsEarlierFiles) {
  auto dir = fresh_dir("fulldisk");
  write_data(dir + "/train.csv", 300);
  std::string err;
  // run.json and config.toml (~1-2 KB) fit; the first checkpoint (~25 KB) does not.
  const std::vector<std::string> train{"train", "--data", dir + "/train.csv", "--members", "4", "--epochs", "1", "--out",
                                       dir + "/run"};
  int code = run_with_file_limit(train, 12000, err);
  EXPECT_EQ(code, 1) << err;
  EXPECT_NE(err.find("File too large"), std::string::npos) << err;
  EXPECT_NE(err.find("checkpoint.pt"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir + "/run")) << "a fresh run that failed leaves nothing behind";
  // A run that exists keeps what it had when a resumed epoch cannot be saved.
  ASSERT_EQ(run_endd(train).exit_code, 0);
  const std::string checkpoint = endd::read_file(dir + "/run/checkpoint.pt");
  code = run_with_file_limit({"train", "--resume", dir + "/run", "--epochs", "3"}, 12000, err);
  EXPECT_EQ(code, 1) << err;
  EXPECT_NE(err.find("checkpoint.pt"), std::string::npos) << err;
  EXPECT_NO_THROW(endd::runs::load_run_info(dir + "/run"));  // the earlier files are intact
  EXPECT_EQ(endd::read_file(dir + "/run/checkpoint.pt"), checkpoint);
  for (const auto& entry : fs::directory_iterator(dir + "/run"))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}

TEST(DeterminismTest, SameSeedAndThreadsGiveIdenticalResults) {
  auto dir = fresh_dir("determinism");
  for (const auto* out : {"/a", "/b"}) {
    auto r = run_endd({"--threads", "1", "experiment", "spiral", "--quick", "--out", dir + out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Wall-clock timings (models.*.train_seconds, timing) are the only keys that
  // may differ; everything else must match to the last byte.
  auto strip = [](nlohmann::json j) {
    j.erase("timing");
    for (auto& [name, m] : j["models"].items()) m.erase("train_seconds");
    return j.dump(2);
  };
  EXPECT_EQ(strip(nlohmann::json::parse(read_text(dir + "/a/results.json"))),
            strip(nlohmann::json::parse(read_text(dir + "/b/results.json"))));
  for (const auto* f : {"uncertainty_maps.csv", "knowledge_histograms.csv", "data_points.csv", "ensemble_curve.csv"})
    EXPECT_EQ(read_text(dir + "/a/" + f), read_text(dir + "/b/" + f)) << f;
}
