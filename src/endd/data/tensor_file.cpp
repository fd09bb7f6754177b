#include "endd/data/tensor_file.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <cstring>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/data/torch_archive_check.h"

namespace endd::data {
bool is_tensor_file(const std::string& path) {
  auto ends_with = [&](const std::string& s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  return ends_with(".pt") || ends_with(".pth");
}

at::Tensor load_tensor_file(const std::string& path) { return parse_tensor_bytes(read_file_bytes(path), path); }

at::Tensor parse_tensor_bytes(const std::vector<char>& bytes, const std::string& path) {
  ENDD_CHECK(!bytes.empty(), path, ": file is empty, expected a tensor saved with torch.save");
  // torch.save writes a zip archive ("PK\x03\x04"); the legacy format is not supported.
  ENDD_CHECK(bytes.size() >= 4 && std::memcmp(bytes.data(), "PK\x03\x04", 4) == 0, path,
             ": not a PyTorch file (expected the zip format written by torch.save)");
  check_torch_archive(bytes, path);
  c10::IValue value;
  try {
    value = torch::jit::pickle_load(bytes);
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw Error(path + ": cannot read PyTorch file: " + what.substr(0, what.find('\n')));
  }
  ENDD_CHECK(value.isTensor(), path, ": expected one tensor (torch.save(tensor, path)), found a ",
             value.tagKind());
  return value.toTensor();
}

void save_tensor_file(const std::string& path, const at::Tensor& t) {
  std::vector<char> bytes = torch::jit::pickle_save(t.detach().cpu().contiguous());
  write_file_atomic(path, std::string_view(bytes.data(), bytes.size()));
}

}  // namespace endd::data
