#include "endd/data/npy_file.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"

namespace endd::data {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) k = header.find("\"" + key + "\"");
  ENDD_CHECK(k != std::string::npos, path, ": .npy header has no '", key, "'");
  size_t colon = header.find(':', k);
  ENDD_CHECK(colon != std::string::npos, path, ": damaged .npy header");
  size_t b = header.find_first_not_of(" ", colon + 1);
  ENDD_CHECK(b != std::string::npos, path, ": damaged .npy header");
  if (header[b] == '\'' || header[b] == '"') {
    size_t e = header.find(header[b], b + 1);
    ENDD_CHECK(e != std::string::npos, path, ": damaged .npy header");
    return header.substr(b + 1, e - b - 1);
  }
  if (header[b] == '(') {
    size_t e = header.find(')', b);
    ENDD_CHECK(e != std::string::npos, path, ": damaged .npy header");
    return header.substr(b, e - b + 1);
  }
  if (header[b] == '[') throw Error(path + ": a structured numpy array (fields " + header.substr(b, 40) +
                                    "...); save one plain numeric array per file");
  size_t e = header.find_first_of(",}", b);
  return header.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

std::vector<int64_t> parse_shape(const std::string& tuple, const std::string& path) {
  ENDD_CHECK(tuple.size() >= 2 && tuple.front() == '(' && tuple.back() == ')', path, ": .npy shape '",
             tuple.substr(0, 40), "' is not a tuple");
  std::vector<int64_t> shape;
  std::string inner = tuple.substr(1, tuple.size() - 2);
  size_t p = 0;
  while (p < inner.size()) {
    size_t e = inner.find(',', p);
    std::string part = inner.substr(p, e == std::string::npos ? std::string::npos : e - p);
    part.erase(std::remove(part.begin(), part.end(), ' '), part.end());
    if (!part.empty()) {
      ENDD_CHECK(part.size() <= 12 && std::all_of(part.begin(), part.end(), ::isdigit), path,
                 ": .npy shape ", tuple, " is not a tuple of sizes");
      shape.push_back(std::stoll(part));
    }
    if (e == std::string::npos) break;
    p = e + 1;
  }
  return shape;
}

}  // namespace

