#include "endd/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "endd/core/error.h"

namespace endd {
namespace {

std::string errno_text() { return std::strerror(errno); }

void write_all(int fd, std::string_view data, const std::string& path) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    ENDD_CHECK(n > 0, path, ": write failed: ", errno_text());
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view contents) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp." +
                            std::to_string(::getpid()) + "." +
                            std::to_string(std::random_device{}())))
                        .string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ENDD_CHECK(fd >= 0, path, ": cannot create file: ", errno_text());
  try {
    write_all(fd, contents, path);
    ENDD_CHECK(::fsync(fd) == 0, path, ": fsync failed: ", errno_text());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ENDD_CHECK(::close(fd) == 0, path, ": close failed: ", errno_text());
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw Error(detail::concat(path, ": cannot replace file: ", why));
  }
  // Make the rename itself durable.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

namespace {
template <typename Buffer>
Buffer read_into(const std::string& path) {
  std::error_code ec;
  ENDD_CHECK(std::filesystem::exists(path, ec), path, ": no such file");
  ENDD_CHECK(!std::filesystem::is_directory(path, ec), path, ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  ENDD_CHECK(in.good(), path, ": cannot open for reading: ", errno_text());
  Buffer data;
  in.seekg(0, std::ios::end);
  auto size = in.tellg();
  ENDD_CHECK(size >= 0, path, ": cannot determine file size");
  data.resize(static_cast<size_t>(size));
  in.seekg(0);
  in.read(data.data(), size);
  ENDD_CHECK(in.gcount() == size, path, ": short read");
  return data;
}
}  // namespace

std::string read_file(const std::string& path) { return read_into<std::string>(path); }
std::vector<char> read_file_bytes(const std::string& path) { return read_into<std::vector<char>>(path); }

void remove_stale_temporaries(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 1 && name[0] == '.' && name.find(".tmp.") != std::string::npos) fs::remove(entry.path(), ec);
  }
}

void ensure_writable_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  ENDD_CHECK(!ec, dir, ": cannot create output directory: ", ec.message());
  ENDD_CHECK(fs::is_directory(dir, ec), dir, ": exists and is not a directory");
  std::string probe = (fs::path(dir) / ".endd-write-probe").string();
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ENDD_CHECK(fd >= 0, dir, ": output directory is not writable: ", errno_text());
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace endd
