// endd train across processes (issue 20): ranks started with the variables
// torchrun sets, on 127.0.0.1 only. Each rank trains a block of the members;
// the run equals a one-process run's; a lost rank stops the others.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include <cmath>
#include <sstream>

#include "cli_test_util.h"

using namespace endd::testing;

namespace {

std::vector<std::string> with_out(std::vector<std::string> args, const std::string& out) {
  args.insert(args.end(), {"--out", out});
  return args;
}

// The largest difference between two prediction CSVs of the same columns,
// relative to max(1, |value|) (alpha0 runs to thousands).
double max_difference(const std::string& a, const std::string& b) {
  std::istringstream la(read_text(a)), lb(read_text(b));
  std::string ra, rb;
  std::getline(la, ra);
  std::getline(lb, rb);
  EXPECT_EQ(ra, rb);  // the same columns
  double worst = 0;
  while (std::getline(la, ra) && std::getline(lb, rb)) {
    std::istringstream ca(ra), cb(rb);
    std::string x, y;
    while (std::getline(ca, x, ',') && std::getline(cb, y, ','))
      worst = std::max(worst, std::abs(std::stod(x) - std::stod(y)) / std::max(1.0, std::abs(std::stod(x))));
  }
  return worst;
}

}  // namespace

TEST(DistributedTest, TwoAndThreeProcessesTrainTheMembersOfOne) {
  const std::string dir = fresh_dir("distributed");
  write_blobs(dir + "/train.csv", 600, 1);
  const std::vector<std::string> train{"train", "--data", dir + "/train.csv", "--members", "6", "--epochs", "4"};
  ASSERT_EQ(run_endd(with_out(train, dir + "/one")).exit_code, 0);
  ASSERT_EQ(run_endd({"predict", "--model", dir + "/one", "--data", dir + "/train.csv", "--out", dir + "/one.csv"})
                .exit_code,
            0);
  for (int world : {2, 3}) {
    const std::string run = dir + "/world" + std::to_string(world);
    RankResults r = run_ranks(with_out(train, run), world);
    for (int k = 0; k < world; ++k) ASSERT_EQ(r.exit_codes[size_t(k)], 0) << "rank " << k << ": " << r.errs[size_t(k)];
    auto info = nlohmann::json::parse(read_text(run + "/run.json"));
    EXPECT_EQ(info["members"], 6);
    EXPECT_TRUE(info["finished"].get<bool>());
    for (int k = 0; k < world; ++k)  // each rank checkpointed its own block, after epochs 3 and 4
      for (const auto* slot : {".odd.pt", ".even.pt"})
        EXPECT_TRUE(exists(run + "/checkpoint.rank" + std::to_string(k) + "-of-" + std::to_string(world) + slot));
    ASSERT_EQ(run_endd({"predict", "--model", run, "--data", dir + "/train.csv", "--out", run + ".csv"}).exit_code, 0);
    EXPECT_LE(max_difference(dir + "/one.csv", run + ".csv"), 1e-6) << world << " processes";
  }
}

TEST(DistributedTest, DataParallelStudentMatchesOneProcess) {
  const std::string dir = fresh_dir("distributed_student");
  write_blobs(dir + "/train.csv", 600, 6);
  ASSERT_EQ(run_endd({"train", "--data", dir + "/train.csv", "--members", "4", "--epochs", "10", "--out", dir + "/ens"})
                .exit_code,
            0);
  // EnD^2 at T = 1 throughout: a well-conditioned fit, where float rounding
  // stays at rounding size (under annealing from T = 10 on this toy teacher
  // the loss reaches 1e38 and amplifies any difference).
  const std::vector<std::string> distill{"distill", "--teacher", dir + "/ens", "--method", "end2", "--aux",
                                         "generated", "--epochs", "6", "--set", "distill.batch_size=100",
                                         "--set", "distill.temperature=1", "--set", "distill.learning_rate=3e-3"};
  ASSERT_EQ(run_endd(with_out(distill, dir + "/one")).exit_code, 0);
  for (int world : {2, 3}) {
    const std::string run = dir + "/world" + std::to_string(world);
    RankResults r = run_ranks(with_out(distill, run), world);
    for (int k = 0; k < world; ++k) ASSERT_EQ(r.exit_codes[size_t(k)], 0) << "rank " << k << ": " << r.errs[size_t(k)];
    EXPECT_TRUE(nlohmann::json::parse(read_text(run + "/run.json"))["finished"].get<bool>());
    // Every rank took the whole batch's step: the students agree to rounding.
    auto a = weights_of(dir + "/one"), b = weights_of(run);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::allclose(a[i], b[i], 1e-4, 1e-5)) << "tensor " << i;
    for (const auto& [name, model] : {std::pair<std::string, std::string>{"one", dir + "/one"}, {"many", run}})
      ASSERT_EQ(run_endd({"predict", "--model", model, "--data", dir + "/train.csv", "--out", dir + "/" + name + ".csv"})
                    .exit_code,
                0);
    EXPECT_LE(max_difference(dir + "/one.csv", dir + "/many.csv"), 1e-4) << world << " processes";
  }
}

