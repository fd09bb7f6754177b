// endd export: a run as a TorchScript module for deployment.
#include "cli_common.h"
#include "endd/export/torchscript.h"
#include "endd/core/output_paths.h"
#include "endd/runs/workflow.h"

namespace endd::cli {

void add_export_command(CLI::App& app, GlobalOptions& g) {
  auto model = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("export", "Export a run as TorchScript (torch.jit.load-able)");
  cmd->add_option("--model", *model, "Finished run directory")->required();
  cmd->add_option("-o,--out", *out, "Output .pt file")->required();
  cmd->callback([model, out, &g] {
    apply_globals(g);
    auto loaded = runs::load_model(*model, c10::Device(c10::kCPU));
    check_not_an_input(*out, runs::run_inputs(*model), "--out");
    exporting::export_torchscript(loaded, *out);
  });
}

}  // namespace endd::cli
