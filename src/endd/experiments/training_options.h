#pragma once
// The option keys every experiment shares: the members' training
// (`ensemble.*`) and the students' distillation (`distill.*`), declared once
// for the experiments' option tables (config/option_table.h).
#include "endd/config/option_table.h"
#include "endd/train/distiller.h"
#include "endd/train/ensemble_trainer.h"

namespace endd::experiments {

/// `ensemble(s)` returns the settings' EnsembleTrainOptions&.
template <class S, class Get>
void add_ensemble_options(config::OptionTable<S>& t, Get ensemble) {
  using config::above;
  using config::at_least;
  t.add("ensemble.epochs", "--epochs", "members' training epochs",
        [ensemble](S& s) -> auto& { return ensemble(s).epochs; }, at_least(1))
      .add("ensemble.batch_size", "--batch-size", "members' batch size",
           [ensemble](S& s) -> auto& { return ensemble(s).batch_size; }, at_least(1))
      .add("ensemble.learning_rate", "--lr", "members' Adam learning rate",
           [ensemble](S& s) -> auto& { return ensemble(s).learning_rate; }, above(0))
      .add("ensemble.weight_decay", "", "members' Adam weight decay",
           [ensemble](S& s) -> auto& { return ensemble(s).weight_decay; }, at_least(0))
      .add("ensemble.cosine_schedule", "", "members' learning rate: cosine decay to 5% (false: constant)",
           [ensemble](S& s) -> auto& { return ensemble(s).cosine_schedule; });
}

/// `student(s)` returns the settings' DistillOptions&.
template <class S, class Get>
void add_distill_options(config::OptionTable<S>& t, Get student) {
  using config::above;
  using config::at_least;
  t.add("distill.epochs", "--distill-epochs", "students' epochs",
        [student](S& s) -> auto& { return student(s).epochs; }, at_least(1))
      .add("distill.batch_size", "--distill-batch-size", "students' batch size",
           [student](S& s) -> auto& { return student(s).batch_size; }, at_least(1))
      .add("distill.learning_rate", "--distill-lr", "students' Adam learning rate",
           [student](S& s) -> auto& { return student(s).learning_rate; }, above(0))
      .add("distill.weight_decay", "", "students' Adam weight decay",
           [student](S& s) -> auto& { return student(s).weight_decay; }, at_least(0))
      .add("distill.cosine_schedule", "", "students' learning rate: cosine decay to 5% (false: constant)",
           [student](S& s) -> auto& { return student(s).cosine_schedule; })
      .add("distill.temperature", "--temperature", "initial temperature T0 (>= 1)",
           [student](S& s) -> auto& { return student(s).initial_temperature; }, at_least(1))
      .add("distill.hold_fraction", "--hold", "fraction of the epochs held at T0",
           [student](S& s) -> auto& { return student(s).hold_fraction; }, config::in_range(0, 1))
      .add("distill.decay_fraction", "--decay", "fraction of the epochs decaying T0 -> 1",
           [student](S& s) -> auto& { return student(s).decay_fraction; }, config::in_range(0, 1))
      .add("distill.smoothing", "--smoothing", "EnD^2 central smoothing eps",
           [student](S& s) -> auto& { return student(s).smoothing; }, config::below_one(0))
      .add("distill.mean_weight", "--mean-weight", "EnD^2: weight of an added EnD term on the Dirichlet mean",
           [student](S& s) -> auto& { return student(s).mean_weight; }, at_least(0))
      .add("distill.mean_on_aux", "", "EnD^2+AUX: the EnD term also on the AUX inputs (false = the training inputs only)",
           [student](S& s) -> auto& { return student(s).mean_on_aux; })
      .add("distill.clip_norm", "--clip-norm", "gradient-norm clipping threshold (0 = off)",
           [student](S& s) -> auto& { return student(s).clip_norm; }, at_least(0))
      .add("distill.float64_loss", "--float64-loss", "compute the losses in float64",
           [student](S& s) -> auto& { return student(s).float64_loss; });
}

/// What no single key's check sees: the held and decaying epochs share the run.
inline void check_distill_schedule(const config::Config& c, const train::DistillOptions& d) {
  c.require("distill.decay_fraction", d.hold_fraction + d.decay_fraction <= 1,
            "expected distill.hold_fraction + distill.decay_fraction <= 1");
}

}  // namespace endd::experiments
