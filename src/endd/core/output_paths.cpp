#include "endd/core/output_paths.h"

#include <unistd.h>

#include <filesystem>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"

namespace endd {
namespace fs = std::filesystem;

namespace {

fs::path normalised(const std::string& p) {
  std::error_code ec;
  fs::path w = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? fs::absolute(p).lexically_normal() : w;
}

bool is_within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin(), o = outer.begin();
  for (; o != outer.end() && !o->empty(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

bool is_empty_directory(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::directory_iterator(dir, ec) == fs::directory_iterator();
}

// Creates `dir` and its missing parents; returns those made, innermost first.
std::vector<std::string> create_missing(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> missing;
  for (fs::path p = fs::absolute(dir).lexically_normal(); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  std::vector<std::string> created;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    fs::create_directory(*it, ec);
    if (ec) {
      std::string why = ec.message();
      for (const auto& c : created) fs::remove(c, ec);
      throw Error(dir + ": cannot create output directory: " + why);
    }
    created.insert(created.begin(), it->string());
  }
  return created;
}

// Removes what create_missing made (the innermost with all its contents).
void remove_created(const std::vector<std::string>& created) {
  std::error_code ec;
  if (created.empty()) return;
  fs::remove_all(created.front(), ec);
  for (size_t i = 1; i < created.size(); ++i) fs::remove(created[i], ec);
}

}  // namespace

void check_not_an_input(const std::string& out, const std::vector<std::string>& inputs, const std::string& flag) {
  const fs::path o = normalised(out);
  for (const auto& in : inputs) {
    if (in.empty()) continue;
    const fs::path i = normalised(in);
    ENDD_USAGE_CHECK(!(o == i || is_within(i, o)), flag, " ", out, ": ", o == i ? "is" : "holds", " an input of this "
                     "command (", in, "); an output never overwrites an input, choose another path");
  }
}

CreatedDirectory::CreatedDirectory(const std::string& dir) : dir_(dir) {
  std::error_code ec;
  ENDD_CHECK(!fs::exists(dir, ec) || is_empty_directory(dir), dir, ": exists and is not an empty directory");
  created_ = create_missing(dir);
  try {
    ensure_writable_directory(dir);
  } catch (...) {
    remove_created(created_);
    throw;
  }
}

CreatedDirectory::~CreatedDirectory() {
  if (kept_) return;
  std::error_code ec;
  if (created_.empty()) {  // the directory was there (empty) before: empty it again
    for (const auto& entry : fs::directory_iterator(dir_, ec)) fs::remove_all(entry.path(), ec);
    return;
  }
  remove_created(created_);
}

StagedDirectory::StagedDirectory(const std::string& target, const std::string& marker) : target_(target) {
  std::error_code ec;
  fs::path t = fs::absolute(target).lexically_normal();
  if (t.filename().empty()) t = t.parent_path();
  if (fs::exists(t, ec)) {
    ENDD_CHECK(fs::is_directory(t, ec), target, ": exists and is not a directory");
    ENDD_CHECK(is_empty_directory(t) || fs::exists(t / marker, ec), target, ": exists and holds other files (no ",
               marker, " of an earlier run of this command); choose an empty or new directory");
  }
  parents_ = create_missing(t.parent_path().string());
  staging_ = (t.parent_path() / ("." + t.filename().string() + ".partial." + std::to_string(::getpid()))).string();
  fs::remove_all(staging_, ec);
  fs::create_directory(staging_, ec);
  if (ec) {
    remove_created(parents_);
    throw Error(staging_ + ": cannot create: " + ec.message());
  }
  target_ = t.string();
}

void StagedDirectory::commit() {
  std::error_code ec;
  const std::string old = target_ + ".old." + std::to_string(::getpid());
  const bool replace = fs::exists(target_, ec);
  if (replace) {
    fs::rename(target_, old, ec);
    ENDD_CHECK(!ec, target_, ": cannot move the earlier output aside: ", ec.message());
  }
  fs::rename(staging_, target_, ec);
  if (ec) {
    std::string why = ec.message();
    if (replace) fs::rename(old, target_, ec);
    throw Error(target_ + ": cannot move the new output into place: " + why);
  }
  if (replace) fs::remove_all(old, ec);
  committed_ = true;
}

StagedDirectory::~StagedDirectory() {
  std::error_code ec;
  if (committed_) return;
  fs::remove_all(staging_, ec);
  remove_created(parents_);
}

}  // namespace endd
