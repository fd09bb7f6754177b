#include "endd/export/torchscript.h"

#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/jit/api/module.h>

#include <cmath>
#include <sstream>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/models/conv_ensemble.h"
#include "endd/models/regression_heads.h"
#include "endd/models/scripted_ensemble.h"
#include "endd/uncertainty/measures.h"

namespace endd::exporting {
namespace {

std::string activation_call(const std::string& name) {
  if (name == "relu") return "torch.relu(h)";
  if (name == "tanh") return "torch.tanh(h)";
  if (name == "gelu") return "0.5 * h * (1.0 + torch.erf(h * 0.7071067811865476))";
  if (name == "leaky_relu") return "torch.where(h > 0.0, h, h * 0.01)";
  throw Error("export: unknown activation '" + name + "'");
}

// The measures in TorchScript, mirroring uncertainty/*.cpp (MATH.md 1 and 2).
const char* kEnsembleMeasures = R"(
    log_p = torch.log_softmax(z.double(), -1).transpose(0, 1)
    p = torch.exp(log_p)
    m = p.size(1)
    pbar = p.mean(1)
    log_pbar = torch.logsumexp(log_p, 1) - torch.log(torch.ones_like(log_p[:, 0, :1]) * float(m))
    total = -(pbar * log_pbar).sum(-1)
    data = -(p * log_p).sum(-1).mean(1)
    knowledge = (p * (log_p - log_pbar.unsqueeze(1))).sum(-1).mean(1).clamp_min(0.0)
    if m > 1:
        cross = -(pbar * log_p.mean(1)).sum(-1)
        epkl = ((cross - data) * (float(m) / float(m - 1))).clamp_min(0.0)
    else:
        epkl = torch.zeros_like(total)
    conf, pred = pbar.max(-1)
    return {"probs": pbar, "prediction": pred, "confidence": conf, "total": total, "data": data,
            "knowledge": knowledge, "epkl": epkl, "member_probs": p}
)";

const char* kDirichletMeasures = R"(
    zz = z.squeeze(0).double().clamp(-300.0, 300.0)
    k = zz.size(1)
    log_a0 = torch.logsumexp(zz, -1, keepdim=True)
    log_p = zz - log_a0
    p = torch.exp(log_p)
    alpha = torch.exp(zz)
    a0 = torch.exp(log_a0)
    total = -(p * log_p).sum(-1)
    data = -(p * (torch.digamma(alpha + 1.0) - torch.digamma(a0 + 1.0))).sum(-1)
    knowledge = ((p * self.g(alpha, zz)).sum(-1) - self.g(a0, log_a0).squeeze(-1)).clamp_min(0.0)
    epkl = (float(k - 1) * torch.exp(-log_a0)).squeeze(-1)
    diff_entropy = (torch.lgamma(alpha).sum(-1) - torch.lgamma(a0).squeeze(-1)
                    + ((a0 - float(k)) * torch.digamma(a0)).squeeze(-1)
                    - ((alpha - 1.0) * torch.digamma(alpha)).sum(-1))
    conf, pred = p.max(-1)
    return {"probs": p, "prediction": pred, "confidence": conf, "total": total, "data": data,
            "knowledge": knowledge, "epkl": epkl, "alpha0": a0.squeeze(-1), "diff_entropy": diff_entropy}

def g(self, x: Tensor, log_x: Tensor) -> Tensor:
    big = x.clamp_min(20.0)
    inv = 1.0 / big
    inv2 = inv * inv
    series = inv * 0.5 - inv2 / 12.0 + inv2 * inv2 / 120.0 - inv2 * inv2 * inv2 / 252.0
    direct = torch.digamma(x + 1.0) - log_x
    return torch.where(x >= 20.0, series, direct)
)";

