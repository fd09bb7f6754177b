#pragma once
// Processes that work on one command together (issue 20, docs/distributed.md),
// over PyTorch's own c10d: a TCPStore rendezvous and a Gloo process group.
// A process joins when the variables PyTorch's launcher (torchrun) sets are
// there: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (LOCAL_RANK optional).
// Without them, or with WORLD_SIZE = 1, nothing changes.
#include <ATen/core/Tensor.h>

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

 private:
  struct Group;
  Distributed(int rank, int world, std::unique_ptr<Group> group);
  int rank_, world_;
  std::unique_ptr<Group> group_;
};

/// The process-wide group the CLI joined at start (nullptr: one process).
Distributed* process_group();
void set_process_group(std::unique_ptr<Distributed> group);

/// The members [begin, end) that rank `rank` of `world` trains: contiguous
/// blocks in rank order, the first (members % world) ranks one more.
std::pair<int64_t, int64_t> member_block(int64_t members, int rank, int world);

}  // namespace endd
