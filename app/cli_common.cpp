#include "cli_common.h"

#include <c10/util/Exception.h>

#include <iostream>

#include "endd/core/error.h"
#include "endd/core/runtime.h"
#include "endd/core/version.h"

namespace endd::cli {

c10::Device apply_globals(const GlobalOptions& g, Workload workload) {
  configure_threads(g.threads, workload);
  return parse_device(g.device);
}

int run_cli(int argc, char** argv) {
  CLI::App app{"endd: ensembles, ensemble distillation (EnD) and ensemble distribution "
               "distillation (EnD^2) with uncertainty, on LibTorch"};
  app.set_version_flag("--version", std::string("endd ") + kVersion);
  app.require_subcommand(1);
  GlobalOptions g;
  app.add_option("--seed", g.seed, "Random seed (runs are deterministic on CPU given seed and threads)")
      ->capture_default_str();
  app.add_option("--threads", g.threads, "Threads; 0 = measured default (1 for training, all cores for uncertainty/score)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", g.device, "cpu or cuda[:N]")->capture_default_str();
  app.add_flag("-q,--quiet", g.quiet, "No progress output");
  app.fallthrough();  // global flags may also follow the subcommand

  add_uncertainty_command(app, g);
  add_score_command(app, g);
  add_experiment_command(app, g);


  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::cerr << "endd: error: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "endd: error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "endd: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace endd::cli