// Regression runs (MATH.md section 6), mirroring models/regression_heads.cpp,
// models/regression_outputs.cpp and uncertainty/regression_measures.cpp: the
// heads' links (softplus with threshold 20, as ATen's, or a clamped exp), the
// target scale back to the user's units, then the measures. A Gaussian
// ensemble's entropy form has no closed form (endd integrates it
// numerically); its export gives the variance form and the members' Gaussians.
std::string regression_source(const runs::RunInfo& info) {
  std::ostringstream o;
  o.precision(17);
  const double sd = info.target_sd, mean = info.target_mean, log_2pi_e = std::log(2 * M_PI * M_E);
  o << "    zz = z.double()\n";
  if (info.normal_gamma() && info.normal_gamma_link == models::PositiveLink::kExp)
    o << "    sp = torch.exp(zz.clamp(" << -models::kMaxLogParameter << ", " << models::kMaxLogParameter << "))\n";
  else
    o << "    sp = torch.where(zz > 20.0, zz, torch.log1p(torch.exp(zz.clamp_max(20.0))))\n";
  if (info.normal_gamma()) {
    o << "    m = zz[0, :, 0] * " << sd << " + " << mean << "\n"
      << "    kappa = sp[0, :, 1] + " << models::kNormalGammaFloor << "\n"
      << "    alpha = 1.0 + sp[0, :, 2] + " << models::kMinAlphaExcess << "\n"
      << "    beta = (sp[0, :, 3] + " << models::kNormalGammaFloor << ") * " << sd * sd << "\n"
      << "    data_variance = beta / (alpha - 1.0)\n"
      << "    knowledge_variance = data_variance / kappa\n"
      << "    data = 0.5 * " << log_2pi_e << " - 0.5 * (torch.digamma(alpha) - torch.log(beta))\n"
      << "    nu = 2.0 * alpha\n"
      << "    log_scale = 0.5 * torch.log(beta * (kappa + 1.0) / (alpha * kappa))\n"
      << "    log_beta_fn = torch.lgamma(nu / 2.0) + " << std::lgamma(0.5) << " - torch.lgamma((nu + 1.0) / 2.0)\n"
      << "    total = ((nu + 1.0) / 2.0 * (torch.digamma((nu + 1.0) / 2.0) - torch.digamma(nu / 2.0))\n"
      << "             + 0.5 * torch.log(nu) + log_beta_fn + log_scale)\n"
      << "    return {\"prediction\": m, \"m\": m, \"kappa\": kappa, \"alpha\": alpha, \"beta\": beta,\n"
      << "            \"total_variance\": data_variance + knowledge_variance, \"data_variance\": data_variance,\n"
      << "            \"knowledge_variance\": knowledge_variance, \"total\": total, \"data\": data,\n"
      << "            \"knowledge\": (total - data).clamp_min(0.0)}\n";
    return o.str();
  }
  o << "    means = zz[:, :, 0].t() * " << sd << " + " << mean << "\n"
    << "    variances = (sp[:, :, 1].t() + " << models::kMinVariance << ") * " << sd * sd << "\n"
    << "    prediction = means.mean(1)\n"
    << "    data_variance = variances.mean(1)\n"
    << "    knowledge_variance = (means - prediction.unsqueeze(1)).pow(2).mean(1)\n"
    << "    out = {\"prediction\": prediction, \"member_means\": means, \"member_variances\": variances,\n"
    << "           \"total_variance\": data_variance + knowledge_variance, \"data_variance\": data_variance,\n"
    << "           \"knowledge_variance\": knowledge_variance}\n";
  if (info.members == 1)  // one Gaussian: its entropy in closed form, no knowledge uncertainty
    o << "    out[\"data\"] = 0.5 * (" << log_2pi_e << " + torch.log(data_variance))\n"
      << "    out[\"total\"] = out[\"data\"]\n"
      << "    out[\"knowledge\"] = torch.zeros_like(data_variance)\n";
  o << "    return out\n";
  return o.str();
}

// A copy of member 0's module holding member m's weights: all copies share
// member 0's compilation unit, where the exported module must be defined to
// call them.
torch::jit::Module member_copy(const models::ScriptedEnsemble& net, int64_t m) {
  torch::NoGradGuard no_grad;
  torch::jit::Module copy = net.member(0).deepcopy();
  auto params = net.member(m).named_parameters();
  auto buffers = net.member(m).named_buffers();
  auto to_params = copy.named_parameters();
  auto to_buffers = copy.named_buffers();
  auto a = params.begin();
  for (auto b = to_params.begin(); b != to_params.end(); ++a, ++b) (*b).value.copy_((*a).value.detach().cpu());
  auto c = buffers.begin();
  for (auto d = to_buffers.begin(); d != to_buffers.end(); ++c, ++d) (*d).value.copy_((*c).value.detach().cpu());
  copy.eval();
  return copy;
}

