#pragma once
// An experiment's stages as run directories (docs/run-directory.md): each
// is what `endd train` or `endd distill` would have written, so `evaluate`,
// `predict`, `export` and `--resume` take it. A rerun into the same output
// reuses a stage that finished with the settings asked for, resumes one that
// was interrupted, and trains the rest.
#include <c10/core/Device.h>

#include <string>

#include "endd/config/config.h"

namespace endd::experiments {

enum class StageOutcome { kReused, kResumed, kTrained };
const char* stage_outcome_name(StageOutcome outcome);  ///< "reused", "resumed", "trained"

/// Makes `dir` hold a finished run of `cfg`: an `endd train` run when
/// `teacher` is empty, else an `endd distill` run of that teacher. Reused
/// when `dir` already holds one with the same settings (a student only when
/// it was started after its teacher finished: a retrained teacher retrains
/// its students); resumed from its checkpoint when such a run was
/// interrupted; otherwise trained. A run of other settings is set aside and
/// removed only once the new one has finished; if training fails it is put
/// back.
StageOutcome ensure_stage_run(const std::string& dir, const config::Config& cfg, const std::string& teacher,
                              c10::Device device, bool quiet);

}  // namespace endd::experiments
