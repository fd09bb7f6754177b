#include "endd/core/distributed.h"

#include <ATen/ATen.h>
// A LibTorch built without Gloo (USE_C10D_GLOO undefined) still builds endd;
// joining a group then fails with a clear error.
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>

#include "endd/core/error.h"
#include "endd/core/rank_liveness.h"

namespace endd {

#ifdef USE_C10D_GLOO
struct Distributed::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  // The two collectives endd uses (Distributed turns their failures into errors naming the stage).
  void allreduce(std::vector<at::Tensor>& t) { gloo->allreduce(t)->wait(); }
  void allgather(std::vector<std::vector<at::Tensor>>& out, std::vector<at::Tensor>& in) {
    gloo->allgather(out, in)->wait();
  }
  // The store for what is not a collective: signs of life, queues, outcomes.
  void set(const std::string& key, const std::string& value) {
    store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
  }
  std::string get(const std::string& key) {
    const std::vector<uint8_t> v = store->get(key);
    return std::string(v.begin(), v.end());
  }
  bool has(const std::string& key) { return store->check({key}); }
  int64_t add(const std::string& key, int64_t n) { return store->add(key, n); }
  std::unique_ptr<RankLiveness> liveness;
  ~Group() { liveness.reset(); }  // its thread stops before the store goes
};
#else
struct Distributed::Group {
  [[noreturn]] static void missing() {
    throw Error("distributed: this endd was built against a LibTorch without Gloo (USE_C10D_GLOO)");
  }
  void allreduce(std::vector<at::Tensor>&) { missing(); }
  void allgather(std::vector<std::vector<at::Tensor>>&, std::vector<at::Tensor>&) { missing(); }
  void set(const std::string&, const std::string&) { missing(); }
  std::string get(const std::string&) { missing(); }
  bool has(const std::string&) { missing(); }
  int64_t add(const std::string&, int64_t) { missing(); }
  std::unique_ptr<RankLiveness> liveness;
};
#endif

namespace {

std::unique_ptr<Distributed> g_group;
std::atomic<int> g_on_this_rank_only{0};

// A launcher variable as a non-negative integer; `name` in the error.
int64_t env_int(const char* name, int64_t max) {
  const char* v = std::getenv(name);
  ENDD_CHECK(v && *v, name, ": not set; torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT together");
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  ENDD_CHECK(*end == '\0' && n >= 0 && n <= max, name, "=", v, ": expected an integer from 0 to ", max);
  return n;
}

// torchrun's LOCAL_RANK (the rank on its host) where set, else the rank.
int local_rank_or(int rank) { return std::getenv("LOCAL_RANK") ? static_cast<int>(env_int("LOCAL_RANK", 4095)) : rank; }

// Runs a collective, turning c10d's exceptions (a rank gone, a timeout)
// into an endd::Error that names the stage.
template <typename F>
void collective(const std::string& stage, int rank, F&& f) {
  try {
    f();
  } catch (const endd::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError("distributed (rank " + std::to_string(rank) + "): " + stage +
                ": another rank did not answer (it stopped, failed or timed out): " + e.what());
  }
}

}  // namespace

Distributed::Distributed(int rank, int world, int local_rank, std::chrono::milliseconds timeout,
                         std::unique_ptr<Group> group)
    : rank_(rank), world_(world), local_rank_(local_rank), timeout_(timeout), group_(std::move(group)) {}
Distributed::~Distributed() = default;

GroupSpec GroupSpec::from_environment() {
  GroupSpec spec;
  if (!std::getenv("WORLD_SIZE") || !std::getenv("RANK")) return spec;
  spec.world = static_cast<int>(env_int("WORLD_SIZE", 4096));
  ENDD_CHECK(spec.world >= 1, "WORLD_SIZE=0: expected at least 1 process");
  if (spec.world == 1) return spec;
  spec.rank = static_cast<int>(env_int("RANK", spec.world - 1));
  const char* addr = std::getenv("MASTER_ADDR");
  ENDD_CHECK(addr && *addr, "MASTER_ADDR: not set (the host of rank 0, e.g. 127.0.0.1)");
  spec.master_addr = addr;
  spec.master_port = static_cast<int>(env_int("MASTER_PORT", 65535));
  spec.local_rank = local_rank_or(spec.rank);
  return spec;
}

