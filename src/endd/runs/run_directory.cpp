#include "endd/runs/run_directory.h"

#include <ATen/ATen.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <filesystem>
#include <sstream>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/data/class_labels.h"
#include "endd/models/conv_ensemble.h"
#include "endd/models/mlp_ensemble.h"
#include "endd/models/scripted_ensemble.h"

namespace endd::runs {
namespace {

constexpr const char* kFormat = "endd-run-1";

std::string serialize(torch::serialize::OutputArchive& archive) {
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void load_archive(torch::serialize::InputArchive& archive, const std::string& path,
                  c10::optional<c10::Device> device = c10::nullopt) {
  std::string bytes = read_file(path);
  try {
    archive.load_from(bytes.data(), bytes.size(), device);
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw Error(path + ": cannot read (damaged or not written by endd): " + what.substr(0, what.find('\n')));
  }
}

at::Tensor read_tensor(torch::serialize::InputArchive& archive, const std::string& key, const std::string& path) {
  at::Tensor t;
  ENDD_CHECK(archive.try_read(key, t), path, ": missing '", key, "' (not written by this endd?)");
  return t;
}

// Parameters under "model/", buffers (batch-norm statistics of scripted
// modules; built-in networks have none) under "buffer/".
void write_state(torch::serialize::OutputArchive& archive, models::EnsembleNet& net) {
  for (const auto& p : net.named_parameters()) archive.write("model/" + p.key(), p.value().detach().cpu());
  for (const auto& b : net.named_buffers()) archive.write("buffer/" + b.key(), b.value().detach().cpu());
}

void restore_state(torch::serialize::InputArchive& archive, models::EnsembleNet& net, const std::string& path) {
  torch::NoGradGuard no_grad;
  auto restore = [&](const std::string& key, at::Tensor& into) {
    at::Tensor t = read_tensor(archive, key, path);
    ENDD_CHECK(t.sizes() == into.sizes(), path, ": '", key, "' has shape ", t.sizes(), ", the run's "
               "architecture needs ", into.sizes());
    into.copy_(t);
  };
  for (auto& p : net.named_parameters()) restore("model/" + p.key(), p.value());
  for (auto& b : net.named_buffers()) restore("buffer/" + b.key(), b.value());
}

}  // namespace

std::string RunInfo::model_name() const {
  if (kind == RunKind::kEnsemble) return members == 1 ? "single" : "ensemble";
  return (dirichlet() || normal_gamma()) && aux ? method + "_aux" : method;
}

std::string run_file(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

data::SourceRequest source_request(const RunInfo& info, bool need_labels) {
  data::SourceRequest r;
  r.features = info.inputs;
  r.need_labels = need_labels;
  r.numeric_targets = info.regression();
  if (need_labels && !info.regression()) r.classes = info.class_names;
  r.flatten = true;
  r.label_column = info.label_column;
  r.label_index = info.label_index;
  r.label_name = info.label_name;
  r.feature_names = info.feature_names;
  return r;
}

void save_run_info(const std::string& dir, const RunInfo& i) {
  nlohmann::json j{{"format", kFormat},
                   {"task", i.task},
                   {"kind", i.kind == RunKind::kEnsemble ? "ensemble" : "student"},
                   {"method", i.method},
                   {"aux", i.aux},
                   {"inputs", i.inputs},
                   {"classes", i.classes},
                   {"members", i.members},
                   {"sample_shape", i.sample_shape.empty() ? std::vector<int64_t>{i.inputs} : i.sample_shape},
                   {"model", {{"arch", i.model.name()}, {"hidden_layers", i.model.hidden_layers},
                              {"width", i.model.width}, {"activation", i.model.activation},
                              {"torchscript", i.model.torchscript}, {"stages", i.model.stages},
                              {"hidden", i.model.hidden}}},
                   {"teacher", i.teacher},
                   {"labels", i.class_names},
                   {"label_column", {{"given", i.label_column}, {"index", i.label_index}, {"name", i.label_name}}},
                   {"features", i.feature_names},
                   {"finished", i.finished},
                   {"epochs_done", i.epochs_done}};
  if (i.regression()) j["target"] = {{"mean", i.target_mean}, {"sd", i.target_sd}};
  if (i.normal_gamma()) j["normal_gamma_link"] = models::positive_link_name(i.normal_gamma_link);
  if (i.conv_layout)
    j["cpu_conv_layout"] = {{"layout", i.conv_layout->member_major ? "member-major" : "stacked"},
                            {"stacked_ms", i.conv_layout->stacked_ms},
                            {"member_major_ms", i.conv_layout->member_major_ms}};
  write_file_atomic(run_file(dir, "run.json"), j.dump(2) + "\n");
}

RunInfo load_run_info(const std::string& dir) {
  std::error_code ec;
  ENDD_CHECK(std::filesystem::is_directory(dir, ec), dir, ": no such run directory");
  std::string path = run_file(dir, "run.json");
  ENDD_CHECK(std::filesystem::exists(path, ec), dir, ": not an endd run directory (no run.json)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": damaged run.json: " + e.what());
  }
  ENDD_CHECK(j.is_object() && j.value("format", "") == kFormat, path, ": not an endd run (format '",
             j.is_object() ? j.value("format", "") : "", "', expected '", kFormat, "')");
  RunInfo i;
  try {
    i.task = j.value("task", std::string("classification"));
    ENDD_CHECK(i.task == "classification" || i.task == "regression", path, ": damaged run.json: task '", i.task,
               "' (expected classification or regression)");
    if (i.regression()) {
      i.target_mean = j.at("target").at("mean").get<double>();
      i.target_sd = j.at("target").at("sd").get<double>();
      ENDD_CHECK(std::isfinite(i.target_mean) && std::isfinite(i.target_sd) && i.target_sd > 0, path,
                 ": damaged run.json: target scale mean ", i.target_mean, ", sd ", i.target_sd);
    }
    i.kind = j.at("kind").get<std::string>() == "ensemble" ? RunKind::kEnsemble : RunKind::kStudent;
    i.method = j.at("method").get<std::string>();
    i.aux = j.at("aux").get<bool>();
    i.inputs = j.at("inputs").get<int64_t>();
    i.classes = j.at("classes").get<int64_t>();
    i.members = j.at("members").get<int64_t>();
    const auto& m = j.at("model");
    const std::string arch = m.at("arch").get<std::string>();
    ENDD_CHECK(parse_arch(arch), path, ": damaged run.json: unknown architecture '", arch,
               "' (expected mlp, cnn, vgg, resnet or torchscript)");
    i.model = {*parse_arch(arch), m.at("hidden_layers").get<int64_t>(), m.at("width").get<int64_t>(),
               m.at("activation").get<std::string>(), m.value("torchscript", std::string()),
               m.value("stages", std::string()), m.value("hidden", int64_t{-1})};
    i.sample_shape = j.value("sample_shape", std::vector<int64_t>{i.inputs});
    int64_t elements = 1;
    for (int64_t d : i.sample_shape) elements *= d;
    ENDD_CHECK(elements == i.inputs, path, ": damaged run.json: sample_shape holds ", elements, " values per input, "
               "inputs says ", i.inputs);
    i.teacher = j.at("teacher").get<std::string>();
    i.finished = j.at("finished").get<bool>();
    i.class_names = j.contains("labels") ? j.at("labels").get<std::vector<std::string>>()
                                         : data::index_classes(i.classes);
    ENDD_CHECK(i.regression() || static_cast<int64_t>(i.class_names.size()) == i.classes, path, ": damaged run.json: ",
               i.class_names.size(), " labels for ", i.classes, " classes");
    if (j.contains("label_column")) {
      const auto& l = j.at("label_column");
      i.label_column = l.at("given").get<std::string>();
      i.label_index = l.at("index").get<int64_t>();
      i.label_name = l.at("name").get<std::string>();
    }
    if (j.contains("features")) i.feature_names = j.at("features").get<std::vector<std::string>>();
    i.epochs_done = j.at("epochs_done").get<int64_t>();
    const std::string link = j.value("normal_gamma_link", std::string("softplus"));
    ENDD_CHECK(models::parse_positive_link(link), path, ": damaged run.json: normal_gamma_link '", link,
               "' (expected exp or softplus)");
    i.normal_gamma_link = *models::parse_positive_link(link);
    if (j.contains("cpu_conv_layout")) {
      const auto& l = j.at("cpu_conv_layout");
      const std::string layout = l.at("layout").get<std::string>();
      ENDD_CHECK(layout == "member-major" || layout == "stacked", path, ": damaged run.json: cpu_conv_layout '",
                 layout, "' (expected member-major or stacked)");
      i.conv_layout = models::ConvLayoutMeasurement{layout == "member-major", l.at("stacked_ms").get<double>(),
                                                    l.at("member_major_ms").get<double>()};
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": damaged run.json: " + e.what());
  }
  return i;
}

std::shared_ptr<models::EnsembleNet> make_network(const RunInfo& info, const std::vector<uint64_t>& seeds,
                                                  const std::string& module_file, Init init) {
  if (info.model.arch == Arch::kTorchScript) {
    std::optional<std::vector<uint64_t>> init_seeds;
    if (init == Init::kFromSeeds) init_seeds = seeds;
    return std::make_shared<models::ScriptedEnsemble>(module_file, info.members, info.sample_shape, info.classes,
                                                      init_seeds);
  }
  if (info.model.image()) {
    ENDD_CHECK(info.sample_shape.size() == 3, "--arch ", info.model.name(), " takes images [C, H, W]; the data's inputs "
               "are of shape ", at::IntArrayRef(info.sample_shape), " (an image source: fashion-mnist:, idx:, cifar10:, "
               "npy:X.npy of [N, C, H, W], ...)");
    const auto& s = info.sample_shape;
    auto opts = models::ConvOptions::preset(info.model.name(), s[0], s[1], s[2], info.classes);
    if (!info.model.stages.empty()) opts.stages(parse_stages(info.model.stages, "model.stages"));
    if (info.model.hidden >= 0) opts.hidden(info.model.hidden);
    return std::make_shared<models::ConvEnsemble>(opts, seeds);
  }
  auto opts = models::MlpOptions(info.inputs, info.classes)
                  .hidden_layers(info.model.hidden_layers)
                  .width(info.model.width)
                  .activation(models::parse_activation(info.model.activation));
  return std::make_shared<models::MlpEnsemble>(opts, seeds);
}

void save_weights(const std::string& path, models::EnsembleNet& net, const data::Standardizer& scaler) {
  torch::serialize::OutputArchive archive;
  write_state(archive, net);
  archive.write("scaler/mean", scaler.mean.cpu());
  archive.write("scaler/std", scaler.std.cpu());
  write_file_atomic(path, serialize(archive));
}

int64_t inference_batch(const RunInfo& info) {
  if (info.model.arch == Arch::kMlp) return 4096;
  return std::max<int64_t>(16, 4096 / std::max<int64_t>(1, info.members));
}

LoadedModel load_model(const std::string& dir, c10::Device device) {
  LoadedModel m;
  m.info = load_run_info(dir);
  ENDD_CHECK(m.info.finished, dir, ": the run has not finished (resume it first)");
  std::string path = run_file(dir, "weights.pt");
  torch::serialize::InputArchive archive;
  load_archive(archive, path);
  m.net = make_network(m.info, std::vector<uint64_t>(static_cast<size_t>(m.info.members), 0),
                       run_file(dir, kModuleFile), Init::kFromFileWeights);
  restore_state(archive, *m.net, path);
  m.scaler.mean = read_tensor(archive, "scaler/mean", path);
  // Older runs clamped a constant feature's spread to 1e-12; scale 1 is the
  // same model on training data and stays finite on anything else.
  m.scaler.std = data::Standardizer::safe_scale(read_tensor(archive, "scaler/std", path), m.scaler.mean);
  m.net->to(device);
  m.net->eval();
  return m;
}

void save_checkpoint(const std::string& path, models::EnsembleNet& net, torch::optim::Optimizer& opt,
                     const train::TrainingCurve& curve, const train::BestMembers* best) {
  torch::serialize::OutputArchive archive, optimizer;
  write_state(archive, net);
  opt.save(optimizer);
  archive.write("optimizer", optimizer);
  std::vector<double> rows;
  for (const auto& e : curve)
    rows.insert(rows.end(), {double(e.epoch), e.loss, e.temperature, e.learning_rate, e.seconds, e.val_error, e.val_nll});
  archive.write("curve", at::tensor(rows, at::kDouble).view({static_cast<int64_t>(curve.size()), 7}));
  if (best && !best->empty()) {
    for (size_t i = 0; i < best->params.size(); ++i) archive.write("best/" + std::to_string(i), best->params[i]);
    archive.write("best_nll", best->nll);
    archive.write("best_epoch", best->epoch);
  }
  write_file_atomic(path, serialize(archive));
}

int64_t load_checkpoint(const std::string& path, models::EnsembleNet& net, torch::optim::Optimizer& opt,
                        train::TrainingCurve& curve, train::BestMembers* best) {
  torch::serialize::InputArchive archive, optimizer;
  load_archive(archive, path, net.parameters().front().device());  // optimiser state beside its parameters
  restore_state(archive, net, path);
  ENDD_CHECK(archive.try_read("optimizer", optimizer), path, ": missing optimiser state");
  opt.load(optimizer);
  at::Tensor rows = read_tensor(archive, "curve", path).cpu().contiguous();
  ENDD_CHECK(rows.dim() == 2 && (rows.size(1) == 5 || rows.size(1) == 7), path, ": damaged training curve");
  curve.clear();
  for (int64_t r = 0; r < rows.size(0); ++r) {
    const double* v = rows[r].data_ptr<double>();
    train::EpochLog e{static_cast<int64_t>(v[0]), v[1], v[2], v[3], v[4]};
    if (rows.size(1) == 7) {  // checkpoints before validation sets had 5 columns
      e.val_error = v[5];
      e.val_nll = v[6];
    }
    curve.push_back(e);
  }
  at::Tensor nll;
  if (best && archive.try_read("best_nll", nll)) {
    best->nll = nll.cpu();
    best->epoch = read_tensor(archive, "best_epoch", path).cpu();
    best->params.clear();
    for (size_t i = 0; i < net.parameters().size(); ++i)
      best->params.push_back(read_tensor(archive, "best/" + std::to_string(i), path).cpu());
  }
  return static_cast<int64_t>(curve.size());
}

int64_t checkpoint_epochs(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return -1;
  torch::serialize::InputArchive archive;
  load_archive(archive, path);
  return read_tensor(archive, "curve", path).size(0);
}

void write_training_log(const std::string& path, const train::TrainingCurve& curve) {
  std::ostringstream out;
  const bool validation = !curve.empty() && !std::isnan(curve.front().val_nll);
  out << "epoch,loss,temperature,learning_rate,seconds" << (validation ? ",val_error,val_nll" : "") << "\n";
  out.precision(9);
  for (const auto& e : curve) {
    out << e.epoch + 1 << "," << e.loss << "," << e.temperature << "," << e.learning_rate << "," << e.seconds;
    if (validation) out << "," << e.val_error << "," << e.val_nll;
    out << "\n";
  }
  write_file_atomic(path, out.str());
}

train::TrainingCurve read_training_log(const std::string& dir) {
  const std::string log = run_file(dir, "train_log.csv");
  std::error_code ec;
  if (!std::filesystem::exists(log, ec)) return {};
  // Read by hand, not as a user's table: a diverged run's log holds "nan" losses.
  std::istringstream lines(read_file(log));
  std::string line;
  std::getline(lines, line);
  const std::string header = "epoch,loss,temperature,learning_rate,seconds";
  ENDD_CHECK(line.rfind(header, 0) == 0, log, ": expected the header '", header, "'");
  const bool validation = line.size() > header.size();
  train::TrainingCurve curve;
  for (int row = 2; std::getline(lines, line); ++row) {
    if (line.empty()) continue;
    std::vector<double> v;
    const char* p = line.c_str();
    for (char* end = nullptr;; p = end + 1) {
      v.push_back(std::strtod(p, &end));
      ENDD_CHECK(end != p, log, ":", row, ": expected numbers separated by commas");
      if (*end != ',') break;
    }
    ENDD_CHECK(v.size() >= 5, log, ":", row, ": expected ", validation ? 7 : 5, " values, got ", v.size());
    train::EpochLog e;
    e.epoch = static_cast<int64_t>(v[0]) - 1;
    e.loss = v[1];
    e.temperature = v[2];
    e.learning_rate = v[3];
    e.seconds = v[4];
    if (validation && v.size() >= 7) {
      e.val_error = v[5];
      e.val_nll = v[6];
    }
    curve.push_back(e);
  }
  return curve;
}

double training_seconds(const std::string& dir) {
  double seconds = 0;
  for (const auto& e : read_training_log(dir)) seconds += e.seconds;
  return seconds;
}

}  // namespace endd::runs
