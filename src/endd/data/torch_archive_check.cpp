#include "endd/data/torch_archive_check.h"

#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <unordered_map>

#include "endd/core/error.h"

namespace endd::data {
namespace {

[[noreturn]] void invalid(const std::string& path, const std::string& why) {
  throw Error(path + ": not a valid PyTorch file (" + why + ")");
}

uint64_t le(const char* p, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[at + static_cast<size_t>(i)]);
  return v;
}

std::string lower_case(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

// Bytes per element of the storage classes torch.save writes; 0 if unknown.
uint64_t storage_element_bytes(const std::string& cls) {
  static const std::map<std::string, uint64_t> sizes{
      {"torch.DoubleStorage", 8}, {"torch.FloatStorage", 4},  {"torch.HalfStorage", 2},
      {"torch.BFloat16Storage", 2}, {"torch.LongStorage", 8}, {"torch.IntStorage", 4},
      {"torch.ShortStorage", 2},  {"torch.CharStorage", 1},   {"torch.ByteStorage", 1},
      {"torch.BoolStorage", 1}};
  auto it = sizes.find(cls);
  return it == sizes.end() ? 0 : it->second;
}

// What the checker needs to know of each pickled value.
struct Value {
  enum Kind { kInt, kString, kClass, kTuple, kStorage, kTensor, kOther } kind = kOther;
  int64_t integer = 0;       // kInt; kStorage: its elements
  std::string text;          // kString; kClass: "module.name"
  std::vector<std::shared_ptr<const Value>> items;  // kTuple (shared, so memo reuse cannot blow up)
};
using ValuePtr = std::shared_ptr<const Value>;

ValuePtr make(Value::Kind kind, int64_t integer = 0, std::string text = {}) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  v->integer = integer;
  v->text = std::move(text);
  return v;
}

// A stack machine over the opcodes that a saved tensor uses.
class PickleChecker {
 public:
  PickleChecker(const char* p, size_t n, const std::map<std::string, uint64_t>& records, const std::string& path)
      : p_(p), n_(n), records_(records), path_(path) {}

