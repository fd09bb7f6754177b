// endd experiment spiral: the paper's artificial experiment end to end.
#include <cstdio>
#include <optional>

#include "cli_common.h"
#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/core/output_paths.h"
#include "endd/data/regression_datasets.h"
#include "endd/experiments/fashion_mnist.h"
#include "endd/experiments/regression_tabular.h"
#include "endd/experiments/regression_toy.h"
#include "endd/experiments/spiral.h"

namespace endd::cli {
namespace {

struct SpiralArgs {
  std::string out = "out/spiral";
  bool quick = false;
  std::optional<int64_t> members, per_class, aux_count, epochs, distill_epochs, width, depth, transfer_copies, aux_copies;
  std::optional<double> noise, temperature, smoothing, lr, distill_lr, aux_radius, hold, decay, clip_norm, transfer_jitter;
  std::optional<int64_t> batch_size, distill_batch_size;
  bool float64_loss = false;
};

void run_spiral_command(const SpiralArgs& a, const GlobalOptions& g) {
  auto device = apply_globals(g);
  auto c = experiments::SpiralConfig::defaults(a.quick);
  c.seed = g.seed;
  c.quiet = g.quiet;
  if (a.members) c.members = *a.members;
  if (a.per_class) c.per_class = *a.per_class;
  if (a.aux_count) c.aux_count = *a.aux_count;
  if (a.epochs) c.ensemble.epochs = *a.epochs;
  if (a.distill_epochs) c.student.epochs = *a.distill_epochs;
  if (a.width) c.width = *a.width;
  if (a.depth) c.hidden_layers = *a.depth;
  if (a.noise) c.noise = *a.noise;
  if (a.temperature) c.student.initial_temperature = *a.temperature;
  if (a.smoothing) c.student.smoothing = *a.smoothing;
  if (a.lr) c.ensemble.learning_rate = *a.lr;
  if (a.distill_lr) c.student.learning_rate = *a.distill_lr;
  if (a.aux_radius) c.aux_radius = *a.aux_radius;
  if (a.clip_norm) c.student.clip_norm = *a.clip_norm;
  if (a.transfer_copies) c.transfer_copies = *a.transfer_copies;
  if (a.aux_copies) c.aux_copies = *a.aux_copies;
  if (a.transfer_jitter) c.transfer_jitter = *a.transfer_jitter;
  if (a.hold) c.student.hold_fraction = *a.hold;
  if (a.decay) c.student.decay_fraction = *a.decay;
  if (a.batch_size) c.ensemble.batch_size = *a.batch_size;
  if (a.distill_batch_size) c.student.batch_size = *a.distill_batch_size;
  c.student.float64_loss = c.student.float64_loss || a.float64_loss;
  // Every check before any work: flags, then the output directory.
  c.validate();
  ensure_writable_directory(a.out);
  auto outcome = experiments::run_spiral(c, device);
  auto results = experiments::write_spiral_report(outcome, a.out);
  if (!g.quiet) {
    std::fprintf(stderr, "spiral: done in %.1fs; results in %s/results.json and results.md\n",
                 outcome.total_seconds, a.out.c_str());
    for (const auto& [name, m] : results["models"].items())
      std::fprintf(stderr, "  %-9s error %6.2f%%  NLL %.3f\n", name.c_str(), m["error"].get<double>(),
                   m["nll"].is_number() ? m["nll"].get<double>() : -1.0);
  }
}

struct FashionArgs {
  std::string out = "out/fashion-mnist";
  bool quick = false;
  bool restart = false;
  std::optional<std::string> aux_kinds, end2_method;
  std::optional<int64_t> members, epochs, distill_epochs, train_count, aux_count, aux_oversample, transfer_views,
      student_width;
  std::optional<double> temperature, smoothing, mean_weight;
};

void run_fashion_command(const FashionArgs& a, const GlobalOptions& g) {
  // Convolutions on 28x28 images are large enough for every core (docs/threads.md).
  auto device = apply_globals(g, Workload::kLargeTensors);
  auto c = experiments::FashionMnistConfig::defaults(a.quick);
  c.seed = g.seed;
  c.quiet = g.quiet;
  if (a.members) c.members = *a.members;
  if (a.epochs) c.ensemble.epochs = *a.epochs;
  if (a.distill_epochs) c.student.epochs = *a.distill_epochs;
  if (a.train_count) c.train_count = *a.train_count;
  if (a.temperature) c.student.initial_temperature = *a.temperature;
  if (a.smoothing) c.student.smoothing = *a.smoothing;
  if (a.mean_weight) c.student.mean_weight = *a.mean_weight;
  if (a.aux_count) c.aux_count = *a.aux_count;
  if (a.aux_oversample) c.aux_oversample = *a.aux_oversample;
  if (a.student_width) c.student_width = *a.student_width;
  if (a.transfer_views) c.transfer_views = *a.transfer_views;
  if (a.end2_method) c.student.method = train::parse_distill_method(*a.end2_method);
  if (a.aux_kinds) c.aux_kinds = data::parse_image_aux_kinds(*a.aux_kinds);
  c.resume = !a.restart;
  c.validate();
  ensure_writable_directory(a.out);
  auto r = experiments::run_fashion_mnist(c, device, a.out);
  if (!g.quiet) {
    std::fprintf(stderr, "fashion-mnist: done in %.1fs; results in %s/results.json and results.md\n",
                 r["timing"]["total_seconds"].get<double>(), a.out.c_str());
    for (const auto& [name, m] : r["models"].items())
      std::fprintf(stderr, "  %-9s error %6.2f%%  NLL %.3f  MNIST AUROC (knowledge) %.1f\n", name.c_str(),
                   m["error"].get<double>(), m["nll"].get<double>(),
                   r["ood"]["mnist"][name]["knowledge"]["auroc"].is_number()
                       ? r["ood"]["mnist"][name]["knowledge"]["auroc"].get<double>() : -1.0);
  }
}

struct RegressionToyArgs {
  std::string out = "out/regression-toy";
  bool quick = false;
  std::optional<int64_t> members, epochs, distill_epochs;
};

void run_regression_toy_command(const RegressionToyArgs& a, const GlobalOptions& g) {
  auto device = apply_globals(g, Workload::kTraining);
  auto c = experiments::RegressionToyConfig::defaults(a.quick);
  c.models.seed = g.seed;
  c.models.quiet = g.quiet;
  if (a.members) c.models.members = *a.members;
  if (a.epochs) c.models.ensemble.epochs = *a.epochs;
  if (a.distill_epochs) c.models.student.epochs = *a.distill_epochs;
  ensure_writable_directory(a.out);
  auto r = experiments::run_regression_toy(c, device, a.out);
  if (!g.quiet) {
    std::fprintf(stderr, "regression-toy: done in %.1fs; results in %s/results.json and results.md\n",
                 r["timing"]["total_seconds"].get<double>(), a.out.c_str());
    for (const auto& [name, m] : r["models"].items())
      std::fprintf(stderr, "  %-9s RMSE %.3f  NLL %.3f\n", name.c_str(), m["rmse"].get<double>(), m["nll"].get<double>());
  }
}

struct RegressionTabularArgs {
  std::string out = "out/regression-tabular";
  bool quick = false;
  std::vector<std::string> datasets;
  std::optional<int64_t> members, splits, epochs, distill_epochs, width, depth;
  std::optional<double> weight_decay, val_fraction;
};

void run_regression_tabular_command(const RegressionTabularArgs& a, const GlobalOptions& g) {
  auto device = apply_globals(g, Workload::kTraining);
  auto c = experiments::RegressionTabularConfig::defaults(a.quick);
  c.models.seed = g.seed;
  c.models.quiet = g.quiet;
  if (!a.datasets.empty()) c.datasets = a.datasets;
  if (a.members) c.models.members = *a.members;
  if (a.splits) c.splits = *a.splits;
  if (a.epochs) c.models.ensemble.epochs = *a.epochs;
  if (a.distill_epochs) c.models.student.epochs = *a.distill_epochs;
  if (a.width) c.models.width = *a.width;
  if (a.depth) c.models.hidden_layers = *a.depth;
  if (a.weight_decay) c.models.ensemble.weight_decay = *a.weight_decay;
  if (a.val_fraction) c.models.val_fraction = *a.val_fraction;
  StagedDirectory staged(a.out, "results.json");
  auto r = experiments::run_regression_tabular(c, device, staged.path());
  staged.commit();
  if (!g.quiet) {
    std::fprintf(stderr, "regression-tabular: done in %.1fs; results in %s/results.json and results.md\n",
                 r["timing"]["total_seconds"].get<double>(), a.out.c_str());
    for (const auto& [set, d] : r["datasets"].items())
      for (const char* name : experiments::kRegressionModelNames) {
        const auto& s = d["summary"][name];
        std::fprintf(stderr, "  %-9s %-9s RMSE %.3f  NLL %.3f  calibration error %.1f\n", set.c_str(), name,
                     s["rmse"]["mean"].get<double>(), s["nll"]["mean"].get<double>(),
                     s["calibration_error"]["mean"].get<double>());
      }
  }
}

}  // namespace

void add_experiment_command(CLI::App& app, GlobalOptions& g) {
  CLI::App* exp = app.add_subcommand("experiment", "Reproduce the paper's experiments");
  exp->require_subcommand(1);
  auto a = std::make_shared<SpiralArgs>();
  CLI::App* spiral = exp->add_subcommand("spiral", "3-class spiral: single, ensemble, EnD, EnD^2, EnD^2+AUX");
  spiral->add_option("-o,--out", a->out, "Output directory")->capture_default_str();
  spiral->add_flag("--quick", a->quick, "Small, fast run (smoke test)");
  spiral->add_option("-m,--members", a->members, "Ensemble size (default 100; 10 with --quick)")
      ->check(integer_at_least(1));
  spiral->add_option("--per-class", a->per_class, "Training (and test) points per class")
      ->check(integer_at_least(1));
  spiral->add_option("--aux-count", a->aux_count, "Number of AUX inputs")
      ->check(integer_at_least(1));
  spiral->add_option("--epochs", a->epochs, "Ensemble training epochs")
      ->check(integer_at_least(1));
  spiral->add_option("--distill-epochs", a->distill_epochs, "Distillation epochs")
      ->check(integer_at_least(1));
  spiral->add_option("--width", a->width, "Hidden units per layer")
      ->check(integer_at_least(1));
  spiral->add_option("--depth", a->depth, "Hidden layers")
      ->check(integer_at_least(0));
  spiral->add_option("--noise", a->noise, "Spiral noise scale s")
      ->check(number_at_least(0));
  spiral->add_option("--temperature", a->temperature, "Initial distillation temperature T0 (>= 1)")
      ->check(number_at_least(1));
  spiral->add_option("--hold", a->hold, "Fraction of distillation epochs held at T0")
      ->check(number_at_least(0));
  spiral->add_option("--decay", a->decay, "Fraction of distillation epochs decaying T0 -> 1")
      ->check(number_at_least(0));
  spiral->add_option("--smoothing", a->smoothing, "EnD^2 central smoothing eps")
      ->check(number_in(0, 1));
  spiral->add_option("--lr", a->lr, "Ensemble learning rate (Adam)")
      ->check(positive_number());
  spiral->add_option("--distill-lr", a->distill_lr, "Student learning rate (Adam)")
      ->check(positive_number());
  spiral->add_option("--batch-size", a->batch_size, "Ensemble batch size")
      ->check(integer_at_least(1));
  spiral->add_option("--distill-batch-size", a->distill_batch_size, "Student batch size")
      ->check(integer_at_least(1));
  spiral->add_option("--aux-radius", a->aux_radius, "AUX disc radius in units of the spiral radius")
      ->check(positive_number());
  spiral->add_option("--transfer-copies", a->transfer_copies,
                     "Jittered copies of the students' transfer inputs, labelled by the ensemble")
      ->check(integer_at_least(0));
  spiral->add_option("--aux-copies", a->aux_copies, "Jittered copies of the AUX inputs (AUX student)")
      ->check(integer_at_least(0));
  spiral->add_option("--transfer-jitter", a->transfer_jitter, "Jitter (standardised units) of those copies")
      ->check(number_at_least(0));
  spiral->add_option("--clip-norm", a->clip_norm, "Students' gradient-norm clipping threshold (0: none)")
      ->check(number_at_least(0));
  spiral->add_flag("--float64-loss", a->float64_loss, "Compute distillation losses in float64");
  spiral->callback([a, &g] { run_spiral_command(*a, g); });

  auto f = std::make_shared<FashionArgs>();
  CLI::App* fm = exp->add_subcommand("fashion-mnist", "Fashion-MNIST in-domain, MNIST/noise/inverted OOD: "
                                                      "single, ensemble, EnD, EnD^2, EnD^2+AUX (CNN members)");
  fm->add_option("-o,--out", f->out, "Output directory")->capture_default_str();
  fm->add_flag("--quick", f->quick, "Small, fast run (smoke test)");
  fm->add_option("-m,--members", f->members, "Ensemble size (default 10)")
      ->check(integer_at_least(2));
  fm->add_option("--epochs", f->epochs, "Ensemble training epochs")
      ->check(integer_at_least(1));
  fm->add_option("--distill-epochs", f->distill_epochs, "Distillation epochs")
      ->check(integer_at_least(1));
  fm->add_option("--train-count", f->train_count, "Use the first N training images (0 = all)")
      ->check(integer_at_least(0));
  fm->add_option("--temperature", f->temperature, "Initial distillation temperature T0 (>= 1)")
      ->check(number_at_least(1));
  fm->add_option("--smoothing", f->smoothing, "EnD^2 central smoothing eps")
      ->check(number_in(0, 1));
  fm->add_option("--mean-weight", f->mean_weight,
                 "EnD^2 (end2): weight of an added EnD term on the Dirichlet mean (default 0, the paper)")
      ->check(number_at_least(0));
  fm->add_option("--aux-count", f->aux_count, "Number of AUX images for EnD^2+AUX (default 20000)")
      ->check(integer_at_least(0));
  fm->add_option("--aux-oversample", f->aux_oversample,
                 "Make F times the AUX images and keep, per kind, those the members disagree on most (1 to 16; "
                 "default 3; 1 = keep every image made)")
      ->check(integer_in(1, 16));
  fm->add_option("--student-width", f->student_width,
                 "Channels and hidden units of the students, as a multiple of the members' (1 to 4, default 1)")
      ->check(integer_in(1, 4));
  fm->add_option("--end2-method", f->end2_method,
                 "Loss of the EnD^2 students: end2 (the members' Dirichlet likelihood, the paper) or end2-proxy "
                 "(a Proxy-Dirichlet target)")
      ->check(CLI::IsMember({"end2", "end2-proxy"}));
  fm->add_option("--transfer-views", f->transfer_views,
                 "Views of the transfer set for the students: the images plus (N - 1) random crop-and-flip copies, "
                 "each labelled by the ensemble (1 to 8, default 1 = the images only; each view is a copy of the set in memory)")
      ->check(integer_in(1, 8));
  fm->add_option("--aux-kinds", f->aux_kinds,
                 "AUX kinds for EnD^2+AUX, comma-separated (default: all of mix, noise, edges, zoom, shuffle, small, "
                 "outline, chain)");
  fm->add_flag("--restart", f->restart,
               "Train every stage again (by default a rerun into the same --out reuses the ensemble and students "
               "that finished there with the same settings)");
  fm->callback([f, &g] { run_fashion_command(*f, g); });

  auto t = std::make_shared<RegressionToyArgs>();
  CLI::App* toy = exp->add_subcommand("regression-toy", "1-D heteroscedastic regression with a gap: single, "
                                                         "ensemble, EnD, EnD^2, EnD^2+AUX (Gaussian members)");
  toy->add_option("-o,--out", t->out, "Output directory")->capture_default_str();
  toy->add_flag("--quick", t->quick, "Small, fast run (smoke test)");
  toy->add_option("-m,--members", t->members, "Ensemble size (default 10; 5 with --quick)")->check(integer_at_least(2));
  toy->add_option("--epochs", t->epochs, "Ensemble training epochs")->check(integer_at_least(1));
  toy->add_option("--distill-epochs", t->distill_epochs, "Distillation epochs")->check(integer_at_least(1));
  toy->callback([t, &g] { run_regression_toy_command(*t, g); });

  auto tab = std::make_shared<RegressionTabularArgs>();
  CLI::App* tabular = exp->add_subcommand("regression-tabular", "Real regression tables (diabetes, boston, auto-mpg "
                                          "from Debian packages): single, ensemble, EnD, EnD^2, EnD^2+AUX over random "
                                          "train/test splits");
  tabular->add_option("-o,--out", tab->out, "Output directory")->capture_default_str();
  tabular->add_flag("--quick", tab->quick, "Small, fast run (smoke test): 2 splits, 5 members, 20 epochs");
  tabular->add_option("--datasets", tab->datasets, "Data sets, comma-separated (default: diabetes,boston,auto-mpg)")
      ->delimiter(',')
      ->check(CLI::IsMember(data::regression_dataset_names()));
  tabular->add_option("--splits", tab->splits, "Random 90/10 train/test splits (default 10; 2 with --quick)")
      ->check(integer_at_least(1));
  tabular->add_option("-m,--members", tab->members, "Ensemble size (default 10; 5 with --quick)")
      ->check(integer_at_least(2));
  tabular->add_option("--epochs", tab->epochs, "Ensemble training epochs")->check(integer_at_least(1));
  tabular->add_option("--distill-epochs", tab->distill_epochs, "Distillation epochs")->check(integer_at_least(1));
  tabular->add_option("--width", tab->width, "Hidden units per layer (default 50)")->check(integer_at_least(1));
  tabular->add_option("--depth", tab->depth, "Hidden layers (default 1)")->check(integer_at_least(0));
  tabular->add_option("--weight-decay", tab->weight_decay, "Members' L2 weight decay")->check(CLI::NonNegativeNumber);
  tabular->add_option("--val-fraction", tab->val_fraction, "Training rows held out for the members' early "
                      "stopping (default 0.1; 0 = train every epoch)")->check(CLI::Range(0.0, 0.5));
  tabular->callback([tab, &g] { run_regression_tabular_command(*tab, g); });
}

}  // namespace endd::cli
