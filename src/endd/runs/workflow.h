#pragma once
// The command-line workflow over run directories: train an ensemble, distil
// it, and run a finished model on data. Each function checks its inputs
// before any work and writes its outputs atomically.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <string>
#include <vector>

#include "endd/config/config.h"
#include "endd/runs/run_directory.h"
#include "endd/uncertainty/measures.h"

namespace endd::runs {

/// `endd train`: trains an ensemble (members = 1: a single model) into `out`,
/// a new or empty directory. Every input is checked before `out` is created;
/// if the run fails, `out` is removed again. Checkpoints after every epoch.
void train_run(const config::Config& cfg, const std::string& out, c10::Device device, bool quiet);

/// `endd distill`: distils the finished ensemble run `teacher` into `out`.
void distill_run(const config::Config& cfg, const std::string& teacher, const std::string& out,
                 c10::Device device, bool quiet);

/// Everything a run was made from and of: its own files, its training data
/// and AUX source, and (for a student) its teacher's; an output of a command
/// that reads the run may be none of these.
std::vector<std::string> run_inputs(const std::string& run);

/// The configuration a run was started with (its config.toml over the schema
/// of its kind).
config::Config stored_config(const std::string& run);

/// `--resume RUN`: continues a train or distill run from its last checkpoint;
/// the result equals an uninterrupted run's. `wanted` is stored_config(run)
/// with the command's flags applied: any setting but the epochs that differs
/// is refused (endd::UsageError); more epochs extend the run, also a finished
/// one (the learning-rate and temperature schedules then span the new total).
/// Refuses a finished run with no more epochs and a directory that is not an
/// endd run.
void resume_run(const std::string& run, const config::Config& wanted, c10::Device device, bool quiet);

/// A finished model's outputs on raw (unstandardised) inputs [N, D].
struct Inference {
  uncertainty::Measures measures;
  /// Only when asked for: [N, M, K] (M = 1 for students), each member's
  /// logits (float32) and probabilities (float64).
  at::Tensor member_logits, member_probs;
};
/// Runs the model over `inputs` in chunks of `chunk` rows, so that memory
/// stays bounded by one chunk's member outputs whatever N is (a 100-member
/// ensemble on 1M inputs needed 7.8 GB when done at once).
Inference infer(LoadedModel& model, const at::Tensor& inputs, bool with_member_outputs = false,
                int64_t chunk = 65536);

}  // namespace endd::runs
