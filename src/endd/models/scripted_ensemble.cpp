#include "endd/models/scripted_ensemble.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>

#include <sstream>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/core/seeding.h"
#include "endd/models/default_init.h"

namespace endd::models {
namespace {

// nn::Module names may not contain '.', and ':' cannot occur in a Python
// attribute name, so "3:conv1:weight" names member 3's conv1.weight uniquely.
std::string flat_name(int64_t member, const std::string& dotted) {
  std::string s = std::to_string(member) + ":" + dotted;
  for (char& c : s)
    if (c == '.') c = ':';
  return s;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

torch::jit::Module load_torchscript(const std::string& path) {
  std::string bytes = read_file(path);
  std::istringstream in(bytes);
  try {
    return torch::jit::load(in, at::Device(at::kCPU));
  } catch (const std::exception& e) {
    throw Error(path + ": not a TorchScript module (save one in Python with torch.jit.save(torch.jit.script(net), "
                "PATH) or torch.jit.trace): " + first_line(e.what()));
  }
}

ScriptedEnsemble::ScriptedEnsemble(const std::string& path, int64_t members, std::vector<int64_t> sample_shape,
                                   int64_t classes, const std::optional<std::vector<uint64_t>>& init_seeds)
    : path_(path), sample_shape_(std::move(sample_shape)), classes_(classes) {
  ENDD_CHECK(members >= 1, "a scripted ensemble needs at least 1 member, got ", members);
  ENDD_CHECK(!init_seeds || static_cast<int64_t>(init_seeds->size()) == members, "need one seed per member");
  for (int64_t m = 0; m < members; ++m) {
    torch::jit::Module module = load_torchscript(path);  // a fresh copy: no tensor shared between members
    if (init_seeds) {
      at::Generator g = cpu_generator((*init_seeds)[static_cast<size_t>(m)]);
      try {
        reset_to_default_init(module, g);
      } catch (const Error& e) {
        throw Error(path + ": " + e.what());
      }
    }
    // The module's own tensors, registered here so that optimisers,
    // checkpoints and .to(device) reach them; moving one moves the module's.
    size_t count = 0;
    for (const auto& p : module.named_parameters()) {
      register_parameter(flat_name(m, p.name), p.value, /*requires_grad=*/true);
      ++count;
    }
    for (const auto& b : module.named_buffers()) register_buffer(flat_name(m, b.name), b.value);
    ENDD_CHECK(count > 0, path, ": the module has no parameters to train");
    parameters_per_member_ = count;
    modules_.push_back(std::move(module));
  }
  // One sample batch: a module that does not map [B, sample...] to [B, K]
  // fails here, before any training, with the shapes in the message.
  torch::NoGradGuard no_grad;
  int64_t features = 1;
  for (int64_t d : sample_shape_) features *= d;
  modules_.front().eval();  // batch norm in training mode would update its statistics
  try {
    run_member(0, at::zeros({2, features}));
  } catch (...) {
    modules_.front().train(is_training());
    throw;
  }
  modules_.front().train(is_training());
}

ScriptedEnsemble::~ScriptedEnsemble() = default;

const torch::jit::Module& ScriptedEnsemble::member(int64_t m) const { return modules_.at(static_cast<size_t>(m)); }

at::Tensor ScriptedEnsemble::run_member(int64_t m, const at::Tensor& rows) {
  std::vector<int64_t> shape{rows.size(0)};
  shape.insert(shape.end(), sample_shape_.begin(), sample_shape_.end());
  at::Tensor out;
  try {
    out = modules_[static_cast<size_t>(m)].forward({rows.reshape(shape)}).toTensor();
  } catch (const c10::Error& e) {
    std::ostringstream msg;
    msg << path_ << ": the module failed on inputs of shape " << at::IntArrayRef(shape) << ": " << first_line(e.what_without_backtrace());
    throw Error(msg.str());
  }
  ENDD_CHECK(out.dim() == 2 && out.size(0) == rows.size(0) && out.size(1) == classes_, path_,
             ": the module maps inputs ", at::IntArrayRef(shape), " to ", out.sizes(), "; expected [", rows.size(0),
             ", ", classes_, "] (one logit per class; for regression a mean and a variance, or EnD^2's m, kappa, "
             "alpha, beta)");
  return out;
}

at::Tensor ScriptedEnsemble::forward(const at::Tensor& inputs) {
  const int64_t M = members();
  ENDD_CHECK(inputs.dim() == 2 || (inputs.dim() == 3 && inputs.size(0) == M), "scripted ensemble: inputs must be "
             "[B, D] or [", M, ", B, D], got ", inputs.sizes());
  std::vector<at::Tensor> outs;
  for (int64_t m = 0; m < M; ++m) outs.push_back(run_member(m, inputs.dim() == 2 ? inputs : inputs[m]));
  return at::stack(outs);
}

at::Tensor ScriptedEnsemble::member_part(size_t parameter_index, const at::Tensor& parameter, int64_t member) const {
  return static_cast<int64_t>(parameter_index / parameters_per_member_) == member ? parameter : at::Tensor();
}

void ScriptedEnsemble::train(bool on) {
  EnsembleNet::train(on);
  for (auto& m : modules_) m.train(on);
}

}  // namespace endd::models
