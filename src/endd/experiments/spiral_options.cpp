#include "endd/experiments/spiral_options.h"

#include "endd/core/error.h"
#include "endd/experiments/experiment_config.h"
#include "endd/experiments/training_options.h"

namespace endd::experiments {

const config::OptionTable<SpiralConfig>& spiral_options() {
  using config::above;
  using config::at_least;
  using S = SpiralConfig;
  static const config::OptionTable<S> table = [] {
    config::OptionTable<S> t;
    t.add_parsed(
         "experiment", "", "the experiment this file configures", [](const S&) { return "spiral"; },
         [](S&, const std::string& name) { ENDD_CHECK(name == "spiral", "expected \"spiral\""); })
        .add("seed", "", "random seed (--seed overrides)", [](S& s) -> auto& { return s.seed; }, at_least(0))
        .add("data.per_class", "--per-class", "training points per class",
             [](S& s) -> auto& { return s.per_class; }, at_least(2))
        .add("data.test_per_class", "--test-per-class", "test points per class (0 = data.per_class)",
             [](S& s) -> auto& { return s.test_per_class; }, at_least(0))
        .add("data.noise", "--noise", "spiral noise scale s (MATH.md section 5)",
             [](S& s) -> auto& { return s.noise; }, at_least(0))
        .add("data.input_radius", "--input-radius",
             "network inputs: raw coordinates scaled so the noise-free spiral has this radius (0 = standardised)",
             [](S& s) -> auto& { return s.input_radius; }, at_least(0))
        .add("data.aux_count", "--aux-count", "AUX inputs, uniform in a disc",
             [](S& s) -> auto& { return s.aux_count; }, at_least(1))
        .add("data.aux_radius", "--aux-radius", "AUX disc radius, in units of the spiral radius R",
             [](S& s) -> auto& { return s.aux_radius; }, above(0))
        .add("data.ood_count", "", "far OOD inputs, uniform in an annulus",
             [](S& s) -> auto& { return s.ood_count; }, at_least(2))
        .add("data.ood_inner", "", "far annulus inner radius, in units of R",
             [](S& s) -> auto& { return s.ood_inner; }, at_least(0))
        .add("data.ood_outer", "", "far annulus outer radius, in units of R",
             [](S& s) -> auto& { return s.ood_outer; }, above(0))
        .add("model.hidden_layers", "--depth", "hidden layers of every network",
             [](S& s) -> auto& { return s.hidden_layers; }, at_least(0))
        .add("model.width", "--width", "units per hidden layer", [](S& s) -> auto& { return s.width; }, at_least(1))
        .add("model.activation", "", "relu, tanh, gelu or leaky_relu", [](S& s) -> auto& { return s.activation; },
             config::one_of({"relu", "tanh", "gelu", "leaky_relu"}))
        .add("ensemble.members", "--members", "ensemble size", [](S& s) -> auto& { return s.members; }, at_least(1));
    add_ensemble_options(t, [](S& s) -> auto& { return s.ensemble; });
    t.add("transfer.copies", "--transfer-copies",
          "students' transfer set: the training inputs plus this many jittered copies, labelled by the ensemble",
          [](S& s) -> auto& { return s.transfer_copies; }, at_least(0))
        .add("transfer.aux_copies", "--aux-copies", "the same for the AUX inputs (AUX student)",
             [](S& s) -> auto& { return s.aux_copies; }, at_least(0))
        .add("transfer.jitter", "--transfer-jitter", "the copies' N(0, jitter^2) noise, in network-input units",
             [](S& s) -> auto& { return s.transfer_jitter; }, at_least(0));
    add_distill_options(t, [](S& s) -> auto& { return s.student; });
    t.add("report.map_resolution", "", "grid points per axis of the uncertainty maps",
          [](S& s) -> auto& { return s.map_resolution; }, at_least(2))
        .add("report.map_extent", "", "maps cover [-extent R, extent R]^2",
             [](S& s) -> auto& { return s.map_extent; }, above(0))
        .add("report.bootstrap", "", "bootstrap resamples for error intervals",
             [](S& s) -> auto& { return s.bootstrap; }, at_least(2));
    return t;
  }();
  return table;
}

SpiralConfig spiral_config_from(const config::Config& c) {
  SpiralConfig s = spiral_options().read(c);
  c.require("data.ood_outer", s.ood_outer > s.ood_inner, "expected > data.ood_inner");
  check_distill_schedule(c, s.student);
  return s;
}

SpiralConfig spiral_config(bool quick) {
  ExperimentSources sources;
  sources.quick = quick;
  return spiral_config_from(resolve_experiment_config(spiral_options().schema(SpiralConfig{}), "spiral", sources));
}

}  // namespace endd::experiments
