#pragma once
// Checks a file written by torch.save before LibTorch reads it. LibTorch 1.13
// trusts the sizes inside the zip and the pickle (fuzzing found a 28 GB
// allocation, a heap overflow in miniz, a 3.6 GB memo and storages larger than
// their bytes), so every size it would act on is checked here first.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace endd::data {

/// Walks the zip's central directory and the tensor pickle inside it; throws
/// endd::Error ("PATH: not a valid PyTorch file (why)") on anything LibTorch
/// could mis-read.
void check_torch_archive(const std::vector<char>& bytes, const std::string& path);

/// Evaluates a tensor pickle (protocol 2, the classes torch.save uses) without
/// building objects: every length, memo index and storage is checked, and each
/// storage's bytes (numel x element size) must fit in its record, whose size
/// `record_bytes` gives by lower-case key ("0", "1", ...). Throws endd::Error naming `path`.
void check_tensor_pickle(const char* pickle, size_t size, const std::map<std::string, uint64_t>& record_bytes,
                         const std::string& path);

}  // namespace endd::data
