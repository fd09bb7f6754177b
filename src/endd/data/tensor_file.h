#pragma once
// Tensors in PyTorch's own file format: what Python's torch.save writes and
// torch.load reads, so predictions move between endd and any PyTorch code.
#include <ATen/core/Tensor.h>

#include <string>

namespace endd::data {

/// Loads a tensor saved with Python's `torch.save(t, path)` (or endd's
/// save_tensor_file). Throws endd::Error naming the file if it is missing, not
/// a PyTorch file, or holds something other than one tensor.
at::Tensor load_tensor_file(const std::string& path);

/// The same from bytes already in memory (`path` names them in errors).
at::Tensor parse_tensor_bytes(const std::vector<char>& bytes, const std::string& path);

/// Saves `t` (moved to CPU) so that Python's `torch.load(path)` reads it back;
/// the write is atomic.
void save_tensor_file(const std::string& path, const at::Tensor& t);

/// True if the path names a PyTorch tensor file by extension (.pt / .pth).
bool is_tensor_file(const std::string& path);

}  // namespace endd::data
