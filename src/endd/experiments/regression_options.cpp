#include "endd/experiments/regression_options.h"

#include <algorithm>

#include "endd/core/error.h"
#include "endd/data/regression_datasets.h"
#include "endd/experiments/experiment_config.h"

namespace endd::experiments {
namespace {

using config::above;
using config::at_least;

// The keys both regression experiments share: the Gaussian members and the
// students (`models(s)` returns the settings' RegressionModelOptions&).
template <class S, class Get>
void add_model_options(config::OptionTable<S>& t, Get models) {
  t.add("seed", "", "random seed of the data, the members and the students (--seed overrides)",
        [models](S& s) -> auto& { return models(s).seed; }, at_least(0))
      .add("model.hidden_layers", "--depth", "hidden layers of every network",
           [models](S& s) -> auto& { return models(s).hidden_layers; }, at_least(0))
      .add("model.width", "--width", "units per hidden layer", [models](S& s) -> auto& { return models(s).width; },
           at_least(1))
      .add("ensemble.members", "--members", "ensemble size", [models](S& s) -> auto& { return models(s).members; },
           at_least(2))
      .add("ensemble.epochs", "--epochs", "members' training epochs (at most, with early stopping)",
           [models](S& s) -> auto& { return models(s).ensemble.epochs; }, at_least(1))
      .add("ensemble.batch_size", "", "members' batch size",
           [models](S& s) -> auto& { return models(s).ensemble.batch_size; }, at_least(1))
      .add("ensemble.learning_rate", "", "members' Adam learning rate",
           [models](S& s) -> auto& { return models(s).ensemble.learning_rate; }, above(0))
      .add("ensemble.weight_decay", "--weight-decay", "members' L2 weight decay",
           [models](S& s) -> auto& { return models(s).ensemble.weight_decay; }, at_least(0))
      .add("ensemble.cosine_schedule", "", "members' learning rate: cosine decay to 5% (false: constant)",
           [models](S& s) -> auto& { return models(s).ensemble.cosine_schedule; })
      .add("ensemble.val_fraction", "--val-fraction",
           "training rows held out for the members' early stopping (0 = every epoch counts)",
           [models](S& s) -> auto& { return models(s).val_fraction; }, config::in_range(0, 0.5))
      .add("ensemble.patience", "", "early stopping: epochs without a lower validation NLL before stopping",
           [models](S& s) -> auto& { return models(s).patience; }, at_least(1))
      .add("distill.epochs", "--distill-epochs", "students' epochs",
           [models](S& s) -> auto& { return models(s).student.epochs; }, at_least(1))
      .add("distill.batch_size", "", "students' batch size",
           [models](S& s) -> auto& { return models(s).student.batch_size; }, at_least(1))
      .add("distill.learning_rate", "", "students' Adam learning rate",
           [models](S& s) -> auto& { return models(s).student.learning_rate; }, above(0))
      .add("distill.cosine_schedule", "", "students' learning rate: cosine decay to 5% (false: constant)",
           [models](S& s) -> auto& { return models(s).student.cosine_schedule; })
      .add("distill.clip_norm", "", "students' gradient-norm clipping (0 = off)",
           [models](S& s) -> auto& { return models(s).student.clip_norm; }, at_least(0))
      .add("distill.normal_gamma_fit", "",
           "EnD^2 students: moments (the Gamma by the members' precisions' likelihood, the knowledge variance "
           "matched to the members' spread) or likelihood (the members' joint Normal-Gamma likelihood; "
           "docs/regression.md)",
           [models](S& s) -> auto& { return models(s).student.normal_gamma_fit; },
           config::one_of({"moments", "likelihood"}));
}

template <class S>
void add_experiment_key(config::OptionTable<S>& t, const std::string& name) {
  t.add_parsed(
      "experiment", "", "the experiment this file configures", [name](const S&) { return name; },
      [name](S&, const std::string& value) { ENDD_CHECK(value == name, "expected \"" + name + "\""); });
}

}  // namespace

const config::OptionTable<RegressionToyConfig>& regression_toy_options() {
  using S = RegressionToyConfig;
  static const config::OptionTable<S> table = [] {
    config::OptionTable<S> t;
    add_experiment_key(t, "regression-toy");
    add_model_options(t, [](S& s) -> auto& { return s.models; });
    t.add("data.train_count", "", "training points (x on [-5, -1.5] and [1.5, 5])",
          [](S& s) -> auto& { return s.train_count; }, at_least(2))
        .add("data.test_count", "", "test points, drawn as the training points",
             [](S& s) -> auto& { return s.test_count; }, at_least(2))
        .add("data.aux_count", "", "AUX inputs of EnD^2+AUX, uniform on [-aux_extent, aux_extent]",
             [](S& s) -> auto& { return s.aux_count; }, at_least(1))
        .add("data.aux_extent", "", "AUX inputs' range", [](S& s) -> auto& { return s.aux_extent; }, above(0))
        .add("report.grid_extent", "", "the evaluation grid covers [-extent, extent]",
             [](S& s) -> auto& { return s.grid_extent; }, above(0))
        .add("report.far", "", "|x| beyond this is the `far` region of the grid",
             [](S& s) -> auto& { return s.far; }, above(0))
        .add("report.grid_points", "", "points of the evaluation grid",
             [](S& s) -> auto& { return s.grid_points; }, at_least(2));
    return t;
  }();
  return table;
}

const config::OptionTable<RegressionTabularConfig>& regression_tabular_options() {
  using S = RegressionTabularConfig;
  static const config::OptionTable<S> table = [] {
    config::OptionTable<S> t;
    add_experiment_key(t, "regression-tabular");
    add_model_options(t, [](S& s) -> auto& { return s.models; });
    t.add_parsed(
         "data.datasets", "--datasets", "data sets, comma-separated (diabetes, boston, auto-mpg)",
         [](const S& s) { return config::join_words(s.datasets, ","); },
         [](S& s, const std::string& text) {
           s.datasets = config::split_words(text, ", ");
           ENDD_CHECK(!s.datasets.empty(), "expected at least one of ",
                      config::join_words(data::regression_dataset_names()));
           const auto known = data::regression_dataset_names();
           for (const auto& name : s.datasets)
             ENDD_CHECK(std::find(known.begin(), known.end(), name) != known.end(), "expected one of ",
                        config::join_words(known), ", got '", name, "'");
         })
        .add("data.splits", "--splits", "random train/test splits per data set",
             [](S& s) -> auto& { return s.splits; }, at_least(1))
        .add("data.test_fraction", "", "rows of each split held out for testing",
             [](S& s) -> auto& { return s.test_fraction; }, config::in_range(0.01, 0.9))
        .add("data.aux_scale", "", "EnD^2+AUX inputs: N(0, scale^2) in standardised input space",
             [](S& s) -> auto& { return s.aux_scale; }, above(0));
    return t;
  }();
  return table;
}

RegressionToyConfig regression_toy_config_from(const config::Config& c) {
  RegressionToyConfig s = regression_toy_options().read(c);
  c.require("report.far", s.far < s.grid_extent, "expected < report.grid_extent");
  return s;
}

RegressionTabularConfig regression_tabular_config_from(const config::Config& c) {
  return regression_tabular_options().read(c);
}

RegressionToyConfig regression_toy_config(bool quick) {
  ExperimentSources sources;
  sources.quick = quick;
  return regression_toy_config_from(
      resolve_experiment_config(regression_toy_options().schema(RegressionToyConfig{}), "regression-toy", sources));
}

RegressionTabularConfig regression_tabular_config(bool quick) {
  ExperimentSources sources;
  sources.quick = quick;
  return regression_tabular_config_from(resolve_experiment_config(
      regression_tabular_options().schema(RegressionTabularConfig{}), "regression-tabular", sources));
}

}  // namespace endd::experiments
