#pragma once
// Writes that never leave a half-written file: data goes to a temporary name
// in the same directory, is flushed and fsync'ed, then renamed over the target.
#include <string>
#include <string_view>
#include <vector>

namespace endd {

/// Replaces `path` with `contents` atomically. Throws endd::Error naming the
/// path (and errno text) if the directory is missing, unwritable or full; the
/// previous file, if any, is left untouched.
void write_file_atomic(const std::string& path, std::string_view contents);

/// Reads a whole file; throws endd::Error naming the path if it can't.
std::string read_file(const std::string& path);
/// The same, as bytes (what LibTorch's readers take), without a second copy.
std::vector<char> read_file_bytes(const std::string& path);

/// Removes temporary files that write_file_atomic left in `dir` when its
/// process was killed mid-write (".NAME.tmp.PID.N"); the real files are intact.
void remove_stale_temporaries(const std::string& dir);

/// Creates `dir` (and parents) and checks that files can be created in it, so a
/// command fails before doing work rather than after.
void ensure_writable_directory(const std::string& dir);

}  // namespace endd
