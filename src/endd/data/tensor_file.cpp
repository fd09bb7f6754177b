#include "endd/data/tensor_file.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <cstdio>
#include <cstring>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"

namespace endd::data {
namespace {

uint64_t le(const std::vector<char>& b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
  return v;
}

// What torch.save writes for a tensor is a small pickle: walk its opcodes,
// check every length against the bytes left, and allow only the classes a
// saved tensor uses. LibTorch's unpickler derived a 28 GB allocation from a
// mangled class name in a fuzzed file; such files stop here instead.
void check_tensor_pickle(const char* p, size_t n, const std::string& path) {
  auto fail = [&](const std::string& why) { throw Error(path + ": not a valid PyTorch file (" + why + ")"); };
  auto line = [&](size_t& i) {
    const char* nl = static_cast<const char*>(std::memchr(p + i, '\n', n - i));
    if (!nl) fail("truncated pickle");
    std::string s(p + i, nl);
    i = static_cast<size_t>(nl - p) + 1;
    return s;
  };
  auto need = [&](size_t i, uint64_t k) {
    if (k > n || i > n - k) fail("pickle runs past its data");
  };
  auto u = [&](size_t i, int bytes) {
    uint64_t v = 0;
    for (int b = bytes - 1; b >= 0; --b) v = (v << 8) | static_cast<uint8_t>(p[i + static_cast<size_t>(b)]);
    return v;
  };
  auto allowed = [](const std::string& module, const std::string& name) {
    if (module == "torch._utils") return name.rfind("_rebuild_", 0) == 0;
    if (module == "collections") return name == "OrderedDict";
    if (module == "torch")
      return (name.size() > 7 && name.compare(name.size() - 7, 7, "Storage") == 0) || name == "device" ||
             name == "Size" || name == "float32" || name == "float64" || name == "float16" || name == "bfloat16";
    return false;
  };
  size_t i = 0;
  while (i < n) {
    const uint8_t op = static_cast<uint8_t>(p[i++]);
    switch (op) {
      case '.': return;  // STOP
      case 0x80: case 'K': case 'q': case 'h': need(i, 1); i += 1; break;
      case 'M': need(i, 2); i += 2; break;
      case 'J': case 'r': case 'j': need(i, 4); i += 4; break;
      case 'G': case 0x95: need(i, 8); i += 8; break;
      case 0x8a: need(i, 1); need(i + 1, u(i, 1)); i += 1 + u(i, 1); break;          // LONG1
      case 0x8c: case 'C': need(i, 1); need(i + 1, u(i, 1)); i += 1 + u(i, 1); break;  // short strings
      case 'X': case 'B': need(i, 4); need(i + 4, u(i, 4)); i += 4 + u(i, 4); break;   // strings
      case 'c': {
        std::string module = line(i), name = line(i);
        if (!allowed(module, name)) fail("unexpected class " + module + "." + name + " in the pickle");
        break;
      }
      case '(': case ')': case 't': case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 'N': case 'R':
      case 'Q': case '}': case 's': case 'u': case ']': case 'a': case 'e': case 'b': case 0x94: case 0x81:
        break;
      default: fail("unexpected pickle opcode 0x" + [&] { char b[8]; std::snprintf(b, sizeof b, "%02x", op); return std::string(b); }());
    }
  }
  fail("pickle has no STOP");
}

// LibTorch's zip reader trusts the sizes in a file's headers and allocates
// them (a crafted 741-byte file asked for 28 GB; found by fuzzing). Before
// handing bytes to it, walk the central directory as Python's zipfile does and
// check that every entry lies inside the file and cannot inflate beyond
// deflate's 1032:1.
void check_zip_structure(const std::vector<char>& b, const std::string& path) {
  const size_t n = b.size();
  auto fail = [&](const std::string& why) { throw Error(path + ": not a valid PyTorch file (" + why + ")"); };
  if (n < 22) fail("too short for a zip archive");
  size_t eocd = std::string::npos;
  const size_t lowest = n > 65557 ? n - 65557 : 0;
  for (size_t i = n - 22 + 1; i-- > lowest;) {
    if (le(b, i, 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) fail("no end of central directory");
  uint64_t entries = le(b, eocd + 10, 2), cd_size = le(b, eocd + 12, 4), cd_offset = le(b, eocd + 16, 4);
  // The zip64 end record is used by LibTorch's reader whenever its locator is
  // present, so check it then, and require it to agree with the classic record.
  if (eocd >= 20 && le(b, eocd - 20, 4) == 0x07064b50) {
    uint64_t z64 = le(b, eocd - 20 + 8, 8);
    if (z64 > n || n - z64 < 56 || le(b, static_cast<size_t>(z64), 4) != 0x06064b50) fail("zip64 end record missing");
    uint64_t e64 = le(b, static_cast<size_t>(z64) + 32, 8), s64 = le(b, static_cast<size_t>(z64) + 40, 8),
             o64 = le(b, static_cast<size_t>(z64) + 48, 8);
    if (le(b, static_cast<size_t>(z64) + 24, 8) != e64) fail("zip64 entry counts disagree");
    if ((entries != 0xFFFF && entries != e64) || (cd_size != 0xFFFFFFFF && cd_size != s64) ||
        (cd_offset != 0xFFFFFFFF && cd_offset != o64))
      fail("zip64 and classic end records disagree");
    entries = e64;
    cd_size = s64;
    cd_offset = o64;
  } else if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    fail("zip64 locator missing");
  }
  if (le(b, eocd + 8, 2) != le(b, eocd + 10, 2) || le(b, eocd + 4, 2) != 0 || le(b, eocd + 6, 2) != 0)
    fail("multi-disk archives are not supported");
  if (cd_offset > n || cd_size > n - cd_offset) fail("central directory outside the file");
  if (entries == 0 || entries > n / 46) fail("implausible entry count");
  size_t at = static_cast<size_t>(cd_offset);
  int pickles = 0;
  for (uint64_t e = 0; e < entries; ++e) {
    if (at > n || n - at < 46 || le(b, at, 4) != 0x02014b50) fail("bad central directory entry");
    uint64_t method = le(b, at + 10, 2), comp = le(b, at + 20, 4), size = le(b, at + 24, 4);
    uint64_t name_len = le(b, at + 28, 2), extra_len = le(b, at + 30, 2), comment_len = le(b, at + 32, 2);
    uint64_t offset = le(b, at + 42, 4);
    const size_t extra = at + 46 + static_cast<size_t>(name_len);
    const size_t extra_end = extra + static_cast<size_t>(extra_len);
    if (extra_end + comment_len > n) fail("central directory entry runs past the file");
    for (size_t x = extra; x + 4 <= extra_end;) {  // zip64 sizes live in extra field 0x0001
      uint64_t id = le(b, x, 2), len = le(b, x + 2, 2);
      if (x + 4 + len > extra_end) fail("bad extra field");
      size_t f = x + 4;
      const size_t f_end = x + 4 + static_cast<size_t>(len);
      if (id == 0x0001) {
        if (size == 0xFFFFFFFF && f + 8 <= f_end) { size = le(b, f, 8); f += 8; }
        if (comp == 0xFFFFFFFF && f + 8 <= f_end) { comp = le(b, f, 8); f += 8; }
        if (offset == 0xFFFFFFFF && f + 8 <= f_end) offset = le(b, f, 8);
      }
      x = f_end;
    }
    if (method != 0 && method != 8) fail("unsupported compression method " + std::to_string(method));
    if (offset > n || n - offset < 30 || le(b, static_cast<size_t>(offset), 4) != 0x04034b50) fail("bad local header");
    if (comp > n - offset) fail("entry data outside the file");
    if (method == 0 ? size != comp : size > comp * 1032 + 1024) fail("entry size inconsistent with its data");
    const std::string name(b.data() + at + 46, static_cast<size_t>(name_len));
    if (name.size() >= 8 && name.compare(name.size() - 8, 8, "data.pkl") == 0) {
      if (method != 0) fail("compressed data.pkl");
      const size_t local = static_cast<size_t>(offset);
      const uint64_t data = local + 30 + le(b, local + 26, 2) + le(b, local + 28, 2);
      if (data > n || comp > n - data) fail("data.pkl outside the file");
      check_tensor_pickle(b.data() + data, static_cast<size_t>(comp), path);
      ++pickles;
    }
    at = extra_end + static_cast<size_t>(comment_len);
  }
  if (pickles != 1) fail("expected one data.pkl, found " + std::to_string(pickles));
}

}  // namespace

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
  check_zip_structure(bytes, path);
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