  void run() {
    size_t i = 0;
    while (i < n_) {
      const uint8_t op = static_cast<uint8_t>(p_[i++]);
      switch (op) {
        case '.':
          if (stack_.size() != 1 || !marks_.empty()) fail("pickle does not end with one value");
          if (stack_.back()->kind != Value::kTensor) fail("pickle holds no tensor");
          return;
        case 0x80: need(i, 1); i += 1; break;  // PROTO
        case 0x95: need(i, 8); i += 8; break;  // FRAME
        case 'K': need(i, 1); push(make(Value::kInt, static_cast<int64_t>(le(p_, i, 1)))); i += 1; break;
        case 'M': need(i, 2); push(make(Value::kInt, static_cast<int64_t>(le(p_, i, 2)))); i += 2; break;
        case 'J': need(i, 4); push(make(Value::kInt, static_cast<int32_t>(le(p_, i, 4)))); i += 4; break;
        case 0x8a: {  // LONG1: little-endian two's complement of n bytes
          need(i, 1);
          const uint64_t bytes = le(p_, i, 1);
          need(i + 1, bytes);
          if (bytes > 8) fail("integer wider than 64 bits");
          uint64_t v = bytes ? le(p_, i + 1, static_cast<int>(bytes)) : 0;
          if (bytes > 0 && bytes < 8 && (v >> (8 * bytes - 1)) & 1) v |= ~uint64_t{0} << (8 * bytes);
          push(make(Value::kInt, static_cast<int64_t>(v)));
          i += 1 + bytes;
          break;
        }
        case 'G': need(i, 8); push(make(Value::kOther)); i += 8; break;  // BINFLOAT
        case 0x8c: i = read_string(i, 1, Value::kString); break;         // SHORT_BINUNICODE
        case 'X': i = read_string(i, 4, Value::kString); break;          // BINUNICODE
        case 'C': i = read_string(i, 1, Value::kOther); break;           // SHORT_BINBYTES
        case 'B': i = read_string(i, 4, Value::kOther); break;           // BINBYTES
        case 'c': {  // GLOBAL
          std::string module = line(i), name = line(i);
          const std::string cls = module + "." + name;
          if (cls != "torch._utils._rebuild_tensor_v2" && cls != "torch._utils._rebuild_parameter" &&
              cls != "collections.OrderedDict" && storage_element_bytes(cls) == 0)
            fail("unexpected class " + cls + " in the pickle");
          push(make(Value::kClass, 0, cls));
          break;
        }
        case 'h': need(i, 1); push(memo_get(le(p_, i, 1))); i += 1; break;  // BINGET
        case 'j': need(i, 4); push(memo_get(le(p_, i, 4))); i += 4; break;  // LONG_BINGET
        case 'q': need(i, 1); memo_put(le(p_, i, 1)); i += 1; break;        // BINPUT
        case 'r': need(i, 4); memo_put(le(p_, i, 4)); i += 4; break;        // LONG_BINPUT
        case 0x94: memo_put(memo_.size()); break;                         // MEMOIZE
        case '(': marks_.push_back(stack_.size()); break;
        case ')': push(make(Value::kTuple)); break;
        case 't': {
          ValuePtr t = tuple(items_above_mark());
          marks_.pop_back();
          push(t);
          break;
        }
        case 0x85: case 0x86: case 0x87: push(tuple(op - 0x84)); break;  // TUPLE1..3
        case 0x88: case 0x89: case 'N': case '}': case ']': push(make(Value::kOther)); break;
        case 's': pop(); pop(); break;                                    // SETITEM
        case 'a': case 'b': pop(); break;                                 // APPEND, BUILD
        case 'u': case 'e': items_above_mark(); stack_.resize(marks_.back()); marks_.pop_back(); break;
        case 0x81: pop(); pop(); push(make(Value::kOther)); break;        // NEWOBJ
        case 'Q': push(persistent_storage(pop())); break;                 // BINPERSID
        case 'R': {                                                       // REDUCE
          ValuePtr args = pop(), callable = pop();
          push(reduce(*callable, *args));
          break;
        }
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "%02x", op);
          fail(std::string("unexpected pickle opcode 0x") + hex);
        }
      }
    }
    fail("pickle has no STOP");
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { invalid(path_, why); }
  void need(size_t at, uint64_t k) const {
    if (k > n_ || at > n_ - k) fail("pickle runs past its data");
  }
  std::string line(size_t& i) const {
    const char* nl = static_cast<const char*>(std::memchr(p_ + i, '\n', n_ - i));
    if (!nl) fail("truncated pickle");
    std::string s(p_ + i, nl);
    i = static_cast<size_t>(nl - p_) + 1;
    return s;
  }
  size_t read_string(size_t i, int length_bytes, Value::Kind kind) {
    need(i, static_cast<uint64_t>(length_bytes));
    const uint64_t len = le(p_, i, length_bytes);
    i += static_cast<size_t>(length_bytes);
    need(i, len);
    push(make(kind, 0, kind == Value::kString ? std::string(p_ + i, static_cast<size_t>(len)) : std::string()));
    return i + static_cast<size_t>(len);
  }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("pickle stack underflow");
    ValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  size_t items_above_mark() const {
    if (marks_.empty()) fail("pickle closes a mark it never opened");
    return stack_.size() - marks_.back();
  }
  ValuePtr tuple(size_t count) {
    if (stack_.size() < count || (!marks_.empty() && stack_.size() - count < marks_.back()))
      fail("pickle stack underflow");
    auto t = std::make_shared<Value>();
    t->kind = Value::kTuple;
    t->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(count), stack_.end());
    stack_.resize(stack_.size() - count);
    return t;
  }
  // Picklers number memo entries 0, 1, 2, ...; LibTorch sizes its memo by
  // the largest index, so an index beyond the next free one is refused.
  void memo_put(uint64_t index) {
    if (stack_.empty()) fail("pickle memoizes an empty stack");
    if (index > memo_.size()) fail("pickle memo index " + std::to_string(index) + " out of sequence");
    memo_[index] = stack_.back();
  }
  ValuePtr memo_get(uint64_t index) const {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("pickle reads memo entry " + std::to_string(index) + " before writing it");
    return it->second;
  }
  // ('storage', torch.XStorage, key, location, numel): the record data/KEY
  // must hold numel elements, or LibTorch would read past it.
  ValuePtr persistent_storage(const ValuePtr& id) {
    const auto& f = id->items;
    if (id->kind != Value::kTuple || f.size() != 5 || f[0]->kind != Value::kString || f[0]->text != "storage" ||
        f[1]->kind != Value::kClass || f[2]->kind != Value::kString || f[3]->kind != Value::kString ||
        f[4]->kind != Value::kInt)
      fail("malformed storage reference");
    const uint64_t element = storage_element_bytes(f[1]->text);
    if (element == 0) fail("unknown storage type " + f[1]->text);
    const int64_t numel = f[4]->integer;
    if (numel < 0) fail("negative storage size");
    auto record = records_.find(lower_case(f[2]->text));
    if (numel > 0 && record == records_.end()) fail("storage '" + f[2]->text + "' has no data record");
    if (numel > 0 && static_cast<uint64_t>(numel) > record->second / element)
      fail("storage '" + f[2]->text + "' claims " + std::to_string(numel) + " elements but its record holds " +
           std::to_string(record->second) + " bytes");
    return make(Value::kStorage, numel);
  }
  ValuePtr reduce(const Value& callable, const Value& args) {
    if (callable.kind != Value::kClass || args.kind != Value::kTuple) fail("malformed call in the pickle");
    const auto& a = args.items;
    if (callable.text == "collections.OrderedDict" || storage_element_bytes(callable.text) != 0)
      return make(Value::kOther);
    if (callable.text == "torch._utils._rebuild_parameter") {
      if (a.empty() || a[0]->kind != Value::kTensor) fail("malformed parameter");
      return a[0];
    }
    // _rebuild_tensor_v2(storage, offset, sizes, strides, ...): the view must
    // lie inside the storage (LibTorch does not check).
    if (a.size() < 4 || a[0]->kind != Value::kStorage || a[1]->kind != Value::kInt ||
        a[2]->kind != Value::kTuple || a[3]->kind != Value::kTuple || a[2]->items.size() != a[3]->items.size())
      fail("malformed tensor");
    constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 4;
    int64_t last = a[1]->integer;  // index of the last element the view touches
    bool empty = false;
    for (size_t d = 0; d < a[2]->items.size(); ++d) {
      const Value &size = *a[2]->items[d], &stride = *a[3]->items[d];
      if (size.kind != Value::kInt || stride.kind != Value::kInt || size.integer < 0 || stride.integer < 0 ||
          size.integer > kLimit || stride.integer > kLimit)
        fail("malformed tensor sizes or strides");
      if (size.integer == 0) empty = true;
      else if (stride.integer > 0 && (size.integer - 1) > (kLimit - last) / stride.integer)
        fail("tensor larger than its storage");
      else last += (size.integer - 1) * stride.integer;
    }
    if (a[1]->integer < 0 || (!empty && last >= a[0]->integer)) fail("tensor larger than its storage");
    return make(Value::kTensor);
  }

  const char* p_;
  size_t n_;
  const std::map<std::string, uint64_t>& records_;
  const std::string& path_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValuePtr> memo_;
};

}  // namespace

