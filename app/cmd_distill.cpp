// endd distill: a finished ensemble run into one student (EnD or EnD^2).
#include "cli_common.h"
#include "endd/core/error.h"
#include "endd/runs/run_config.h"
#include "endd/runs/workflow.h"

namespace endd::cli {
namespace {

struct DistillArgs {
  std::string teacher, method, aux, out, config, resume;
  int64_t epochs = 0;
  std::vector<std::string> sets;
};

void run_distill(const DistillArgs& a, const GlobalOptions& g) {
  auto device = apply_globals(g);
  if (!a.resume.empty()) {
    ENDD_CHECK(a.out.empty() && a.teacher.empty() && a.config.empty() && a.sets.empty(),
               "--resume continues a run as it was configured; give no other run options");
    ENDD_CHECK(runs::load_run_info(a.resume).kind == runs::RunKind::kStudent, a.resume,
               ": is an ensemble run; resume it with endd train --resume");
    runs::resume_run(a.resume, device, g.quiet);
    return;
  }
  ENDD_CHECK(!a.teacher.empty() && !a.out.empty(), "--teacher RUN and --out RUN2 are required (or --resume RUN2)");
  Flags flags{{"seed", static_cast<int64_t>(g.seed)}};
  if (!a.method.empty()) flags.push_back({"distill.method", a.method});
  if (!a.aux.empty()) flags.push_back({"distill.aux", a.aux});
  if (a.epochs > 0) flags.push_back({"distill.epochs", a.epochs});
  runs::distill_run(build_config(runs::distill_config(), a.config, flags, a.sets), a.teacher, a.out, device, g.quiet);
}

}  // namespace

void add_distill_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<DistillArgs>();
  CLI::App* cmd = app.add_subcommand("distill", "Distil an ensemble run into one network (EnD or EnD^2)");
  cmd->add_option("--teacher", a->teacher, "Finished ensemble run directory");
  cmd->add_option("--method", a->method, "end, end2 or end2-proxy (default end2)");
  cmd->add_option("--aux", a->aux, "AUX inputs: 'generated' or a data source");
  cmd->add_option("--epochs", a->epochs, "Distillation epochs")->check(CLI::PositiveNumber);
  cmd->add_option("-o,--out", a->out, "Student run directory to create");
  cmd->add_option("-c,--config", a->config, "TOML configuration file (docs/config.md)");
  cmd->add_option("--set", a->sets, "key=value override, e.g. --set distill.temperature=5 (repeatable)");
  cmd->add_option("--resume", a->resume, "Continue an interrupted distillation run");
  cmd->callback([a, &g] { run_distill(*a, g); });
}

}  // namespace endd::cli
