#pragma once
// Processes that work on one command together (issue 20, docs/distributed.md),
// over PyTorch's own c10d: a TCPStore rendezvous and a Gloo process group.
// A process joins when the variables PyTorch's launcher (torchrun) sets are
// there: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (LOCAL_RANK optional).
// Without them, or with WORLD_SIZE = 1, nothing changes.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "endd/core/error.h"

namespace endd {

/// Another rank did not answer a collective (it died, failed or hung past
/// the timeout). A run keeps its checkpoints then, so it can be resumed.
class DistributedError : public Error {
 public:
  using Error::Error;
};

/// Where a group meets and who this process is in it.
struct GroupSpec {
  int rank = 0, world = 1;
  int local_rank = 0;  ///< LOCAL_RANK (torchrun: the rank on its host), else the rank
  std::string master_addr;
  int master_port = 0;
  /// torchrun's RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT; world 1 when
  /// RANK or WORLD_SIZE is absent. A malformed value: endd::Error naming it.
  static GroupSpec from_environment();
  /// --dist-url tcp://HOST:PORT --rank R --world-size W, without a launcher.
  static GroupSpec from_url(const std::string& url, int rank, int world);
};

class Distributed {
 public:
  /// Joins the group `spec` describes; nullptr when its world is 1. Every
  /// collective fails (DistributedError naming the stage) after `timeout`
  /// without the other ranks, e.g. when one died. A port in use or an
  /// unreachable master: endd::Error.
  static std::unique_ptr<Distributed> join(const GroupSpec& spec, std::chrono::milliseconds timeout);
  ~Distributed();

  int rank() const { return rank_; }
  int local_rank() const { return local_rank_; }
  int world() const { return world_; }
  bool leader() const { return rank_ == 0; }

  /// Waits for every rank; `stage` names the step in the error if one is missing.
  void barrier(const std::string& stage);
  /// Each rank's `block` [n_r, ...] (same trailing shape, any n_r >= 0)
  /// concatenated along dimension 0 in rank order, on every rank.
  at::Tensor all_gather_rows(const at::Tensor& block, const std::string& stage);
  /// Sums `tensors` (any shapes, one dtype) over the ranks in place, as one
  /// flat buffer: one collective however many tensors.
  void all_reduce_sum(std::vector<at::Tensor>& tensors, const std::string& stage);
  /// Refuses to go on unless every rank holds the same `text` (a
  /// configuration): the error names the first rank that differs.
  void check_same(const std::string& what, const std::string& text);
  /// Rank 0's `value`, on every rank (a decision only the leader can make,
  /// e.g. whether a stage's run directory is reused).
  int64_t leader_value(int64_t value, const std::string& stage);

  /// A queue of jobs shared by the ranks: each call, on any rank, returns the
  /// next index 0, 1, 2, ... of the queue named `queue` (the caller stops at
  /// its count). Jobs go to whichever rank is free first.
  int64_t next_job(const std::string& queue);
  /// The end of work each rank did on its own (an experiment's students),
  /// which may take minutes longer on one rank than on another: posts this
  /// rank's `report` (or its `failure`, non-empty) and waits for every
  /// rank's. Unlike a collective it waits as long as the others show signs
  /// of life: a rank that failed stops the others at once with its message,
  /// one silent for the timeout (killed or hung) with its rank named
  /// (DistributedError). Returns the reports in rank order; with a failure
  /// of its own it returns at once (the caller rethrows it).
  std::vector<std::string> finish_together(const std::string& stage, const std::string& report,
                                           const std::string& failure = "");
  /// While watching, a rank found lost ends this process (exit 1, a message
  /// naming `stage` and the rank): OnThisRankOnly's work has no collective
  /// that would stop it.
  void watch_peers(const std::string& stage);
  void stop_watching();

 private:
  struct Group;
  Distributed(int rank, int world, int local_rank, std::chrono::milliseconds timeout, std::unique_ptr<Group> group);
  int rank_, world_, local_rank_;
  std::chrono::milliseconds timeout_;
  int64_t finishes_ = 0;
  std::unique_ptr<Group> group_;
};

/// The process-wide group the CLI joined at start (nullptr: one process, or
/// while an OnThisRankOnly lives).
Distributed* process_group();
void set_process_group(std::unique_ptr<Distributed> group);
/// True where this process writes a command's outputs: one process, or rank 0.
bool writes_outputs();

/// While one lives, process_group() is nullptr: work a rank does on its own
/// (a student an experiment placed on it) runs as it would in one process,
/// with the group's peers watched (Distributed::watch_peers) during `stage`.
class OnThisRankOnly {
 public:
  explicit OnThisRankOnly(const std::string& stage);
  ~OnThisRankOnly();
  OnThisRankOnly(const OnThisRankOnly&) = delete;
  OnThisRankOnly& operator=(const OnThisRankOnly&) = delete;
};

/// The device a rank works on: `asked` as given, except that a plain "cuda"
/// becomes the GPU of the rank's LOCAL_RANK (modulo the `gpus` visible), so
/// that torchrun's N processes on a host with N GPUs take one each.
c10::Device rank_device(c10::Device asked, int local_rank, int64_t gpus);

/// The items [begin, end) of `count` (members to train, rows to label) that
/// rank `rank` of `world` takes: contiguous blocks in rank order, the first
/// (count % world) ranks one more.
std::pair<int64_t, int64_t> rank_block(int64_t count, int rank, int world);

}  // namespace endd
