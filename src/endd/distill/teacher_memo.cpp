#include "endd/distill/teacher_memo.h"

#include <ATen/ATen.h>

#include <sstream>
#include <string_view>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"

namespace endd::distill {

namespace {

std::string hex(size_t v) {
  std::ostringstream s;
  s << std::hex << v;
  return s.str();
}

size_t tensor_bytes(const at::Tensor& t) { return static_cast<size_t>(t.numel()) * t.element_size(); }

}  // namespace

std::string tensor_fingerprint(const at::Tensor& t) {
  const at::Tensor c = t.cpu().contiguous();
  std::ostringstream s;
  s << c.scalar_type() << c.sizes() << ':'
    << hex(std::hash<std::string_view>{}(std::string_view(static_cast<const char*>(c.data_ptr()), tensor_bytes(c))));
  return s.str();
}

std::string file_fingerprint(const std::string& path) {
  std::string bytes;
  try {
    bytes = read_file(path);
  } catch (const Error&) {
    return "";
  }
  return std::to_string(bytes.size()) + ":" + hex(std::hash<std::string>{}(bytes));
}

TeacherLogitsMemo& TeacherLogitsMemo::process() {
  static TeacherLogitsMemo memo(false);
  return memo;
}

TeacherLogitsMemo::Enabled::Enabled() { process().set_enabled(true); }

TeacherLogitsMemo::Enabled::~Enabled() {
  process().set_enabled(false);
  process().clear();
}

void TeacherLogitsMemo::set_enabled(bool on) {
  std::lock_guard<std::mutex> lock(mutex_);
  enabled_ = on;
}

at::Tensor TeacherLogitsMemo::find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!enabled_) return {};
  for (const auto& [k, logits] : entries_)
    if (k == key) {
      ++hits_;
      return logits.clone();  // the caller's to change
    }
  return {};
}

void TeacherLogitsMemo::keep(const std::string& key, const at::Tensor& logits) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!enabled_ || tensor_bytes(logits) > kMaxBytes) return;
  for (const auto& entry : entries_)
    if (entry.first == key) return;
  entries_.emplace_back(key, logits.clone());
  size_t held = 0;
  for (const auto& entry : entries_) held += tensor_bytes(entry.second);
  while (held > kMaxBytes && !entries_.empty()) {
    held -= tensor_bytes(entries_.front().second);
    entries_.pop_front();
  }
}

bool TeacherLogitsMemo::enabled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return enabled_;
}

size_t TeacherLogitsMemo::hits() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return hits_;
}

void TeacherLogitsMemo::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
  hits_ = 0;
}

}  // namespace endd::distill