TEST(DistributedTest, RegressionMembersAcrossProcessesToo) {
  const std::string dir = fresh_dir("distributed_regression");
  write_blobs(dir + "/train.csv", 300, 2);  // the last column as a numeric target
  const std::vector<std::string> train{"train", "--task", "regression", "--data", dir + "/train.csv", "--members",
                                       "4", "--epochs", "3"};
  ASSERT_EQ(run_endd(with_out(train, dir + "/one")).exit_code, 0);
  RankResults r = run_ranks(with_out(train, dir + "/two"), 2);
  ASSERT_EQ(r.exit_codes, (std::vector<int>{0, 0})) << r.errs[0] << r.errs[1];
  for (const auto* run : {"one", "two"})
    ASSERT_EQ(run_endd({"predict", "--model", dir + "/" + run, "--data", dir + "/train.csv", "--out",
                        dir + "/" + run + ".csv"})
                  .exit_code,
              0);
  EXPECT_LE(max_difference(dir + "/one.csv", dir + "/two.csv"), 1e-6);
}

TEST(DistributedTest, ImageMembersAcrossProcessesToo) {
  // A CNN with BatchNorm (vgg): parameters and running statistics gather by
  // member rows. Convolutions over a block of members may round differently
  // from one graph of all of them (as shards do, ShardedTrainingTest), hence
  // 1e-4 rather than 1e-6.
  const std::string dir = fresh_dir("distributed_images");
  const std::vector<std::string> train{"train", "--data", "fashion-mnist:train", "--limit", "300", "--arch", "vgg",
                                       "--members", "4", "--epochs", "2", "--set", "model.stages=4,8",
                                       "--set", "train.augment=crop_flip"};
  ASSERT_EQ(run_endd(with_out(train, dir + "/one")).exit_code, 0);
  RankResults r = run_ranks(with_out(train, dir + "/two"), 2);
  ASSERT_EQ(r.exit_codes, (std::vector<int>{0, 0})) << r.errs[0] << r.errs[1];
  EXPECT_TRUE(exists(dir + "/two/checkpoint.rank1-of-2.even.pt"));
  for (const auto* run : {"one", "two"})
    ASSERT_EQ(run_endd({"predict", "--model", dir + "/" + run, "--data", "fashion-mnist:test", "--limit", "500",
                        "--out", dir + "/" + run + ".csv"})
                  .exit_code,
              0);
  EXPECT_LE(max_difference(dir + "/one.csv", dir + "/two.csv"), 1e-4);
}

TEST(DistributedTest, DistUrlJoinsWithoutALauncher) {
  const std::string dir = fresh_dir("distributed_url");
  write_blobs(dir + "/train.csv", 300, 5);
  const std::vector<std::string> train{"train", "--data", dir + "/train.csv", "--members", "4", "--epochs", "2"};
  ASSERT_EQ(run_endd(with_out(train, dir + "/one")).exit_code, 0);
  std::vector<std::string> args = train;
  args.insert(args.end(), {"--out", dir + "/url", "--dist-url", "tcp://127.0.0.1:{port}", "--rank", "{rank}",
                           "--world-size", "2"});
  RankResults u = run_ranks(args, 2, -1, "", 0, /*variables=*/false);
  ASSERT_EQ(u.exit_codes, (std::vector<int>{0, 0})) << u.errs[0] << u.errs[1];
  EXPECT_TRUE(exists(dir + "/url/checkpoint.rank1-of-2.even.pt"));
  auto a = weights_of(dir + "/one"), b = weights_of(dir + "/url");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::allclose(a[i], b[i], 0, 1e-6)) << "tensor " << i;
  EXPECT_TRUE(refused({"train", "--data", dir + "/train.csv", "--dist-url", "tcp://127.0.0.1:1", "--out", dir + "/x"},
                      "--dist-url, --rank and --world-size go together", dir + "/x"));
  EXPECT_TRUE(refused({"train", "--data", dir + "/train.csv", "--dist-url", "127.0.0.1:29500", "--rank", "0",
                       "--world-size", "2", "--out", dir + "/x"},
                      "expected tcp://HOST:PORT", dir + "/x"));
}