// ConvEnsemble::forward in TorchScript: one grouped convolution (groups = M)
// per layer over [B, M*C, H, W], then the members' dense layers batched.
void write_conv_forward(const models::ConvEnsemble& net, torch::jit::Module& module, std::ostringstream& src) {
  for (const auto& p : net.named_parameters()) module.register_parameter(p.key(), p.value().detach().cpu(), false);
  for (const auto& b : net.named_buffers()) module.register_buffer(b.key(), b.value().detach().cpu());
  const auto& o = net.options();
  const int64_t M = net.members();
  auto conv = [&](const std::string& name, const std::string& in, int64_t stride, int64_t kernel, bool relu) {
    std::ostringstream c;
    c << "torch.conv2d(" << in << ", self." << name << "_weight, "
      << (o.batch_norm_ ? "None" : "self." + name + "_bias") << ", [" << stride << ", " << stride << "], ["
      << kernel / 2 << ", " << kernel / 2 << "], [1, 1], " << M << ")";
    std::string y = c.str();
    if (o.batch_norm_)
      y = "torch.batch_norm(" + y + ", self." + name + "_bn_weight, self." + name + "_bn_bias, self." + name +
          "_running_mean, self." + name + "_running_var, False, 0.1, 1e-05, True)";
    return relu ? "torch.relu(" + y + ")" : y;
  };
  src << "    h = h.reshape([h.size(0), " << o.channels_ << ", " << o.height_ << ", " << o.width_ << "]).repeat(1, " << M
      << ", 1, 1)\n";
  for (size_t s = 0; s < o.stages_.size(); ++s) {
    const std::string p = "stage" + std::to_string(s);
    if (o.residual_) {
      src << "    main = " << conv(p + "_conv1", conv(p + "_conv0", "h", 2, 3, true), 1, 3, false) << "\n"
          << "    h = torch.relu(main + " << conv(p + "_shortcut", "h", 2, 1, false) << ")\n";
    } else {
      for (int64_t k = 0; k < o.convs_per_stage_; ++k) src << "    h = " << conv(p + "_conv" + std::to_string(k), "h", 1, 3, true) << "\n";
      src << "    h = torch.max_pool2d(h, [2, 2])\n";
    }
  }
  src << "    h = h.reshape([h.size(0), " << M << ", " << net.flat_features() << "]).transpose(0, 1)\n";
  if (o.hidden_ > 0) src << "    h = torch.relu(torch.baddbmm(self.fc0_bias, h, self.fc0_weight))\n";
  src << "    z = torch.baddbmm(self.fc1_bias, h, self.fc1_weight)\n";  // dropout: training only
}

// The exported module; for a TorchScript run in its members' compilation unit.
torch::jit::Module empty_module(const runs::LoadedModel& model) {
  if (auto* scripted = dynamic_cast<models::ScriptedEnsemble*>(model.net.get()))
    return torch::jit::Module("endd_model", scripted->member(0)._ivalue()->compilation_unit(), /*shouldMangle=*/true);
  return torch::jit::Module("endd_model");
}

}  // namespace

void export_torchscript(const runs::LoadedModel& model, const std::string& path) {
  torch::jit::Module module = empty_module(model);
  const int64_t D = model.info.inputs;
  std::ostringstream src;
  // Any [N, ...] with D values per input: rows, or images as the data had them.
  src << "def forward(self, x: Tensor) -> Dict[str, Tensor]:\n"
      << "    h = (x.reshape([x.size(0), " << D << "]).float() - self.mean) / self.std\n";
  module.register_buffer("mean", model.scaler.mean.cpu().to(at::kFloat));
  module.register_buffer("std", model.scaler.std.cpu().to(at::kFloat));
  if (auto* scripted = dynamic_cast<models::ScriptedEnsemble*>(model.net.get())) {
    // The user's module itself, once per member, fed inputs of its own shape.
    src << "    s = h.reshape([h.size(0)";
    for (int64_t d : model.info.sample_shape) src << ", " << d;
    src << "])\n    z = torch.stack([";
    for (int64_t m = 0; m < scripted->members(); ++m) {
      module.register_module("member" + std::to_string(m), member_copy(*scripted, m));
      src << (m ? ", " : "") << "self.member" << m << ".forward(s)";
    }
    src << "], 0)\n";
  } else if (auto* conv = dynamic_cast<models::ConvEnsemble*>(model.net.get())) {
    write_conv_forward(*conv, module, src);
  } else {
    src << "    h = h.unsqueeze(0).expand(" << model.info.members << ", h.size(0), h.size(1))\n";
    std::vector<std::pair<std::string, at::Tensor>> params;
    for (const auto& p : model.net->named_parameters())
      params.emplace_back(p.key(), p.value().detach().cpu().contiguous());
    for (const auto& [name, t] : params) module.register_parameter(name, t, /*is_buffer=*/false);
    const int64_t layers = static_cast<int64_t>(params.size() / 2);
    for (int64_t layer = 0; layer < layers; ++layer) {
      src << "    h = torch.baddbmm(self.b" << layer << ", h, self.w" << layer << ")\n";
      if (layer + 1 < layers) src << "    h = " << activation_call(model.info.model.activation) << "\n";
    }
    src << "    z = h\n";
  }
  if (model.info.regression())
    src << regression_source(model.info);
  else
    src << (model.info.dirichlet() ? kDirichletMeasures : kEnsembleMeasures);
  try {
    module.define(src.str());
  } catch (const std::exception& e) {
    throw Error(std::string("export: TorchScript compilation failed: ") + e.what());
  }
  module.eval();
  std::ostringstream bytes;
  module.save(bytes);
  write_file_atomic(path, bytes.str());
}

}  // namespace endd::exporting
