#include "endd/experiments/fashion_mnist_options.h"

#include "endd/core/error.h"
#include "endd/experiments/experiment_config.h"
#include "endd/experiments/training_options.h"
#include "endd/runs/run_config.h"

namespace endd::experiments {
namespace {

using S = FashionMnistConfig;

// The students' keys: AUX images, transfer views, the EnD^2 loss, distillation.
void add_student_options(config::OptionTable<S>& t) {
  using config::at_least;
  using config::in_range;
  t.add("aux.count", "--aux-count", "AUX images for EnD^2+AUX", [](S& s) -> auto& { return s.aux_count; },
        at_least(1))
      .add_parsed(
          "aux.kinds", "--aux-kinds",
          "AUX kinds made from the training images: mix, noise, edges, zoom, shuffle, small, outline, chain",
          [](const S& s) {
            std::vector<std::string> w;
            for (auto k : s.aux_kinds) w.push_back(data::image_aux_kind_name(k));
            return config::join_words(w, ",");
          },
          [](S& s, const std::string& text) { s.aux_kinds = data::parse_image_aux_kinds(text); })
      .add("aux.oversample", "--aux-oversample",
           "make F x aux.count candidates and keep, per kind, those the members disagree on most",
           [](S& s) -> auto& { return s.aux_oversample; }, in_range(1, 16))
      .add("transfer.views", "--transfer-views",
           "students' transfer set: the images plus (views - 1) crop-and-flip copies labelled by the teacher",
           [](S& s) -> auto& { return s.transfer_views; }, in_range(1, 8))
      .add_parsed(
          "distill.method", "--end2-method", "the EnD^2 students' loss: end2 (the paper's) or end2-proxy",
          [](const S& s) { return train::distill_method_name(s.student.method); },
          [](S& s, const std::string& text) {
            s.student.method = train::parse_distill_method(text);
            ENDD_CHECK(train::is_dirichlet(s.student.method), "expected end2 or end2-proxy");
          });
  add_distill_options(t, [](S& s) -> auto& { return s.student; });
  t.add("report.bootstrap", "", "bootstrap resamples for error intervals",
        [](S& s) -> auto& { return s.bootstrap; }, at_least(2));
}

}  // namespace

const config::OptionTable<FashionMnistConfig>& fashion_mnist_options() {
  using config::above;
  using config::at_least;
  using config::in_range;
  static const config::OptionTable<S> table = [] {
    config::OptionTable<S> t;
    t.add_parsed(
         "experiment", "", "the experiment this file configures", [](const S&) { return "fashion-mnist"; },
         [](S&, const std::string& name) { ENDD_CHECK(name == "fashion-mnist", "expected \"fashion-mnist\""); })
        .add("seed", "", "random seed (--seed overrides)", [](S& s) -> auto& { return s.seed; }, at_least(0))
        .add("data.train_count", "--train-count", "use the first N training images (0 = all 60,000)",
             [](S& s) -> auto& { return s.train_count; }, at_least(0))
        .add("data.test_count", "", "use the first N test images (0 = all 10,000)",
             [](S& s) -> auto& { return s.test_count; }, at_least(0))
        .add("data.ood_count", "", "images per OOD set (0 = as many as test images)",
             [](S& s) -> auto& { return s.ood_count; }, at_least(0))
        .add_parsed(
            "model.stages", "", "members' convolution channels per stage",
            [](const S& s) {
              std::vector<std::string> w;
              for (auto c : s.stages) w.push_back(std::to_string(c));
              return config::join_words(w, ",");
            },
            [](S& s, const std::string& text) {
              s.stages = runs::parse_stages(text, "model.stages");
              ENDD_CHECK(!s.stages.empty(), "expected at least one stage");
            })
        .add("model.hidden", "", "members' hidden dense units (0 = none)", [](S& s) -> auto& { return s.hidden; },
             at_least(0))
        .add("model.student_width", "--student-width", "students' channels and units as a multiple of the members'",
             [](S& s) -> auto& { return s.student_width; }, in_range(1, 4))
        .add("ensemble.members", "--members", "ensemble size", [](S& s) -> auto& { return s.members; }, at_least(2))
        .add("ensemble.augment", "", "members train on random crops (pad 2) and horizontal flips",
             [](S& s) -> auto& { return s.augment; });
    add_ensemble_options(t, [](S& s) -> auto& { return s.ensemble; });
    add_student_options(t);
    return t;
  }();
  return table;
}


FashionMnistConfig fashion_mnist_config_from(const config::Config& c) {
  FashionMnistConfig s = fashion_mnist_options().read(c);
  c.require("aux.count", s.aux_count >= static_cast<int64_t>(s.aux_kinds.size()),
            "expected at least one image per AUX kind (" + std::to_string(s.aux_kinds.size()) + ")");
  check_distill_schedule(c, s.student);
  return s;
}

FashionMnistConfig fashion_mnist_config(bool quick) {
  ExperimentSources sources;
  sources.quick = quick;
  return fashion_mnist_config_from(
      resolve_experiment_config(fashion_mnist_options().schema(FashionMnistConfig{}), "fashion-mnist", sources));
}

}  // namespace endd::experiments