NpyArray parse_npy(const std::vector<char>& bytes, const std::string& path) {
  ENDD_CHECK(bytes.size() >= 10 && std::memcmp(bytes.data(), kMagic, 6) == 0, path,
             ": not a numpy .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  ENDD_CHECK(major >= 1 && major <= 3, path, ": .npy format version ", major, " is not supported (1 to 3)");
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8;
    offset = 10;
  } else {
    ENDD_CHECK(bytes.size() >= 12, path, ": truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  }
  ENDD_CHECK(header_len <= bytes.size() - offset, path, ": truncated .npy header");
  const std::string header(bytes.data() + offset, header_len);
  offset += header_len;

  const std::string descr = dict_value(header, "descr", path);
  const std::string order = dict_value(header, "fortran_order", path);
  ENDD_CHECK(order == "True" || order == "False", path, ": .npy fortran_order is '", order, "'");
  NpyArray out;
  out.shape = parse_shape(dict_value(header, "shape", path), path);
  ENDD_CHECK(descr.size() < 2 || descr[1] != 'O', path, ": a numpy object array (dtype '", descr, "') cannot be "
             "read; save numbers or fixed-width text (e.g. y.astype(str))");
  ENDD_CHECK(descr.size() >= 3, path, ": .npy dtype '", descr, "' is not a plain number or text type");
  const char endian = descr[0], kind = descr[1];
  ENDD_CHECK(endian == '<' || endian == '>' || endian == '|' || endian == '=', path, ": .npy dtype '", descr, "'");
  const std::string size_text = descr.substr(2);
  ENDD_CHECK(size_text.size() <= 6 && std::all_of(size_text.begin(), size_text.end(), ::isdigit), path,
             ": .npy dtype '", descr, "' is not supported");
  const int64_t item = std::stoll(size_text);

  int64_t count = 1;
  for (int64_t d : out.shape) {
    ENDD_CHECK(d >= 0 && (d == 0 || count <= std::numeric_limits<int64_t>::max() / 16 / std::max<int64_t>(d, 1)), path,
               ": .npy shape is too large");
    count *= d;
  }
  const int64_t width = kind == 'U' ? item * 4 : item;
  ENDD_CHECK(width >= 1, path, ": .npy dtype '", descr, "' has no size");
  const size_t remaining = bytes.size() - offset;
  ENDD_CHECK(count <= static_cast<int64_t>(remaining / static_cast<size_t>(width)), path, ": .npy data is truncated (",
             count, " items of ", width, " bytes, ", remaining, " bytes present)");
  ENDD_CHECK(static_cast<size_t>(count * width) == remaining, path, ": ", remaining - static_cast<size_t>(count * width),
             " bytes after the .npy data");
  const char* data = bytes.data() + offset;
  const bool swap = endian == '>' && item > 1;
  const bool fortran = order == "True";
  std::vector<int64_t> stored = out.shape;  // Fortran order: the reversed shape in C order, transposed back
  if (fortran) std::reverse(stored.begin(), stored.end());

  if (kind == 'U' || kind == 'S') {
    std::vector<std::string> text(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      std::string s;
      const char* p = data + i * width;
      if (kind == 'S') {
        s.assign(p, strnlen(p, static_cast<size_t>(item)));
      } else {
        for (int64_t c = 0; c < item; ++c) {  // UTF-32 -> UTF-8
          uint32_t cp = 0;
          for (int b = 0; b < 4; ++b) {
            uint32_t byte = static_cast<unsigned char>(p[c * 4 + (endian == '>' ? 3 - b : b)]);
            cp |= byte << (8 * b);
          }
          if (cp == 0) break;
          ENDD_CHECK(cp <= 0x10FFFF, path, ": invalid character in .npy text");
          if (cp < 0x80) s += static_cast<char>(cp);
          else if (cp < 0x800) { s += static_cast<char>(0xC0 | cp >> 6); s += static_cast<char>(0x80 | (cp & 0x3F)); }
          else if (cp < 0x10000) { s += static_cast<char>(0xE0 | cp >> 12); s += static_cast<char>(0x80 | (cp >> 6 & 0x3F)); s += static_cast<char>(0x80 | (cp & 0x3F)); }
          else { s += static_cast<char>(0xF0 | cp >> 18); s += static_cast<char>(0x80 | (cp >> 12 & 0x3F)); s += static_cast<char>(0x80 | (cp >> 6 & 0x3F)); s += static_cast<char>(0x80 | (cp & 0x3F)); }
        }
      }
      text[static_cast<size_t>(i)] = std::move(s);
    }
    if (fortran && out.shape.size() >= 2) {  // put into C order through an index permutation
      at::Tensor idx = at::arange(count, at::kLong).view(stored).permute(
          [&] { std::vector<int64_t> p; for (int64_t d = static_cast<int64_t>(stored.size()) - 1; d >= 0; --d) p.push_back(d); return p; }())
                           .contiguous().flatten();
      std::vector<std::string> c_order(static_cast<size_t>(count));
      for (int64_t i = 0; i < count; ++i) c_order[static_cast<size_t>(i)] = text[static_cast<size_t>(idx[i].item<int64_t>())];
      text = std::move(c_order);
    }
    out.text = std::move(text);
    return out;
  }

  at::ScalarType type;
  if (kind == 'f' && item == 2) type = at::kHalf;
  else if (kind == 'f' && item == 4) type = at::kFloat;
  else if (kind == 'f' && item == 8) type = at::kDouble;
  else if (kind == 'i' && item == 1) type = at::kChar;
  else if (kind == 'i' && item == 2) type = at::kShort;
  else if (kind == 'i' && item == 4) type = at::kInt;
  else if (kind == 'i' && item == 8) type = at::kLong;
  else if (kind == 'u' && item == 1) type = at::kByte;
  else if (kind == 'b' && item == 1) type = at::kByte;
  else if (kind == 'u' && (item == 2 || item == 4 || item == 8)) type = at::kLong;  // widened below
  else throw Error(path + ": .npy dtype '" + descr + "' is not supported (floats, integers, bool or text)");

  std::vector<char> raw(data, data + count * width);
  if (swap)
    for (int64_t i = 0; i < count; ++i) std::reverse(raw.begin() + i * item, raw.begin() + (i + 1) * item);
  at::Tensor t;
  if (kind == 'u' && item > 1) {
    t = at::empty({count}, at::kLong);
    int64_t* o = t.data_ptr<int64_t>();
    for (int64_t i = 0; i < count; ++i) {
      uint64_t v = 0;
      std::memcpy(&v, raw.data() + i * item, static_cast<size_t>(item));  // little-endian host
      ENDD_CHECK(v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), path, ": value ", v,
                 " does not fit in int64");
      o[i] = static_cast<int64_t>(v);
    }
  } else {
    t = at::empty({count}, type);
    if (count > 0) std::memcpy(t.data_ptr(), raw.data(), raw.size());
  }
  t = t.view(stored);
  if (fortran && stored.size() >= 2) {
    std::vector<int64_t> p;
    for (int64_t d = static_cast<int64_t>(stored.size()) - 1; d >= 0; --d) p.push_back(d);
    t = t.permute(p);
  }
  if (type == at::kChar || type == at::kShort || type == at::kInt) t = t.to(at::kLong);
  out.values = t.contiguous();
  return out;
}

NpyArray read_npy(const std::string& path) { return parse_npy(read_file_bytes(path), path); }

bool is_npy_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[6] = {};
  in.read(head, 6);
  return in.gcount() == 6 && std::memcmp(head, kMagic, 6) == 0;
}

}  // namespace endd::data