void check_tensor_pickle(const char* pickle, size_t size, const std::map<std::string, uint64_t>& record_bytes,
                         const std::string& path) {
  PickleChecker(pickle, size, record_bytes, path).run();
}

// LibTorch's zip reader trusts the sizes in a file's headers and allocates
// them (a crafted 741-byte file asked for 28 GB). Walk the central directory as
// Python's zipfile does: every entry must lie inside the file and cannot
// inflate beyond deflate's 1032:1.
void check_torch_archive(const std::vector<char>& b, const std::string& path) {
  const size_t n = b.size();
  auto fail = [&](const std::string& why) { invalid(path, why); };
  auto u = [&](size_t pos, int bytes) { return le(b.data(), pos, bytes); };  // little-endian field
  if (n < 22) fail("too short for a zip archive");
  size_t eocd = std::string::npos;
  const size_t lowest = n > 65557 ? n - 65557 : 0;
  for (size_t i = n - 22 + 1; i-- > lowest;) {
    if (u(i, 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) fail("no end of central directory");
  uint64_t entries = u(eocd + 10, 2), cd_size = u(eocd + 12, 4), cd_offset = u(eocd + 16, 4);
  // The zip64 end record is used by LibTorch's reader whenever its locator is
  // present, so check it then, and require it to agree with the classic record.
  if (eocd >= 20 && u(eocd - 20, 4) == 0x07064b50) {
    uint64_t z64 = u(eocd - 20 + 8, 8);
    if (z64 > n || n - z64 < 56 || u(static_cast<size_t>(z64), 4) != 0x06064b50) fail("zip64 end record missing");
    uint64_t e64 = u(static_cast<size_t>(z64) + 32, 8), s64 = u(static_cast<size_t>(z64) + 40, 8),
             o64 = u(static_cast<size_t>(z64) + 48, 8);
    if (u(static_cast<size_t>(z64) + 24, 8) != e64) fail("zip64 entry counts disagree");
    if ((entries != 0xFFFF && entries != e64) || (cd_size != 0xFFFFFFFF && cd_size != s64) ||
        (cd_offset != 0xFFFFFFFF && cd_offset != o64))
      fail("zip64 and classic end records disagree");
    entries = e64;
    cd_size = s64;
    cd_offset = o64;
  } else if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    fail("zip64 locator missing");
  }
  if (u(eocd + 8, 2) != u(eocd + 10, 2) || u(eocd + 4, 2) != 0 || u(eocd + 6, 2) != 0)
    fail("multi-disk archives are not supported");
  if (cd_offset > n || cd_size > n - cd_offset) fail("central directory outside the file");
  if (entries == 0 || entries > n / 46) fail("implausible entry count");
  size_t at = static_cast<size_t>(cd_offset);
  struct Entry {
    std::string name;
    uint64_t method, data, stored, size;
  };
  std::vector<Entry> entries_found;
  for (uint64_t e = 0; e < entries; ++e) {
    if (at > n || n - at < 46 || u(at, 4) != 0x02014b50) fail("bad central directory entry");
    uint64_t method = u(at + 10, 2), comp = u(at + 20, 4), size = u(at + 24, 4);
    uint64_t name_len = u(at + 28, 2), extra_len = u(at + 30, 2), comment_len = u(at + 32, 2);
    uint64_t offset = u(at + 42, 4);
    const size_t extra = at + 46 + static_cast<size_t>(name_len);
    const size_t extra_end = extra + static_cast<size_t>(extra_len);
    if (extra_end + comment_len > n) fail("central directory entry runs past the file");
    for (size_t x = extra; x + 4 <= extra_end;) {  // zip64 sizes live in extra field 0x0001
      uint64_t id = u(x, 2), len = u(x + 2, 2);
      if (x + 4 + len > extra_end) fail("bad extra field");
      size_t f = x + 4;
      const size_t f_end = x + 4 + static_cast<size_t>(len);
      if (id == 0x0001) {
        if (size == 0xFFFFFFFF && f + 8 <= f_end) { size = u(f, 8); f += 8; }
        if (comp == 0xFFFFFFFF && f + 8 <= f_end) { comp = u(f, 8); f += 8; }
        if (offset == 0xFFFFFFFF && f + 8 <= f_end) offset = u(f, 8);
      }
      x = f_end;
    }
    if (method != 0 && method != 8) fail("unsupported compression method " + std::to_string(method));
    if (offset > n || n - offset < 30 || u(static_cast<size_t>(offset), 4) != 0x04034b50) fail("bad local header");
    if (comp > n - offset) fail("entry data outside the file");
    if (method == 0 ? size != comp : size > comp * 1032 + 1024) fail("entry size inconsistent with its data");
    const std::string name(b.data() + at + 46, static_cast<size_t>(name_len));
    const size_t local = static_cast<size_t>(offset);
    const uint64_t data = local + 30 + u(local + 26, 2) + u(local + 28, 2);
    if (data > n || comp > n - data) fail("entry data outside the file");
    entries_found.push_back({name, method, data, comp, size});
    at = extra_end + static_cast<size_t>(comment_len);
  }
  // LibTorch names the archive after the first entry's folder, finds storage
  // KEY at "<archive>/data/KEY" beside "<archive>/data.pkl", and matches names
  // without regard to case; mirror that, and refuse names it could confuse.
  if (entries_found.empty() || entries_found[0].name.find('/') == std::string::npos)
    fail("first entry is not in a folder");
  const std::string archive = lower_case(entries_found[0].name.substr(0, entries_found[0].name.find('/') + 1));
  std::map<std::string, const Entry*> by_name;
  for (const Entry& e : entries_found)
    if (!by_name.emplace(lower_case(e.name), &e).second) fail("duplicate entry " + e.name);
  auto found = by_name.find(archive + "data.pkl");
  if (found == by_name.end()) fail("no " + archive + "data.pkl");
  const Entry* pickle = found->second;
  std::map<std::string, uint64_t> records;
  for (const auto& [name, e] : by_name)
    if (name.compare(0, archive.size() + 5, archive + "data/") == 0) records[name.substr(archive.size() + 5)] = e->size;
  if (pickle->method != 0) fail("compressed data.pkl");
  check_tensor_pickle(b.data() + pickle->data, static_cast<size_t>(pickle->stored), records, path);
}

}  // namespace endd::data