GroupSpec GroupSpec::from_url(const std::string& url, int rank, int world) {
  const std::string scheme = "tcp://";
  const size_t colon = url.rfind(':');
  ENDD_CHECK(url.rfind(scheme, 0) == 0 && colon != std::string::npos && colon > scheme.size(), "--dist-url '", url,
             "': expected tcp://HOST:PORT (rank 0's host)");
  char* end = nullptr;
  const long port = std::strtol(url.c_str() + colon + 1, &end, 10);
  ENDD_CHECK(*end == '\0' && port >= 1 && port <= 65535, "--dist-url '", url, "': the port must be 1 to 65535");
  ENDD_CHECK(world >= 1 && rank >= 0 && rank < world, "--rank ", rank, " --world-size ", world,
             ": expected 0 <= rank < world size");
  GroupSpec spec;
  spec.rank = rank;
  spec.world = world;
  spec.local_rank = local_rank_or(rank);
  spec.master_addr = url.substr(scheme.size(), colon - scheme.size());
  spec.master_port = static_cast<int>(port);
  return spec;
}

std::unique_ptr<Distributed> Distributed::join(const GroupSpec& spec, std::chrono::milliseconds timeout) {
  if (spec.world <= 1) return nullptr;
  const int rank = spec.rank, world = spec.world, port = spec.master_port;
  const std::string addr = spec.master_addr;
  auto group = std::make_unique<Group>();
#ifndef USE_C10D_GLOO
  (void)timeout;
  Group::missing();
#else
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(port);
    o.isServer = rank == 0;
    o.numWorkers = world;
    o.timeout = timeout;
    group->store = c10::make_intrusive<c10d::TCPStore>(addr, o);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    group->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(group->store, rank, world, options);
    Group* g = group.get();
    StoreOps ops{[g](const std::string& k, const std::string& v) { g->set(k, v); },
                 [g](const std::string& k) { return g->get(k); }, [g](const std::string& k) { return g->has(k); },
                 [g](const std::string& k, int64_t n) { return g->add(k, n); }};
    group->liveness = std::make_unique<RankLiveness>(std::move(ops), rank, world, timeout);
  } catch (const std::exception& e) {
    throw Error("distributed (rank " + std::to_string(rank) + " of " + std::to_string(world) + "): could not join "
                "the group at " + addr + ":" + std::to_string(port) + " (rank 0 listens there; a port in use or an "
                "unreachable master ends here): " + e.what());
  }
#endif
  return std::unique_ptr<Distributed>(new Distributed(rank, world, spec.local_rank, timeout, std::move(group)));
}

void Distributed::barrier(const std::string& stage) {
  // An all-reduce of one number: unlike Gloo's barrier it honours the timeout.
  std::vector<at::Tensor> one{at::ones({1}, at::kFloat)};
  collective(stage, rank_, [&] { group_->allreduce(one); });
}

at::Tensor Distributed::all_gather_rows(const at::Tensor& block, const std::string& stage) {
  // Gloo gathers equal shapes: every rank's row count first, then blocks
  // padded to the largest.
  at::Tensor rows = at::zeros({world_}, at::kLong);
  rows[rank_] = block.size(0);
  std::vector<at::Tensor> counts{rows};
  collective(stage, rank_, [&] { group_->allreduce(counts); });
  const int64_t most = rows.max().item<int64_t>();
  std::vector<int64_t> shape = block.sizes().vec();
  shape[0] = most;
  at::Tensor padded = at::zeros(shape, block.options().device(at::kCPU));
  padded.slice(0, 0, block.size(0)).copy_(block.cpu());
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < world_; ++r) out[0].push_back(at::empty_like(padded));
  std::vector<at::Tensor> in{padded};
  collective(stage, rank_, [&] { group_->allgather(out, in); });
  std::vector<at::Tensor> parts;
  for (int r = 0; r < world_; ++r) parts.push_back(out[0][r].slice(0, 0, rows[r].item<int64_t>()));
  return at::cat(parts, 0);
}

void Distributed::all_reduce_sum(std::vector<at::Tensor>& tensors, const std::string& stage) {
  if (tensors.empty()) return;
  std::vector<at::Tensor> flat;
  for (const auto& t : tensors) flat.push_back(t.detach().cpu().reshape(-1));
  std::vector<at::Tensor> buffer{at::cat(flat)};
  collective(stage, rank_, [&] { group_->allreduce(buffer); });
  int64_t at = 0;
  for (auto& t : tensors) {
    const int64_t n = t.numel();
    t.copy_(buffer[0].slice(0, at, at + n).view(t.sizes()));
    at += n;
  }
}

