// Lanes (train/lanes.h): every job runs once, in its lane, with one intra-op
// thread when lanes share the machine; a failure surfaces after all finish.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "endd/train/lanes.h"

namespace {

TEST(LanesTest, EveryJobRunsOnceAndTheLastLaneTakesTheRest) {
  const size_t jobs = 5, lanes = 3;
  std::vector<std::atomic<int>> runs(jobs);
  std::vector<std::thread::id> ran_on(jobs);
  std::vector<int> threads_seen(jobs);
  endd::train::run_in_lanes(jobs, lanes, [&](size_t i) {
    runs[i]++;
    ran_on[i] = std::this_thread::get_id();
    threads_seen[i] = at::get_num_threads();
  });
  for (size_t i = 0; i < jobs; ++i) {
    EXPECT_EQ(runs[i].load(), 1) << "job " << i;
    EXPECT_EQ(threads_seen[i], 1) << "job " << i;
  }
  EXPECT_EQ(std::set<std::thread::id>(ran_on.begin(), ran_on.end()).size(), lanes);
  EXPECT_EQ(ran_on[2], ran_on[3]);
  EXPECT_EQ(ran_on[3], ran_on[4]);
  EXPECT_NE(ran_on[0], ran_on[1]);
}

TEST(LanesTest, OneLanePerCoreOnTheCpu) {
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(endd::train::lanes_for(3, at::kCPU), std::min<size_t>(3, cores));
  EXPECT_EQ(endd::train::lanes_for(100, at::kCPU), cores);
  EXPECT_EQ(endd::train::lanes_for(0, at::kCPU), 1u);
}

TEST(LanesTest, JobsInLanesOfTheirOwnRunAtTheSameTime) {
  // Three jobs in three lanes each wait until all three have started: they
  // can only finish if the lanes run concurrently (a bounded wait, no hang).
  std::atomic<int> started{0};
  std::atomic<int> saw_all{0};
  endd::train::run_in_lanes(3, 3, [&](size_t) {
    started++;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < 3 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    if (started.load() == 3) saw_all++;
  });
  EXPECT_EQ(saw_all.load(), 3);
}

TEST(LanesTest, AFailureIsRethrownAfterEveryLaneFinishes) {
  std::atomic<int> finished{0};
  EXPECT_THROW(endd::train::run_in_lanes(3, 3,
                                         [&](size_t i) {
                                           if (i == 1) throw std::runtime_error("job 1 failed");
                                           finished++;
                                         }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 2);
}

}  // namespace
