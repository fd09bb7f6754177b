#include "endd/experiments/stage_cache.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "endd/core/atomic_file.h"

namespace endd::experiments {
namespace {

constexpr const char* kFormat = "endd-stage-1";

// Parameters and buffers (BatchNorm statistics) under one prefix each.
std::vector<std::pair<std::string, at::Tensor>> state_of(const torch::nn::Module& net) {
  std::vector<std::pair<std::string, at::Tensor>> state;
  for (const auto& p : net.named_parameters()) state.emplace_back("parameter/" + p.key(), p.value());
  for (const auto& b : net.named_buffers()) state.emplace_back("buffer/" + b.key(), b.value());
  return state;
}

}  // namespace

StageCache::StageCache(const std::string& dir)
    : dir_(dir.empty() ? std::string() : (std::filesystem::path(dir) / "stages").string()) {}

bool StageCache::restore(const std::string& name, const std::string& fingerprint, torch::nn::Module& net,
                         double& seconds) const {
  if (dir_.empty()) return false;
  const std::string path = (std::filesystem::path(dir_) / (name + ".pt")).string();
  if (!std::filesystem::exists(path)) return false;
  try {
    torch::serialize::InputArchive archive;
    std::vector<char> bytes = read_file_bytes(path);
    archive.load_from(bytes.data(), bytes.size(), at::Device(at::kCPU));
    c10::IValue format, stored_fingerprint, stored_seconds;
    if (!archive.try_read("format", format) || !format.isString() || format.toStringRef() != kFormat) return false;
    if (!archive.try_read("fingerprint", stored_fingerprint) || !stored_fingerprint.isString() ||
        stored_fingerprint.toStringRef() != fingerprint)
      return false;  // trained with other settings: train again
    if (!archive.try_read("seconds", stored_seconds) || !stored_seconds.isDouble()) return false;
    // Read everything before touching `net`, so a mismatch leaves it as it was.
    auto state = state_of(net);
    std::vector<at::Tensor> values;
    for (const auto& [key, target] : state) {
      at::Tensor t;
      if (!archive.try_read(key, t) || t.sizes() != target.sizes() || t.scalar_type() != target.scalar_type())
        return false;
      values.push_back(t);
    }
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < state.size(); ++i) state[i].second.copy_(values[i]);
    seconds = stored_seconds.toDouble();
    return true;
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::cerr << "warning: " << path << ": unreadable (" << what.substr(0, what.find('\n'))
              << "); training this stage again\n";
    return false;
  }
}

void StageCache::save(const std::string& name, const std::string& fingerprint, const torch::nn::Module& net,
                      double seconds) const {
  if (dir_.empty()) return;
  ensure_writable_directory(dir_);
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kFormat)));
  archive.write("fingerprint", c10::IValue(fingerprint));
  archive.write("seconds", c10::IValue(seconds));
  for (const auto& [key, value] : state_of(net)) archive.write(key, value.detach().cpu());
  std::ostringstream out;
  archive.save_to(out);
  write_file_atomic((std::filesystem::path(dir_) / (name + ".pt")).string(), out.str());
}

}  // namespace endd::experiments
