#include "endd/core/distributed.h"

#include <ATen/ATen.h>
// A LibTorch built without Gloo (USE_C10D_GLOO undefined) still builds endd;
// joining a group then fails with a clear error.
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <cstdlib>
#include <functional>

#include "endd/core/error.h"

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
};
#else
struct Distributed::Group {
  [[noreturn]] static void missing() {
    throw Error("distributed: this endd was built against a LibTorch without Gloo (USE_C10D_GLOO)");
  }
  void allreduce(std::vector<at::Tensor>&) { missing(); }
  void allgather(std::vector<std::vector<at::Tensor>>&, std::vector<at::Tensor>&) { missing(); }
};
#endif

namespace {

std::unique_ptr<Distributed> g_group;

// A launcher variable as a non-negative integer; `name` in the error.
int64_t env_int(const char* name, int64_t max) {
  const char* v = std::getenv(name);
  ENDD_CHECK(v && *v, name, ": not set; torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT together");
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  ENDD_CHECK(*end == '\0' && n >= 0 && n <= max, name, "=", v, ": expected an integer from 0 to ", max);
  return n;
}

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

Distributed::Distributed(int rank, int world, std::unique_ptr<Group> group)
    : rank_(rank), world_(world), group_(std::move(group)) {}
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
  return {rank, world, url.substr(scheme.size(), colon - scheme.size()), static_cast<int>(port)};
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
  } catch (const std::exception& e) {
    throw Error("distributed (rank " + std::to_string(rank) + " of " + std::to_string(world) + "): could not join "
                "the group at " + addr + ":" + std::to_string(port) + " (rank 0 listens there; a port in use or an "
                "unreachable master ends here): " + e.what());
  }
#endif
  return std::unique_ptr<Distributed>(new Distributed(rank, world, std::move(group)));
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

Distributed* process_group() { return g_group.get(); }
void set_process_group(std::unique_ptr<Distributed> group) { g_group = std::move(group); }

std::pair<int64_t, int64_t> member_block(int64_t members, int rank, int world) {
  const int64_t base = members / world, extra = members % world;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

}  // namespace endd