TEST(DistributedTest, AKilledRankStopsTheOthersAndTheRunResumes) {
  const std::string dir = fresh_dir("distributed_kill");
  write_blobs(dir + "/big.csv", 4000, 3);
  const std::vector<std::string> train{"train", "--data", dir + "/big.csv", "--members", "4", "--epochs", "16",
                                       "--set", "model.width=128", "--dist-timeout", "10"};
  RankResults r = run_ranks(with_out(train, dir + "/run"), 2, /*kill_rank=*/1, dir + "/run", /*kill_after=*/2);
  ASSERT_TRUE(r.killed) << "the run finished before the kill";
  EXPECT_EQ(r.exit_codes[0], 1) << r.errs[0];
  EXPECT_NE(r.errs[0].find("another rank did not answer"), std::string::npos) << r.errs[0];
  EXPECT_LT(std::chrono::duration<double>(r.ended_at - r.killed_at).count(), 10.0);
  // The run directory stays with each rank's checkpoint, and resumes with the same number of processes ...
  auto info = nlohmann::json::parse(read_text(dir + "/run/run.json"));
  EXPECT_FALSE(info["finished"].get<bool>());
  EXPECT_TRUE(refused({"train", "--resume", dir + "/run"}, "resume it with the same number of processes",
                      dir + "/run/weights.pt"));
  RankResults again = run_ranks({"train", "--resume", dir + "/run", "--dist-timeout", "10"}, 2);
  ASSERT_EQ(again.exit_codes, (std::vector<int>{0, 0})) << again.errs[0] << again.errs[1];
  // ... to the weights of an uninterrupted one-process run.
  ASSERT_EQ(run_endd(with_out(train, dir + "/one")).exit_code, 0);
  auto a = weights_of(dir + "/one"), b = weights_of(dir + "/run");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::allclose(a[i], b[i], 0, 1e-6)) << "tensor " << i;
}

TEST(DistributedTest, OtherCommandsRefuseToRunAsSeveralProcesses) {
  const std::string dir = fresh_dir("distributed_refuse");
  write_blobs(dir + "/train.csv", 100, 4);
  ASSERT_EQ(run_endd({"train", "--data", dir + "/train.csv", "--members", "2", "--epochs", "1", "--out", dir + "/ens"})
                .exit_code,
            0);
  RankResults r = run_ranks({"predict", "--model", dir + "/ens", "--data", dir + "/train.csv", "--out", dir + "/p.csv"},
                            2);
  EXPECT_EQ(r.exit_codes, (std::vector<int>{2, 2}));
  EXPECT_NE(r.errs[0].find("and the classification experiments (spiral, ...) run across processes"), std::string::npos)
      << r.errs[0];
  EXPECT_FALSE(exists(dir + "/p.csv"));
  RankResults toy = run_ranks({"experiment", "regression-toy", "--quick", "--out", dir + "/toy"}, 2);
  EXPECT_EQ(toy.exit_codes, (std::vector<int>{2, 2}));
  EXPECT_NE(toy.errs[1].find("run this command as one process"), std::string::npos) << toy.errs[1];
  EXPECT_FALSE(exists(dir + "/toy"));
  RankResults more = run_ranks({"train", "--data", dir + "/train.csv", "--members", "2", "--epochs", "1", "--out",
                                dir + "/three"},
                               3);
  EXPECT_EQ(more.exit_codes[0], 1);
  EXPECT_NE(more.errs[0].find("2 members for 3 processes"), std::string::npos) << more.errs[0];
  EXPECT_FALSE(exists(dir + "/three"));
}
