#pragma once
// The promises every command keeps about its outputs (docs/cli.md): a failed
// command leaves nothing behind, and an output never overwrites an input.
#include <string>
#include <vector>

namespace endd {

/// Refuses (endd::UsageError naming `flag`) an output path that is one of
/// `inputs`, or a directory holding one of them. Paths that do not exist yet
/// compare by their absolute, normalised form.
void check_not_an_input(const std::string& out, const std::vector<std::string>& inputs, const std::string& flag);

/// A directory that exists only if the work in it succeeds. The constructor
/// creates `dir` (and any missing parents) and checks it can be written; if
/// the object is destroyed before keep(), e.g. by an exception, everything it
/// created is removed again. A `dir` that already existed (empty) stays, emptied.
class CreatedDirectory {
 public:
  explicit CreatedDirectory(const std::string& dir);
  ~CreatedDirectory();
  CreatedDirectory(const CreatedDirectory&) = delete;
  CreatedDirectory& operator=(const CreatedDirectory&) = delete;
  void keep() { kept_ = true; }

 private:
  std::string dir_;
  std::vector<std::string> created_;  ///< directories made here, innermost first
  bool kept_ = false;
};

/// Output directory built in a hidden sibling and renamed into place by
/// commit(), so readers never see a half-written or mixed set of files. A
/// `target` that exists must be empty or a previous output of the same
/// command (it holds `marker`); it is replaced only at commit().
class StagedDirectory {
 public:
  StagedDirectory(const std::string& target, const std::string& marker);
  ~StagedDirectory();
  StagedDirectory(const StagedDirectory&) = delete;
  StagedDirectory& operator=(const StagedDirectory&) = delete;
  /// Where to write until commit().
  const std::string& path() const { return staging_; }
  void commit();

 private:
  std::string target_, staging_;
  std::vector<std::string> parents_;  ///< parent directories made here, innermost first
  bool committed_ = false;
};

}  // namespace endd
