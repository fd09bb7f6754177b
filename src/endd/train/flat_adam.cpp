#include "endd/train/flat_adam.h"

#include <ATen/ATen.h>

#include <cmath>

#include "endd/core/error.h"
#include "endd/train/adam_kernel.h"
#include "endd/train/optimizer_state.h"

namespace endd::train {
namespace {

at::Tensor span(const at::Tensor& flat, int64_t begin, int64_t end, const at::Tensor& like) {
  return flat.narrow(0, begin, end - begin).view(like.sizes());
}

}  // namespace

FlatAdam::FlatAdam(const std::vector<at::Tensor>& parameters, torch::optim::AdamOptions options)
    : torch::optim::Adam(parameters, options) {
  ENDD_CHECK(!options.amsgrad(), "FlatAdam: amsgrad is not supported");
  ENDD_CHECK(!parameters.empty(), "FlatAdam: no parameters");
  offsets_.push_back(0);
  for (const auto& p : parameters) {
    ENDD_CHECK(p.device() == parameters.front().device() && p.scalar_type() == parameters.front().scalar_type(),
               "FlatAdam: every parameter must have one device and dtype");
    offsets_.push_back(offsets_.back() + p.numel());
  }
  at::NoGradGuard no_grad;
  const auto opts = parameters.front().options().requires_grad(false);
  param_ = at::empty({offsets_.back()}, opts);
  grad_ = at::zeros({offsets_.back()}, opts);
  exp_avg_ = at::zeros({offsets_.back()}, opts);
  exp_avg_sq_ = at::zeros({offsets_.back()}, opts);
  for (size_t i = 0; i < parameters.size(); ++i) {
    at::Tensor p = parameters[i];  // a handle to the module's own tensor
    at::Tensor view = span(param_, offsets_[i], offsets_[i + 1], p);
    view.copy_(p.detach());
    p.set_data(view);  // the same tensor (autograd leaf), now stored in the buffer
    p.mutable_grad() = span(grad_, offsets_[i], offsets_[i + 1], p);
  }
  bind_state();
}

void FlatAdam::bind_state() {
  at::NoGradGuard no_grad;
  const auto& ps = param_groups_.front().params();
  states_.clear();
  int64_t step = -1;
  for (size_t i = 0; i < ps.size(); ++i) {
    const at::Tensor& p = ps[i];
    auto& slot = state_[state_key(state_, p)];
    if (!slot) slot = std::make_unique<torch::optim::AdamParamState>();
    auto& s = static_cast<torch::optim::AdamParamState&>(*slot);
    at::Tensor avg = span(exp_avg_, offsets_[i], offsets_[i + 1], p);
    at::Tensor avg_sq = span(exp_avg_sq_, offsets_[i], offsets_[i + 1], p);
    if (s.exp_avg().defined() && !s.exp_avg().is_same(avg)) {
      ENDD_CHECK(s.exp_avg().sizes() == p.sizes() && s.exp_avg_sq().sizes() == p.sizes(),
                 "optimiser state of shape ", s.exp_avg().sizes(), " for a parameter of shape ", p.sizes());
      avg.copy_(s.exp_avg());
      avg_sq.copy_(s.exp_avg_sq());
    }
    s.exp_avg(avg);
    s.exp_avg_sq(avg_sq);
    states_.push_back(&s);
    ENDD_CHECK(step < 0 || s.step() == step, "optimiser state: parameters at different steps (", step, " and ",
               s.step(), "); a FlatAdam steps them together");
    step = s.step();
  }
  step_ = step < 0 ? 0 : step;
}

void FlatAdam::load(torch::serialize::InputArchive& archive) {
  torch::optim::Adam::load(archive);
  bind_state();
}

void FlatAdam::zero_grad() { grad_.zero_(); }

at::Tensor FlatAdam::step(LossClosure closure) {
  at::Tensor loss;
  if (closure) {
    at::AutoGradMode enable(true);
    loss = closure();
  }
  at::NoGradGuard no_grad;
  const auto& o = static_cast<const torch::optim::AdamOptions&>(param_groups_.front().options());
  ++step_;
  for (auto* s : states_) s->step(step_);
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
  const double bias1 = 1 - std::pow(beta1, double(step_)), bias2 = 1 - std::pow(beta2, double(step_));
  if (param_.is_cpu() && param_.scalar_type() == at::kFloat) {  // one pass (adam_kernel.h)
    AdamStepConstants c;
    c.beta1 = static_cast<float>(beta1);
    c.beta2 = static_cast<float>(beta2);
    c.weight_decay = static_cast<float>(o.weight_decay());
    c.inv_sqrt_bias2 = static_cast<float>(1 / std::sqrt(bias2));
    c.eps = static_cast<float>(o.eps());
    c.step_size = static_cast<float>(o.lr() / bias1);
    adam_pass(param_.data_ptr<float>(), grad_.data_ptr<float>(), exp_avg_.data_ptr<float>(),
              exp_avg_sq_.data_ptr<float>(), param_.numel(), c);
    return loss;
  }
  // Elsewhere the operations of torch::optim::Adam, once over the whole buffer.
  const at::Tensor g = o.weight_decay() != 0 ? grad_.add(param_, o.weight_decay()) : grad_;
  exp_avg_.mul_(beta1).add_(g, 1 - beta1);
  exp_avg_sq_.mul_(beta2).addcmul_(g, g, 1 - beta2);
  const at::Tensor denom = (exp_avg_sq_.sqrt() / std::sqrt(bias2)).add_(o.eps());
  param_.addcdiv_(exp_avg_, denom, -o.lr() / bias1);
  return loss;
}

}  // namespace endd::train
