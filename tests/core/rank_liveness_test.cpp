// Signs of life between ranks (core/rank_liveness.h) over a store shared in
// memory: a peer that keeps counting is alive, one that stops is lost after
// the timeout, one that posts a failure is reported at once with its message.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "endd/core/rank_liveness.h"

namespace {

using std::chrono::milliseconds;

struct MemoryStore {
  std::mutex mutex;
  std::map<std::string, std::string> values;
  std::map<std::string, int64_t> counts;
  bool gone = false;
  endd::StoreOps ops() {
    auto check = [this] {
      if (gone) throw std::runtime_error("Connection reset by peer");
    };
    return {[this, check](const std::string& k, const std::string& v) {
              std::lock_guard<std::mutex> l(mutex);
              check();
              values[k] = v;
            },
            [this, check](const std::string& k) {
              std::lock_guard<std::mutex> l(mutex);
              check();
              return values.at(k);
            },
            [this, check](const std::string& k) {
              std::lock_guard<std::mutex> l(mutex);
              check();
              return values.count(k) > 0;
            },
            [this, check](const std::string& k, int64_t n) {
              std::lock_guard<std::mutex> l(mutex);
              check();
              return counts[k] += n;
            }};
  }
};

// Polls `live.problem()` until it is non-empty or `limit` passes.
std::string first_problem(endd::RankLiveness& live, milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    std::string p = live.problem();
    if (!p.empty()) return p;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return "";
}

}  // namespace

TEST(RankLivenessTest, APeerThatKeepsBeatingIsAliveOneThatStopsIsLostAfterTheTimeout) {
  MemoryStore store;
  endd::RankLiveness rank0(store.ops(), 0, 2, milliseconds(300), milliseconds(20));
  auto rank1 = std::make_unique<endd::RankLiveness>(store.ops(), 1, 2, milliseconds(300), milliseconds(20));
  // Alive for several timeouts while rank 1 beats.
  EXPECT_EQ(first_problem(rank0, milliseconds(1000)), "");
  EXPECT_EQ(first_problem(*rank1, milliseconds(200)), "");
  const auto stopped = std::chrono::steady_clock::now();
  rank1.reset();  // rank 1 stops beating (killed)
  const std::string p = first_problem(rank0, milliseconds(3000));
  const double after = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
  EXPECT_NE(p.find("rank 1 gave no sign of life"), std::string::npos) << p;
  EXPECT_GE(after, 0.25);  // not before the timeout ...
  EXPECT_LT(after, 1.5);   // ... and soon after it
}

TEST(RankLivenessTest, APostedFailureIsReportedAtOnceWithItsMessage) {
  MemoryStore store;
  endd::RankLiveness rank0(store.ops(), 0, 3, milliseconds(60000), milliseconds(20));
  endd::RankLiveness rank1(store.ops(), 1, 3, milliseconds(60000), milliseconds(20));
  endd::RankLiveness rank2(store.ops(), 2, 3, milliseconds(60000), milliseconds(20));
  EXPECT_EQ(rank0.problem(), "");
  rank2.post_failure("students: data.train: no such file");
  EXPECT_EQ(rank0.problem(), "rank 2 failed: students: data.train: no such file");
  EXPECT_EQ(rank1.problem(), "rank 2 failed: students: data.train: no such file");
  EXPECT_EQ(rank2.problem(), "");  // its own failure is its caller's to report
}

TEST(RankLivenessTest, ALostStoreIsReportedNotThrown) {
  MemoryStore store;
  endd::RankLiveness rank1(store.ops(), 1, 2, milliseconds(60000), milliseconds(20));
  EXPECT_EQ(rank1.problem(), "");
  {
    std::lock_guard<std::mutex> l(store.mutex);
    store.gone = true;  // rank 0, which holds the store, died
  }
  const std::string p = first_problem(rank1, milliseconds(500));
  EXPECT_NE(p.find("rank 0, which holds the group's store, is gone"), std::string::npos) << p;
}
