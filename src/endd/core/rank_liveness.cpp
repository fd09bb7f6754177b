#include "endd/core/rank_liveness.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <utility>

namespace endd {

std::string alive_key(int rank) { return "endd/alive/" + std::to_string(rank); }
std::string failed_key(int rank) { return "endd/failed/" + std::to_string(rank); }

RankLiveness::RankLiveness(StoreOps store, int rank, int world, std::chrono::milliseconds timeout,
                           std::chrono::milliseconds beat)
    : store_(std::move(store)),
      rank_(rank),
      world_(world),
      timeout_(timeout),
      beat_(beat),
      last_count_(static_cast<size_t>(world), -1),
      last_change_(static_cast<size_t>(world), std::chrono::steady_clock::now()) {
  thread_ = std::thread([this] { beat_loop(); });
}

RankLiveness::~RankLiveness() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string RankLiveness::problem() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (store_lost_) return "rank 0, which holds the group's store, is gone";
  const auto now = std::chrono::steady_clock::now();
  try {
    for (int r = 0; r < world_; ++r) {
      if (r == rank_) continue;
      if (store_.has(failed_key(r))) return "rank " + std::to_string(r) + " failed: " + store_.get(failed_key(r));
      const int64_t count = store_.add(alive_key(r), 0);
      const size_t i = static_cast<size_t>(r);
      if (count != last_count_[i]) {
        last_count_[i] = count;
        last_change_[i] = now;
      } else if (now - last_change_[i] > timeout_) {
        return "rank " + std::to_string(r) + " gave no sign of life for " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout_).count()) +
               " s (it was killed or hangs)";
      }
    }
  } catch (const std::exception& e) {
    store_lost_ = true;
    return std::string("rank 0, which holds the group's store, is gone (") + e.what() + ")";
  }
  return "";
}

void RankLiveness::post_failure(const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    store_.set(failed_key(rank_), message);
  } catch (const std::exception&) {
    store_lost_ = true;  // nobody left to tell
  }
}

void RankLiveness::watch(const std::string& stage) {
  std::lock_guard<std::mutex> lock(mutex_);
  watching_ = stage;
}

void RankLiveness::unwatch() {
  std::lock_guard<std::mutex> lock(mutex_);
  watching_.clear();
}

void RankLiveness::beat_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (!store_lost_) {
      try {
        store_.add(alive_key(rank_), 1);
      } catch (const std::exception&) {
        store_lost_ = true;
      }
    }
    if (!watching_.empty()) {
      const std::string stage = watching_;
      lock.unlock();
      const std::string lost = problem();
      if (!lost.empty()) {
        // The main thread is inside work that no collective interrupts; the
        // finished stages and checkpoints stay for a rerun to resume.
        std::fprintf(stderr, "endd: error: distributed (rank %d): %s: %s\n", rank_, stage.c_str(), lost.c_str());
        std::fflush(stderr);
        std::_Exit(1);
      }
      lock.lock();
    }
    wake_.wait_for(lock, beat_, [this] { return stopping_; });
  }
}

}  // namespace endd
