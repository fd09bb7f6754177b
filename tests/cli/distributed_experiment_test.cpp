// The spiral experiment across processes (issue 20): the ensemble stage's
// members split over the ranks, the students handed to whichever rank is
// free, rank 0 evaluating and writing the results; equal to one process's
// run. Ranks are started with torchrun's variables on 127.0.0.1 only.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>

#include "cli_test_util.h"

using namespace endd::testing;

namespace {

// A small spiral experiment; one thread per process, as on a machine with one core per rank.
std::vector<std::string> small_spiral(const std::string& out) {
  return {"--threads", "1", "experiment", "spiral", "--quick", "--members", "4", "--epochs", "30",
          "--distill-epochs", "20", "--out", out};
}

nlohmann::json results_of(const std::string& dir) { return nlohmann::json::parse(read_text(dir + "/results.json")); }

}  // namespace

TEST(DistributedExperimentTest, TwoProcessesGiveTheResultsOfOne) {
  const std::string dir = fresh_dir("distributed_spiral");
  ASSERT_EQ(run_endd(small_spiral(dir + "/one")).exit_code, 0);
  RankResults r = run_ranks(small_spiral(dir + "/two"), 2);
  ASSERT_EQ(r.exit_codes, (std::vector<int>{0, 0})) << r.errs[0] << r.errs[1];
  const auto one = results_of(dir + "/one"), two = results_of(dir + "/two");
  for (const auto* model : {"single", "ensemble", "end", "end2", "end2_aux"})
    for (const auto* key : {"error", "nll", "ece", "brier"})
      EXPECT_NEAR(one["models"][model][key].get<double>(), two["models"][model][key].get<double>(), 1e-6)
          << model << " " << key;
  for (const auto* model : {"ensemble", "end2", "end2_aux"})
    EXPECT_NEAR(one["ood"]["far"][model]["knowledge"]["auroc"].get<double>(),
                two["ood"]["far"][model]["knowledge"]["auroc"].get<double>(), 1e-6)
        << model;
  for (const auto* stage : {"ensemble", "end", "end2", "end2_aux"})
    EXPECT_EQ(two["stages"][stage], "trained") << stage;
  // The members were split (one checkpoint per rank); each student trained in one rank alone.
  EXPECT_TRUE(exists(dir + "/two/ensemble/checkpoint.rank1-of-2.even.pt"));
  for (const auto* student : {"end", "end2", "end2_aux"}) {
    EXPECT_TRUE(nlohmann::json::parse(read_text(dir + "/two/" + student + "/run.json"))["finished"].get<bool>());
    EXPECT_FALSE(exists(dir + "/two/" + student + "/checkpoint.rank0-of-2.even.pt")) << student;
  }
  // A rerun as 2 processes reuses every stage.
  RankResults again = run_ranks(small_spiral(dir + "/two"), 2);
  ASSERT_EQ(again.exit_codes, (std::vector<int>{0, 0})) << again.errs[0] << again.errs[1];
  const auto rerun = results_of(dir + "/two");
  for (const auto* stage : {"ensemble", "end", "end2", "end2_aux"}) EXPECT_EQ(rerun["stages"][stage], "reused") << stage;
  EXPECT_EQ(rerun["models"]["end2"]["nll"], two["models"]["end2"]["nll"]);
}

TEST(DistributedExperimentTest, RanksWithDifferentConfigurationsAreRefused) {
  const std::string dir = fresh_dir("distributed_spiral_mismatch");
  std::vector<std::string> args = small_spiral(dir + "/out");
  args.insert(args.end(), {"--noise", "0.{rank}5"});  // rank 0: 0.05, rank 1: 0.15
  RankResults r = run_ranks(args, 2);
  EXPECT_EQ(r.exit_codes, (std::vector<int>{1, 1}));
  EXPECT_NE(r.errs[0].find("rank 1's experiment configuration differs from rank 0's"), std::string::npos) << r.errs[0];
  EXPECT_FALSE(exists(dir + "/out"));
}

TEST(DistributedExperimentTest, AKilledRankStopsTheOthersAndARerunFinishes) {
  const std::string dir = fresh_dir("distributed_spiral_kill");
  std::vector<std::string> args = small_spiral(dir + "/out");
  args.insert(args.end(), {"--dist-timeout", "4", "--set", "distill.epochs=400"});
  // Killed once the EnD student (a rank's own work, no collective) has begun.
  RankResults r = run_ranks(args, 2, /*kill_rank=*/1, dir + "/out/end", /*kill_after=*/1);
  ASSERT_TRUE(r.killed) << "the run finished before the kill";
  EXPECT_EQ(r.exit_codes[0], 1) << r.errs[0];
  EXPECT_NE(r.errs[0].find("rank 1 gave no sign of life for 4 s"), std::string::npos) << r.errs[0];
  EXPECT_NE(r.errs[0].find("training the students"), std::string::npos) << r.errs[0];
  EXPECT_LT(std::chrono::duration<double>(r.ended_at - r.killed_at).count(), 4.0 + 3.0);
  EXPECT_FALSE(exists(dir + "/out/results.json"));
  // The finished ensemble stays; a rerun (here as one process) finishes the rest.
  auto rerun = run_endd(args);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(results_of(dir + "/out")["stages"]["ensemble"], "reused");
}

TEST(DistributedExperimentTest, ExperimentsThatRunAsOneProcessRefuseGroupOptions) {
  const std::string dir = fresh_dir("distributed_refuse_toy");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"experiment", "regression-toy", "--quick", "--dist-url", "tcp://127.0.0.1:1", "--rank", "0", "--world-size",
            "2", "--out", dir + "/toy"},
           {"experiment", "--dist-url", "tcp://127.0.0.1:1", "--rank", "0", "--world-size", "2", "regression-toy",
            "--quick", "--out", dir + "/toy"}})
    EXPECT_TRUE(refused(args, "--dist-url: regression-toy runs as one process", dir + "/toy"));
}
