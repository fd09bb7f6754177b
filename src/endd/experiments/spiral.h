#pragma once
// The paper's artificial experiment: a 3-class spiral, an ensemble of MLPs,
// EnD, EnD^2 and EnD^2 + AUX students, evaluated in-domain and far away.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "endd/experiments/model_table.h"
#include "endd/train/distiller.h"
#include "endd/train/ensemble_trainer.h"
#include "endd/uncertainty/measures.h"

namespace endd::experiments {

/// The experiment's values are in configs/experiments/spiral.toml
/// (spiral_options.h reads them); the initialisers here only give types.
struct SpiralConfig {
  uint64_t seed = 0;
  int64_t members = 100;
  int64_t per_class = 1000;  ///< training points per class
  int64_t test_per_class = 0;  ///< test points per class (0 = per_class)
  double noise = 0.35;       ///< s in MATH.md section 5 (chosen in docs/spiral.md)
  /// Inputs the networks see: 0 = standardised by the training set's mean and
  /// spread; r > 0 = raw coordinates scaled so the noise-free spiral has
  /// radius r (not centred), as in the paper's setup.
  double input_radius = 0;
  int64_t aux_count = 3000;  ///< AUX inputs, uniform in a disc
  double aux_radius = 2.0;   ///< in units of the spiral radius R = (6 pi)^2
  /// Students' transfer set: the inputs (training, + AUX) plus this many
  /// copies jittered by N(0, transfer_jitter^2) in standardised units, all
  /// labelled by the ensemble (teacher cache); 0 = the inputs alone.
  int64_t transfer_copies = 0;
  int64_t aux_copies = 0;  ///< the same for the AUX inputs (AUX student only)
  double transfer_jitter = 0.05;
  int64_t ood_count = 1000;  ///< `far` OOD inputs, uniform in an annulus
  double ood_inner = 1.25, ood_outer = 2.0;  ///< in units of R
  int64_t hidden_layers = 3;
  int64_t width = 64;
  std::string activation = "relu";
  train::EnsembleTrainOptions ensemble;
  train::DistillOptions student;
  int64_t map_resolution = 121;  ///< grid points per axis of the uncertainty maps
  double map_extent = 2.0;       ///< maps cover [-extent R, extent R]^2
  int bootstrap = 200;           ///< resamples for error intervals
  bool quiet = false;

  /// Throws endd::Error naming the first invalid field.
  void validate() const;
  nlohmann::json to_json() const;
};

/// Everything the report needs: per-model measures on each set, curves, maps.
struct SpiralOutcome {
  SpiralConfig config;
  at::Tensor test_labels;
  ModelTable models;  ///< measures on "test" and "far" per model
  std::map<std::string, train::TrainingCurve> curves;  ///< "ensemble", "end", "end2", "end2_aux"
  /// Raw-coordinate inputs for the data figure: train (with labels), aux, far.
  at::Tensor train_raw, train_labels, aux_raw, far_raw;
  at::Tensor map_x, map_y;  ///< [G*G] raw coordinates of the map grid
  std::map<std::string, uncertainty::Measures> map_measures;  ///< ensemble, end2, end2_aux
  double total_seconds = 0;
  nlohmann::json stages;  ///< results.json "stages": {stage: reused, resumed or trained}
  /// results.json "sources": the data sources of the sets (generated_sources.h),
  /// which `endd evaluate --model OUT/STAGE --test ... --ood ...:far` takes.
  nlohmann::json sources;
};

/// Runs the stages as run directories under `dir` (DIR/ensemble an `endd
/// train` run on spiral:train, DIR/end, DIR/end2, DIR/end2_aux `endd
/// distill` runs of it), each reused when it finished with the same
/// settings, resumed when interrupted, else trained; then measures every
/// model on the test spiral, the far annulus and the map grid.
SpiralOutcome run_spiral(const SpiralConfig& config, c10::Device device, const std::string& dir);

/// Writes results.json, results.md and the figures (PNG + data) into `dir`.
report::ClassificationResults write_spiral_report(const SpiralOutcome& outcome, const std::string& dir);

}  // namespace endd::experiments
