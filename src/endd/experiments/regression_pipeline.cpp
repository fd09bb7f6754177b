#include "endd/experiments/regression_pipeline.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "endd/core/error.h"
#include "endd/core/seeding.h"

namespace endd::experiments {

nlohmann::json RegressionModelOptions::to_json() const {
  return {{"members", members},
          {"model", {{"hidden_layers", hidden_layers}, {"width", width}, {"activation", "relu"}}},
          {"ensemble", {{"epochs", ensemble.epochs}, {"batch_size", ensemble.batch_size},
                        {"learning_rate", ensemble.learning_rate}, {"weight_decay", ensemble.weight_decay}}},
          {"val_fraction", val_fraction}, {"patience", patience},
          {"student", {{"epochs", student.epochs}, {"batch_size", student.batch_size},
                       {"learning_rate", student.learning_rate}, {"clip_norm", student.clip_norm}}}};
}

namespace {

// Inputs as the networks take them: standardised float rows on the device.
at::Tensor network_rows(const RegressionModels& m, const at::Tensor& x) {
  return m.input_scale.apply(x.to(at::kFloat)).to(m.device);
}

models::MlpOptions mlp(const RegressionModelOptions& o, int64_t features, int64_t outputs) {
  return models::MlpOptions(features, outputs).hidden_layers(o.hidden_layers).width(o.width);
}

std::unique_ptr<models::MlpEnsemble> train_members(const RegressionModelOptions& o, RegressionModels& m,
                                                   const at::Tensor& x, const at::Tensor& y) {
  std::vector<uint64_t> init, order;
  for (int64_t k = 0; k < o.members; ++k) {
    init.push_back(derive_seed(o.seed, Stream::kMemberInit, uint64_t(k)));
    order.push_back(derive_seed(o.seed, Stream::kMemberOrder, uint64_t(k)));
  }
  auto ensemble = std::make_unique<models::MlpEnsemble>(mlp(o, x.size(1), 2), init);
  ensemble->to(m.device);
  auto t = o.ensemble;
  t.quiet = o.quiet;
  t.objective = train::Objective::kGaussianNll;
  at::Tensor rows = network_rows(m, x), targets = m.target_scale.standardise(y.to(at::kDouble)).to(at::kFloat);
  train::BestMembers best;
  if (o.val_fraction > 0) {
    at::Generator g = cpu_generator(derive_seed(o.seed, Stream::kValidationSplit));
    at::Tensor perm = at::randperm(x.size(0), g, at::kLong);
    const int64_t held = std::clamp<int64_t>(int64_t(std::llround(o.val_fraction * double(x.size(0)))), 1, x.size(0) - 1);
    at::Tensor val = perm.slice(0, 0, held).to(rows.device()), fit = perm.slice(0, held).to(rows.device());
    t.val_inputs = rows.index_select(0, val);
    t.val_labels = targets.index_select(0, val.cpu()).to(m.device);
    t.best = &best;
    t.patience = o.patience;
    rows = rows.index_select(0, fit);
    targets = targets.index_select(0, fit.cpu());
  }
  t.batch_size = std::min(t.batch_size, rows.size(0));
  train::train_ensemble(*ensemble, rows, targets.to(m.device), order, t);
  if (!best.empty()) best.restore_into(*ensemble);
  return ensemble;
}

}  // namespace

RegressionModels train_regression_models(const RegressionModelOptions& o, const at::Tensor& inputs,
                                         const at::Tensor& targets, const at::Tensor& aux, c10::Device device) {
  ENDD_CHECK(inputs.dim() == 2 && targets.dim() == 1 && inputs.size(0) == targets.size(0) && inputs.size(0) >= 2,
             "regression: expected inputs [N, D] and targets [N] with N >= 2, got ", inputs.sizes(), " and ",
             targets.sizes());
  ENDD_CHECK(o.members >= 2, "regression: an ensemble needs at least 2 members, got ", o.members);
  RegressionModels m;
  m.device = device;
  m.input_scale = data::Standardizer::fit(inputs.to(at::kFloat));
  m.target_scale = models::TargetScale::fit(targets);
  m.ensemble = train_members(o, m, inputs, targets);
  // Students learn the members' Gaussians in standardised target units.
  at::Tensor transfer = network_rows(m, aux.defined() ? at::cat({inputs, aux.to(inputs.scalar_type())}) : inputs);
  auto [mu, s2] = models::member_gaussians(*m.ensemble, transfer, models::TargetScale{});
  struct Spec {
    const char* name;
    train::RegressionMethod method;
    bool aux;
  };
  const Spec specs[] = {{"end", train::RegressionMethod::kEnD, false},
                        {"end2", train::RegressionMethod::kEnD2, false},
                        {"end2_aux", train::RegressionMethod::kEnD2, true}};
  for (uint64_t i = 0; i < 3; ++i) {
    const Spec& spec = specs[i];
    const int64_t outputs = spec.method == train::RegressionMethod::kEnD ? 2 : 4;
    auto student = std::make_unique<models::MlpEnsemble>(mlp(o, inputs.size(1), outputs),
                                                         std::vector<uint64_t>{derive_seed(o.seed, Stream::kStudentInit, i)});
    student->to(device);
    auto t = o.student;
    t.method = spec.method;
    t.order_seed = derive_seed(o.seed, Stream::kStudentOrder, i);
    t.quiet = o.quiet;
    t.label = std::string("distill ") + spec.name;
    const int64_t n = spec.aux ? transfer.size(0) : inputs.size(0);
    t.batch_size = std::min(t.batch_size, n);
    train::distill_regression(*student, transfer.slice(0, 0, n), mu.slice(0, 0, n), s2.slice(0, 0, n), t);
    m.students[spec.name] = std::move(student);
  }
  m.normal_gamma_link = o.student.normal_gamma_link;
  return m;
}

int64_t typical_member(RegressionModels& m, const at::Tensor& inputs, const at::Tensor& targets) {
  auto [mu, s2] = models::member_gaussians(*m.ensemble, network_rows(m, inputs), m.target_scale);
  at::Tensor y = targets.to(at::kDouble).unsqueeze(1);
  at::Tensor per_member = (0.5 * (at::log(2 * M_PI * s2) + (y - mu).pow(2) / s2)).mean(0);
  at::Tensor order = std::get<1>(at::sort(per_member, /*stable=*/true, 0, false));
  m.single = order[(order.size(0) - 1) / 2].item<int64_t>();
  return m.single;
}

std::map<std::string, uncertainty::RegressionPredictive> regression_predictives(RegressionModels& m,
                                                                               const at::Tensor& inputs,
                                                                               const at::Tensor& targets) {
  ENDD_CHECK(m.single >= 0, "regression: choose the single network (typical_member) first");
  const at::Tensor x = network_rows(m, inputs);
  std::map<std::string, uncertainty::RegressionPredictive> out;
  auto [mu, s2] = models::member_gaussians(*m.ensemble, x, m.target_scale);
  out["ensemble"] = uncertainty::gaussian_predictive(mu, s2, targets);
  out["single"] = uncertainty::gaussian_predictive(mu.slice(1, m.single, m.single + 1),
                                                   s2.slice(1, m.single, m.single + 1), targets);
  auto end = models::member_gaussians(*m.students.at("end"), x, m.target_scale);
  out["end"] = uncertainty::gaussian_predictive(end.means, end.variances, targets);
  for (const char* name : {"end2", "end2_aux"})
    out[name] = uncertainty::normal_gamma_predictive(
        models::normal_gamma_outputs(*m.students.at(name), x, m.target_scale, m.normal_gamma_link), targets);
  return out;
}

}  // namespace endd::experiments
