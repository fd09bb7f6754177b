// endd distill: a finished ensemble run into one student (EnD or EnD^2).
#include <filesystem>

#include "cli_common.h"
#include "endd/core/distributed.h"
#include "endd/core/error.h"
#include "endd/runs/run_config.h"
#include "endd/runs/workflow.h"

namespace endd::cli {
namespace {

struct DistillArgs {
  std::string teacher, method, aux, out, config, resume;
  std::string teacher_outputs, teacher_kind, aux_teacher_outputs, data, label_column;
  std::string student, eval_data, eval_teacher_outputs;
  int64_t epochs = 0, members = 0;
  DistributedArgs dist;
  std::vector<std::string> sets;
};

// The flags the user typed, as config keys (defaults < file < flags < --set).
Flags typed_flags(const DistillArgs& a, const GlobalOptions& g) {
  Flags flags;
  if (g.seed_given()) flags.push_back({"seed", static_cast<int64_t>(g.seed), "--seed"});
  if (!a.method.empty()) flags.push_back({"distill.method", a.method, "--method"});
  if (!a.aux.empty()) flags.push_back({"distill.aux", a.aux, "--aux"});
  if (a.epochs > 0) flags.push_back({"distill.epochs", a.epochs, "--epochs"});
  if (!a.teacher_outputs.empty()) flags.push_back({"teacher.outputs", a.teacher_outputs, "--teacher-outputs"});
  if (!a.teacher_kind.empty()) flags.push_back({"teacher.kind", a.teacher_kind, "--teacher-kind"});
  if (a.members > 0) flags.push_back({"teacher.members", a.members, "--members"});
  if (!a.aux_teacher_outputs.empty()) flags.push_back({"teacher.aux_outputs", a.aux_teacher_outputs, "--aux-teacher-outputs"});
  if (!a.data.empty()) flags.push_back({"data.train", a.data, "--data"});
  if (!a.label_column.empty()) flags.push_back({"data.label_column", a.label_column, "--label-column"});
  if (!a.student.empty()) flags.push_back({"model.torchscript", a.student, "--student"});
  if (!a.eval_data.empty()) flags.push_back({"data.eval", a.eval_data, "--eval-data"});
  if (!a.eval_teacher_outputs.empty()) flags.push_back({"teacher.eval_outputs", a.eval_teacher_outputs, "--eval-teacher-outputs"});
  return flags;
}

std::string normalised(const std::string& path) {
  return std::filesystem::weakly_canonical(std::filesystem::absolute(path)).string();
}

void run_distill(const DistillArgs& a, const GlobalOptions& g) {
  // torchrun's variables (or --dist-url): join the group; the student trains data-parallel.
  join_group(a.dist);
  auto device = apply_globals(g);
  if (!a.resume.empty()) {
    ENDD_USAGE_CHECK(a.out.empty(), "--resume RUN2 continues RUN2 in place; give no --out");
    auto info = runs::load_run_info(a.resume);
    ENDD_CHECK(info.kind == runs::RunKind::kStudent, a.resume,
               ": is an ensemble run; resume it with endd train --resume");
    ENDD_USAGE_CHECK(a.teacher.empty() || normalised(a.teacher) == normalised(info.teacher), "--resume ", a.resume,
                     ": the run was distilled from ", info.teacher, ", not ", a.teacher,
                     "; a resumed run keeps its teacher");
    runs::resume_run(a.resume, build_config(runs::stored_config(a.resume), a.config, typed_flags(a, g), a.sets),
                     device, g.quiet);
    return;
  }
  ENDD_USAGE_CHECK(a.teacher.empty() != a.teacher_outputs.empty() && !a.out.empty(),
                   "--teacher RUN (or --teacher-outputs FILE --data SRC) and --out RUN2 are required (or --resume RUN2)");
  runs::distill_run(build_config(runs::distill_config(), a.config, typed_flags(a, g), a.sets), a.teacher, a.out,
                    device, g.quiet);
}

}  // namespace

void add_distill_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<DistillArgs>();
  CLI::App* cmd = app.add_subcommand("distill", "Distil an ensemble run into one network (EnD or EnD^2)");
  cmd->add_option("--teacher", a->teacher, "Finished ensemble run directory");
  cmd->add_option("--teacher-outputs", a->teacher_outputs,
                  "Instead of --teacher: the members' outputs [N, M, K] on the --data inputs, from anywhere "
                  "(torch.save'd .pt, numpy .npy, or member-major CSV with --members)");
  cmd->add_option("--teacher-kind", a->teacher_kind,
                  "--teacher-outputs hold logits (default), probs, or gaussian: regression members' means and "
                  "variances [N, M, 2] (a regression student, docs/regression.md)")
      ->check(CLI::IsMember({"logits", "probs", "gaussian"}));
  cmd->add_option("-m,--members", a->members, "Members M in a CSV --teacher-outputs")->check(integer_at_least(1));
  cmd->add_option("--data", a->data, "With --teacher-outputs: the same N inputs, in the same order (any data source)");
  cmd->add_option("--label-column", a->label_column,
                  "CSV label column of --data: a name or 0-based index, or 'none' (default: the last column)");
  cmd->add_option("--aux-teacher-outputs", a->aux_teacher_outputs,
                  "With --teacher-outputs and --aux SRC: the members' outputs on the AUX inputs");
  cmd->add_option("--student", a->student,
                  "Your own student: a TorchScript module (.pt) mapping a batch of inputs to K logits, trained from "
                  "the weights it holds (default: an MLP, or the teacher's architecture)");
  cmd->add_option("--eval-data", a->eval_data,
                  "Held-out inputs on which the student is compared with its teacher (metrics.json \"eval\")");
  cmd->add_option("--eval-teacher-outputs", a->eval_teacher_outputs,
                  "With --teacher-outputs and --eval-data: the members' outputs on the --eval-data inputs");
  cmd->add_option("--method", a->method, "end, end2 or end2-proxy (default end2)");
  cmd->add_option("--aux", a->aux,
                  "AUX inputs: 'generated' (noise around the data), 'images' (made from the training images, chosen by "
                  "the members' disagreement) or a data source");
  cmd->add_option("--epochs", a->epochs, "Distillation epochs (with --resume: extend the run to N epochs)")
      ->check(integer_at_least(1));
  cmd->add_option("-o,--out", a->out, "Student run directory to create");
  cmd->add_option("-c,--config", a->config, "TOML configuration file (docs/config.md)");
  cmd->add_option("--set", a->sets, "key=value override, e.g. --set distill.temperature=5 (repeatable)");
  add_distributed_options(cmd, a->dist);
  cmd->add_option("--resume", a->resume,
                  "Continue a distillation run (an interrupted one, or a finished one with more --epochs)");
  cmd->callback([a, &g] { run_distill(*a, g); });
}

}  // namespace endd::cli