void Distributed::check_same(const std::string& what, const std::string& text) {
  const uint64_t hash = std::hash<std::string>{}(text);
  // Two halves of the hash as exact float64 integers (< 2^32).
  at::Tensor mine = at::tensor({double(hash & 0xffffffffULL), double(hash >> 32)}, at::kDouble).unsqueeze(0);
  at::Tensor all = all_gather_rows(mine, "checking that every rank has the same " + what);
  for (int r = 0; r < world_; ++r)
    ENDD_CHECK(at::equal(all[r], all[0]), "distributed: rank ", r, "'s ", what, " differs from rank 0's; every rank "
               "must run the same command on the same data");
}

int64_t Distributed::leader_value(int64_t value, const std::string& stage) {
  return all_gather_rows(at::tensor({value}, at::kLong), stage)[0].item<int64_t>();
}

int64_t Distributed::next_job(const std::string& queue) {
  try {
    return group_->add("endd/queue/" + queue, 1) - 1;
  } catch (const endd::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError("distributed (rank " + std::to_string(rank_) + "): " + queue +
                           ": rank 0, which holds the group's store, did not answer: " + e.what());
  }
}

std::vector<std::string> Distributed::finish_together(const std::string& stage, const std::string& report,
                                                      const std::string& failure) {
  RankLiveness& liveness = *group_->liveness;
  auto lost = [&](const std::string& what) {
    return DistributedError("distributed (rank " + std::to_string(rank_) + "): " + stage + ": " + what);
  };
  if (!failure.empty()) {
    liveness.post_failure(stage + ": " + failure);
    return {};
  }
  // One round of keys per call: every rank calls these in the same order.
  const std::string round = "endd/finish/" + std::to_string(++finishes_) + "/";
  std::vector<std::string> reports(static_cast<size_t>(world_));
  std::vector<bool> posted(static_cast<size_t>(world_), false);
  try {
    group_->set(round + std::to_string(rank_), report);
    for (int waiting = world_; waiting > 0;) {
      waiting = 0;
      for (int r = 0; r < world_; ++r) {
        const size_t i = static_cast<size_t>(r);
        if (!posted[i] && group_->has(round + std::to_string(r))) {
          reports[i] = group_->get(round + std::to_string(r));
          posted[i] = true;
        }
        waiting += posted[i] ? 0 : 1;
      }
      if (waiting == 0) break;
      const std::string problem = liveness.problem();
      if (!problem.empty()) throw lost(problem);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // Rank 0 holds the store: it stays until every rank has read the reports.
    group_->add(round + "read", 1);
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (leader() && group_->add(round + "read", 0) < world_) {
      if (std::chrono::steady_clock::now() > deadline) throw lost("another rank did not read the outcomes in time");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } catch (const endd::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw lost(std::string("rank 0, which holds the group's store, did not answer: ") + e.what());
  }
  return reports;
}

Distributed* process_group() { return g_on_this_rank_only.load() > 0 ? nullptr : g_group.get(); }
void set_process_group(std::unique_ptr<Distributed> group) { g_group = std::move(group); }
bool writes_outputs() { return !process_group() || process_group()->leader(); }

void Distributed::watch_peers(const std::string& stage) {
  if (group_->liveness) group_->liveness->watch(stage);
}
void Distributed::stop_watching() {
  if (group_->liveness) group_->liveness->unwatch();
}

OnThisRankOnly::OnThisRankOnly(const std::string& stage) {
  if (g_on_this_rank_only++ == 0 && g_group) g_group->watch_peers(stage);
}
OnThisRankOnly::~OnThisRankOnly() {
  if (--g_on_this_rank_only == 0 && g_group) g_group->stop_watching();
}

c10::Device rank_device(c10::Device asked, int local_rank, int64_t gpus) {
  if (!asked.is_cuda() || asked.has_index() || gpus <= 0) return asked;
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(local_rank % gpus));
}

std::pair<int64_t, int64_t> rank_block(int64_t count, int rank, int world) {
  const int64_t base = count / world, extra = count % world;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

}  // namespace endd
