// Using endd as a library: train a small ensemble on the spiral, distil it
// into one Dirichlet prior network (EnD^2), and print per-input uncertainties
// of both, in-domain and far from the data.
#include <ATen/ATen.h>

#include <cstdio>

#include "endd/core/runtime.h"
#include "endd/data/spiral.h"
#include "endd/distill/teacher_cache.h"
#include "endd/models/mlp_ensemble.h"
#include "endd/train/distiller.h"
#include "endd/train/ensemble_trainer.h"
#include "endd/uncertainty/measures.h"

int main() {
  using namespace endd;
  configure_threads(0);  // the measured default for small networks
  auto train = data::make_spiral(/*per_class=*/500, /*noise=*/0.35, /*seed=*/1);
  auto scaler = data::Standardizer::fit(train.inputs);
  at::Tensor x = scaler.apply(train.inputs);

  // 1. An ensemble of 8 MLPs, trained together in one vectorised graph.
  auto arch = models::MlpOptions(/*inputs=*/2, /*classes=*/3).hidden_layers(3).width(64);
  models::MlpEnsemble ensemble(arch, {11, 12, 13, 14, 15, 16, 17, 18});
  train::EnsembleTrainOptions t;
  t.epochs = 60;
  t.quiet = true;
  train::train_ensemble(ensemble, x, train.labels, {21, 22, 23, 24, 25, 26, 27, 28}, t);

  // 2. EnD^2: one prior network fitted to the members' outputs (teacher cache),
  //    with AUX inputs around the data so it learns where members disagree.
  at::Tensor aux = scaler.apply(data::uniform_disc(1500, 2 * data::spiral_radius(), 3, "aux").inputs);
  at::Tensor transfer = at::cat({x, aux});
  at::Tensor teacher = distill::compute_teacher_logits(ensemble, transfer);
  models::MlpEnsemble student(arch, {31});
  train::DistillOptions d;
  d.method = train::DistillMethod::kEnD2;
  d.epochs = 300;
  d.hold_fraction = 0.2;
  d.decay_fraction = 0.3;
  d.learning_rate = 1e-2;
  d.smoothing = 1e-6;
  d.float64_loss = true;
  d.quiet = true;
  train::distill(student, transfer, teacher, d);

  // 3. Uncertainty of both on a point on the spiral and two far away (inside
  //    the AUX disc of radius 2R ~ 710: beyond it the student was taught nothing).
  at::Tensor probe = scaler.apply(at::tensor({0.f, -150.f, 400.f, 400.f, -500.f, 100.f}).view({3, 2}));
  auto ens = uncertainty::ensemble_measures_from_logits(distill::compute_teacher_logits(ensemble, probe));
  auto pn = uncertainty::dirichlet_measures(distill::compute_teacher_logits(student, probe).squeeze(1));
  std::printf("%-14s %-9s %9s %9s %9s %12s\n", "input", "model", "total", "data", "knowledge", "alpha0");
  const char* names[] = {"(0, -150)", "(400, 400)", "(-500, 100)"};
  for (int i = 0; i < 3; ++i) {
    std::printf("%-14s %-9s %9.4f %9.4f %9.4f %12s\n", names[i], "ensemble", ens.total[i].item<double>(),
                ens.data[i].item<double>(), ens.knowledge[i].item<double>(), "-");
    std::printf("%-14s %-9s %9.4f %9.4f %9.4f %12.1f\n", "", "EnD^2", pn.total[i].item<double>(),
                pn.data[i].item<double>(), pn.knowledge[i].item<double>(), pn.precision->index({i}).item<double>());
  }
  return 0;
}
