#include "endd/experiments/stage_runs.h"

#include <filesystem>

#include "endd/core/distributed.h"
#include "endd/core/error.h"
#include "endd/runs/run_directory.h"
#include "endd/runs/workflow.h"

namespace endd::experiments {
namespace {

namespace fs = std::filesystem;

// Where a stage of other settings waits until its replacement has finished.
std::string set_aside_path(const std::string& dir) {
  const fs::path p(dir);
  return (p.parent_path() / ("." + p.filename().string() + ".replaced")).string();
}

bool same_settings(const std::string& dir, const config::Config& wanted) {
  try {
    return runs::stored_config(dir).to_json() == wanted.to_json();
  } catch (const Error&) {  // damaged or from another version: train again
    return false;
  }
}

// A student started before its teacher's weights were written learnt from an
// earlier teacher.
bool started_after_teacher(const std::string& dir, const std::string& teacher) {
  if (teacher.empty()) return true;
  std::error_code ec1, ec2;
  const auto started = fs::last_write_time(runs::run_file(dir, "config.toml"), ec1);  // written when it began
  const auto taught = fs::last_write_time(runs::run_file(teacher, "weights.pt"), ec2);
  return !ec1 && !ec2 && started >= taught;
}

}  // namespace

const char* stage_outcome_name(StageOutcome outcome) {
  switch (outcome) {
    case StageOutcome::kReused: return "reused";
    case StageOutcome::kResumed: return "resumed";
    case StageOutcome::kTrained: return "trained";
  }
  return "";
}

namespace {

// What to do with `dir`: reuse it, resume it, or train it (a run of other
// settings set aside first, see ensure_stage_run).
StageOutcome plan_stage(const std::string& dir, const config::Config& cfg, const std::string& teacher) {
  const std::string aside = set_aside_path(dir);
  std::error_code ec;
  if (!fs::exists(dir, ec) && fs::exists(aside, ec)) fs::rename(aside, dir);  // its replacement never started
  if (fs::exists(runs::run_file(dir, "run.json"), ec)) {
    bool finished = false;
    try {
      finished = runs::load_run_info(dir).finished;
    } catch (const Error&) {
    }
    if (same_settings(dir, cfg) && started_after_teacher(dir, teacher))
      return finished ? StageOutcome::kReused : StageOutcome::kResumed;
    fs::remove_all(aside, ec);
    fs::rename(dir, aside);
  }
  return StageOutcome::kTrained;
}

}  // namespace

StageOutcome ensure_stage_run(const std::string& dir, const config::Config& cfg, const std::string& teacher,
                              c10::Device device, bool quiet) {
  // Under a process group every rank trains the stage; rank 0 alone looks
  // at and moves the directories, and tells the others what it found.
  Distributed* group = process_group();
  const bool leader = writes_outputs();
  StageOutcome plan = leader ? plan_stage(dir, cfg, teacher) : StageOutcome::kTrained;
  if (group) plan = static_cast<StageOutcome>(group->leader_value(static_cast<int64_t>(plan), "planning " + dir));
  if (plan == StageOutcome::kReused) return plan;
  const std::string aside = set_aside_path(dir);
  std::error_code ec;
  try {
    if (plan == StageOutcome::kResumed) {
      runs::resume_run(dir, cfg, device, quiet);
    } else if (teacher.empty()) {
      runs::train_run(cfg, dir, device, quiet);
    } else {
      runs::distill_run(cfg, teacher, dir, device, quiet);
    }
  } catch (...) {
    if (leader && plan == StageOutcome::kTrained && !fs::exists(dir, ec) && fs::exists(aside, ec))
      fs::rename(aside, dir);
    throw;
  }
  if (leader) fs::remove_all(aside, ec);
  return plan;
}

}  // namespace endd::experiments
