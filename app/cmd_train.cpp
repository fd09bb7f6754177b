// endd train: an ensemble (or a single model) into a run directory.
#include "cli_common.h"
#include "endd/core/error.h"
#include "endd/runs/run_config.h"
#include "endd/runs/workflow.h"

namespace endd::cli {
namespace {

struct TrainArgs {
  std::string data, arch, model, out, config, resume, label_column, task;
  DistributedArgs dist;
  int64_t members = 0, epochs = 0, limit = -1, early_stopping = -1;
  bool limit_random = false;
  double val_fraction = -1;
  std::vector<std::string> sets;
};

// The flags the user typed, as config keys (defaults < file < flags < --set).
Flags typed_flags(const TrainArgs& a, const GlobalOptions& g) {
  Flags flags;
  if (g.seed_given()) flags.push_back({"seed", static_cast<int64_t>(g.seed), "--seed"});
  if (!a.data.empty()) flags.push_back({"data.train", a.data, "--data"});
  if (!a.task.empty()) flags.push_back({"task", a.task, "--task"});
  if (!a.label_column.empty()) flags.push_back({"data.label_column", a.label_column, "--label-column"});
  if (!a.arch.empty()) flags.push_back({"model.arch", a.arch, "--arch"});
  if (!a.model.empty()) flags.push_back({"model.torchscript", a.model, "--model"});
  if (a.members > 0) flags.push_back({"train.members", a.members, "--members"});
  if (a.epochs > 0) flags.push_back({"train.epochs", a.epochs, "--epochs"});
  if (a.limit >= 0) flags.push_back({"data.limit", a.limit, "--limit"});
  if (a.limit_random) flags.push_back({"data.limit_random", true, "--limit-random"});
  if (a.val_fraction >= 0) flags.push_back({"train.val_fraction", a.val_fraction, "--val-fraction"});
  if (a.early_stopping >= 0) flags.push_back({"train.early_stopping", a.early_stopping, "--early-stopping"});
  return flags;
}

void run_train(const TrainArgs& a, const GlobalOptions& g) {
  // torchrun's variables (or --dist-url): join the group; each rank trains a block of members.
  join_group(a.dist);
  auto device = apply_globals(g);
  if (!a.resume.empty()) {
    ENDD_USAGE_CHECK(a.out.empty(), "--resume RUN continues RUN in place; give no --out");
    ENDD_CHECK(runs::load_run_info(a.resume).kind == runs::RunKind::kEnsemble, a.resume,
               ": is a distillation run; resume it with endd distill --resume");
    runs::resume_run(a.resume, build_config(runs::stored_config(a.resume), a.config, typed_flags(a, g), a.sets),
                     device, g.quiet);
    return;
  }
  ENDD_USAGE_CHECK(!a.out.empty(), "--out RUN is required (or --resume RUN)");
  runs::train_run(build_config(runs::train_config(), a.config, typed_flags(a, g), a.sets), a.out, device, g.quiet);
}

}  // namespace

void add_train_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train an ensemble (--members 1: a single model) into a run directory");
  cmd->add_option("--data", a->data, "Training data source (csv:FILE: features and a label column)");
  cmd->add_option("--task", a->task,
                  "classification (the default) or regression: members learn a Gaussian's mean and variance of a "
                  "numeric target (docs/regression.md)")
      ->check(CLI::IsMember({"classification", "regression"}));
  cmd->add_option("--label-column,--target-column", a->label_column,
                  "CSV label column (regression: the target's): a header name or a 0-based index (-1 = last, the "
                  "default)");
  cmd->add_option("--arch", a->arch, "Architecture: mlp; cnn, vgg or resnet for images (kept [C, H, W]); torchscript with --model");
  cmd->add_option("--model", a->model,
                  "Your own architecture: a TorchScript module (.pt) mapping a batch of inputs to K logits; each "
                  "member is a copy initialised from its own seed (docs/your-own-ensemble.md)");
  cmd->add_option("-m,--members", a->members, "Ensemble size")->check(integer_at_least(1));
  cmd->add_option("--epochs", a->epochs, "Training epochs (with --resume: extend the run to N epochs)")
      ->check(integer_at_least(1));
  cmd->add_option("--limit", a->limit, "Use only N rows of the data (the first N; see --limit-random)")
      ->check(integer_at_least(1));
  cmd->add_flag("--limit-random", a->limit_random, "With --limit: N rows drawn at random (seeded by --seed)");
  cmd->add_option("--val-fraction", a->val_fraction,
                  "Hold out this fraction of the data (stratified) and log validation error and NLL each epoch")
      ->check(number_in(0.0, 1.0));
  cmd->add_option("--early-stopping", a->early_stopping,
                  "With --val-fraction: stop once every member has gone N epochs without a lower validation NLL; "
                  "each member keeps its best epoch")
      ->check(integer_at_least(1));
  cmd->add_option("-o,--out", a->out, "Run directory to create");
  cmd->add_option("-c,--config", a->config, "TOML configuration file (docs/config.md)");
  cmd->add_option("--set", a->sets, "key=value override, e.g. --set train.learning_rate=1e-3 (repeatable)");
  cmd->add_option("--resume", a->resume, "Continue a run (an interrupted one, or a finished one with more --epochs)");
  add_distributed_options(cmd, a->dist);
  cmd->callback([a, &g] { run_train(*a, g); });
}

}  // namespace endd::cli
