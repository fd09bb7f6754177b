#pragma once
// Signs of life between the ranks of a group (core/distributed.h), over its
// store. A collective notices a lost rank by itself; work a rank does on its
// own for minutes (an experiment's students) has no collective to notice it,
// so each rank counts up a key of its own twice a second, and a peer whose
// count stands still for the timeout, or that posted a failure, is lost.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace endd {

/// The store operations liveness needs (a c10d::Store's, in tests a map's).
struct StoreOps {
  std::function<void(const std::string&, const std::string&)> set;
  std::function<std::string(const std::string&)> get;
  std::function<bool(const std::string&)> has;
  std::function<int64_t(const std::string&, int64_t)> add;
};

class RankLiveness {
 public:
  /// Starts counting this rank's key.
  RankLiveness(StoreOps store, int rank, int world, std::chrono::milliseconds timeout,
               std::chrono::milliseconds beat = std::chrono::milliseconds(500));
  ~RankLiveness();  ///< stops the count (before the store goes)
  RankLiveness(const RankLiveness&) = delete;
  RankLiveness& operator=(const RankLiveness&) = delete;

  /// Empty while every other rank is alive and has posted no failure; else
  /// what is wrong with the first one that is not ("rank 1 failed: ...",
  /// "rank 1 gave no sign of life for 60 s ...", "the store ... is gone").
  std::string problem();
  /// Tells the other ranks this one failed (`message` is shown by theirs).
  void post_failure(const std::string& message);
  /// While watching, a lost peer ends this process with exit 1 and a message
  /// naming this rank, `stage` and the peer: nothing else would stop it.
  void watch(const std::string& stage);
  void unwatch();

 private:
  void beat_loop();
  StoreOps store_;
  int rank_, world_;
  std::chrono::milliseconds timeout_, beat_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false, store_lost_ = false;
  std::string watching_;  ///< the stage watched, empty when not
  std::vector<int64_t> last_count_;
  std::vector<std::chrono::steady_clock::time_point> last_change_;
  std::thread thread_;
};

/// The store keys liveness uses.
std::string alive_key(int rank);
std::string failed_key(int rank);

}  // namespace endd
