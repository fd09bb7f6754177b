// endd experiment NAME|FILE.toml: the paper's experiments, and yours, end to end.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli_common.h"
#include "endd/core/atomic_file.h"
#include "endd/core/distributed.h"
#include "endd/core/error.h"
#include "endd/core/output_paths.h"
#include "endd/experiments/classification_options.h"
#include "endd/experiments/classification_run.h"
#include "endd/experiments/experiment_config.h"
#include "endd/experiments/regression_options.h"
#include "endd/experiments/shipped_configs.h"
#include "endd/experiments/spiral_options.h"

namespace endd::cli {
namespace {

// Options every configured experiment (spiral, fashion-mnist, ...) takes; the
// experiment's own flags come from its option table.
struct ExperimentArgs {
  std::string out;
  std::string file;  ///< `endd experiment FILE.toml`
  bool quick = false, print_config = false, restart = false;
  std::vector<std::string> sets;
  std::vector<experiments::FlagValue> flags;  ///< in command-line order
  DistributedArgs dist;  ///< the classification experiments (spiral, ...) across processes
};

void add_run_options(CLI::App* cmd, ExperimentArgs& a) {
  cmd->add_option("-o,--out", a.out, "Output directory")->capture_default_str();
  cmd->add_flag("--quick", a.quick, "Small, fast run: the experiment's quick overlay (configs/experiments/NAME.quick.toml)");
  cmd->add_flag("--print-config", a.print_config,
                "Print the whole resolved configuration as TOML (a file `endd experiment FILE.toml` runs) and exit");
  cmd->add_option("--set", a.sets, "Override a configuration key: --set data.noise=0.4 (repeatable)");
}

// One CLI flag per option that has one; a value becomes the key's text, with
// the flag named as its origin in any error.
void add_table_flags(CLI::App* cmd, ExperimentArgs& a, const std::vector<config::FlagSpec>& specs) {
  for (const auto& spec : specs) {
    const std::string flag = spec.flag.substr(spec.flag.rfind(',') + 1);
    const std::string names =
        spec.key == "ensemble.members" || spec.key == "train.members" ? "-m," + spec.flag : spec.flag;
    const std::string help = spec.help + " (" + spec.key + ")";
    if (spec.is_switch) {
      cmd->add_flag_callback(names, [&a, spec, flag] { a.flags.push_back({flag, spec.key, "true"}); }, help);
    } else {
      // Given twice, the last one counts, as with --set.
      cmd->add_option_function<std::vector<std::string>>(
             names,
             [&a, spec, flag](const std::vector<std::string>& texts) {
               for (const auto& text : texts) a.flags.push_back({flag, spec.key, text});
             },
             help)
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
          ->expected(1)
          ->allow_extra_args(false);
    }
  }
}

config::Config resolve(const std::string& name, config::Config schema, const ExperimentArgs& a,
                       const GlobalOptions& g) {
  experiments::ExperimentSources src;
  src.file = a.file;
  src.quick = a.quick;
  src.flags = a.flags;
  src.sets = a.sets;
  if (g.seed_given()) src.seed = g.seed;
  return experiments::resolve_experiment_config(std::move(schema), name, src);
}

// Every check before any work: the settings, then the output directory.
// False for --print-config, which prints the resolved file instead.
bool prepare_output(const config::Config& cfg, const ExperimentArgs& a) {
  if (a.print_config) {
    std::fputs(cfg.to_toml().c_str(), stdout);
    return false;
  }
  if (!a.file.empty()) check_not_an_input(a.out + "/config.toml", {a.file}, "--out");
  ensure_writable_directory(a.out);
  return true;
}

// The resolved configuration, beside the results it produced.
void save_config(const config::Config& cfg, const ExperimentArgs& a) {
  write_file_atomic(a.out + "/config.toml", cfg.to_toml());
}

// Removes `dir` if this command created it and leaves it empty; a directory
// with finished or checkpointed stages in it stays, so that a rerun resumes.
class RemovedIfLeftEmpty {
 public:
  explicit RemovedIfLeftEmpty(std::string dir) : dir_(std::move(dir)), existed_(std::filesystem::exists(dir_)) {}
  ~RemovedIfLeftEmpty() {
    std::error_code ec;
    if (!existed_ && std::filesystem::is_directory(dir_, ec) && std::filesystem::is_empty(dir_, ec))
      std::filesystem::remove(dir_, ec);
  }

 private:
  std::string dir_;
  bool existed_;
};

// Under a process group (docs/distributed.md) every rank runs the same
// configuration; the stages are shared out and rank 0 writes the results.
void join_experiment_group(const ExperimentArgs& a, const config::Config& cfg) {
  if (a.print_config) return;
  join_group(a.dist);
  if (Distributed* group = process_group()) group->check_same("experiment configuration", cfg.to_toml());
}

void run_spiral_command(const ExperimentArgs& a, const GlobalOptions& g) {
  const auto& table = experiments::spiral_options();
  auto cfg = resolve("spiral", table.schema(experiments::SpiralConfig{}), a, g);
  join_experiment_group(a, cfg);
  auto device = apply_globals(g);
  auto c = experiments::spiral_config_from(cfg);
  c.quiet = g.quiet;
  RemovedIfLeftEmpty guard(a.out);
  if (!prepare_output(cfg, a)) return;
  auto outcome = experiments::run_spiral(c, device, a.out);
  if (!writes_outputs()) return;  // rank 0 writes the results
  auto results = experiments::write_spiral_report(outcome, a.out);
  save_config(cfg, a);
  if (!g.quiet) {
    std::fprintf(stderr, "spiral: done in %.1fs; results in %s/results.json and results.md\n",
                 outcome.total_seconds, a.out.c_str());
    for (const auto& name : results.order)
      std::fprintf(stderr, "  %-9s error %6.2f%%  NLL %.3f\n", name.c_str(), results.models.at(name).test.error,
                   results.models.at(name).test.nll);
  }
}

// The flags of a configured classification experiment (fashion-mnist,
// cifar10, classification, ...): the keys a user changes most.
const std::vector<config::FlagSpec>& classification_flags() {
  static const std::vector<config::FlagSpec> flags{
      {"--train", "data.train", "labelled training data source"},
      {"--limit", "data.limit", "use the first N training rows (0 = all)"},
      {"--test", "data.test", "labelled test data source"},
      {"--ood", "data.ood", "OOD sets, 'SRC[:NAME]' separated by ';'"},
      {"--arch", "model.arch", "members' architecture: mlp, cnn, vgg or resnet"},
      {"--members", "train.members", "ensemble size"},
      {"--epochs", "train.epochs", "members' training epochs"},
      {"--batch-size", "train.batch_size", "members' batch size"},
      {"--lr", "train.learning_rate", "members' Adam learning rate"},
      {"--students", "students", "students, e.g. \"end, end2, end2_aux\""},
      {"--distill-epochs", "distill.epochs", "students' epochs"},
      {"--distill-batch-size", "distill.batch_size", "students' batch size"},
      {"--distill-lr", "distill.learning_rate", "students' Adam learning rate"},
      {"--temperature", "distill.temperature", "initial temperature T0 (>= 1)"},
      {"--hold", "distill.hold_fraction", "fraction of the students' epochs held at T0"},
      {"--decay", "distill.decay_fraction", "fraction of the students' epochs decaying T0 -> 1"},
      {"--smoothing", "distill.smoothing", "EnD^2 central smoothing eps"},
      {"--mean-weight", "distill.mean_weight", "EnD^2: weight of an added EnD term on the Dirichlet mean"},
      {"--clip-norm", "distill.clip_norm", "gradient-norm clipping threshold (0 = off)"},
      {"--aux-count", "distill.aux_count", "AUX inputs of the AUX students"},
      {"--aux-kinds", "distill.aux_kinds", "AUX kinds made from the training images"},
      {"--aux-oversample", "distill.aux_oversample",
       "make F x aux_count AUX candidates and keep, per kind, those the members disagree on most"},
      {"--transfer-views", "distill.transfer_views",
       "images: the transfer set plus (views - 1) crop-and-flip copies labelled by the teacher"}};
  return flags;
}

void run_classification_command(const std::string& name, const ExperimentArgs& a, const GlobalOptions& g) {
  auto cfg = resolve(name, experiments::classification_schema(name), a, g);
  if (cfg.get_string("experiment") != name)
    cfg.reject("experiment", "expected \"" + name + "\", the shipped file this configuration is merged over");
  const auto e = experiments::classification_experiment(cfg);
  join_experiment_group(a, cfg);
  auto device = apply_globals(g, e.image_members ? Workload::kLargeTensors : Workload::kTraining);
  RemovedIfLeftEmpty guard(a.out);
  if (!prepare_output(cfg, a)) return;
  const auto started = std::chrono::steady_clock::now();
  const auto r = experiments::run_classification(e, cfg.to_json(), device, a.out, g.quiet);
  if (!writes_outputs()) return;  // rank 0 writes the results
  save_config(cfg, a);
  if (g.quiet) return;
  std::fprintf(stderr, "%s: done in %.1fs; results in %s/results.json and results.md\n", name.c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), a.out.c_str());
  for (const auto& model : r.order) {
    const auto& row = r.models.at(model);
    std::fprintf(stderr, "  %-12s error %6.2f%%  NLL %.3f", model.c_str(), row.test.error, row.test.nll);
    if (!e.ood.empty()) {  // the first OOD set's detection by knowledge uncertainty
      const std::string& set = e.ood.front().name;
      if (const auto* d = r.ood_by(set, model, "knowledge"))
        std::fprintf(stderr, "  %s AUROC (knowledge) %.1f", set.c_str(), d->auroc);
    }
    std::fputc('\n', stderr);
  }
}

// A shipped file's opening comment up to its first full stop: its command's help.
std::string first_sentence_of_comments(const std::string& text, const std::string& fallback) {
  std::string sentence;
  size_t line = 0;
  while (text.compare(line, 2, "# ") == 0) {
    const size_t end = text.find('\n', line);
    sentence += (sentence.empty() ? "" : " ") + text.substr(line + 2, end - line - 2);
    const size_t stop = sentence.find(". ");
    if (stop != std::string::npos) return sentence.substr(0, stop + 1);
    if (!sentence.empty() && sentence.back() == '.') return sentence;
    if (end == std::string::npos) break;
    line = end + 1;
  }
  return sentence.empty() ? fallback : sentence;
}

// A stray word after a named experiment's options ("--members 3 4") lands in
// the FILE.toml positional of `endd experiment`; refuse it rather than drop it.
void refuse_stray_argument(const ExperimentArgs& file_args) {
  if (!file_args.file.empty())
    throw UsageError("unexpected argument '" + file_args.file + "' (each option takes one value)");
}

// The group options given before the experiment's name (`endd experiment
// --dist-url ... spiral`) land in `endd experiment`'s own; they count as the
// experiment's unless it has its own. `mine` null: the experiment runs as
// one process, and refuses them rather than drop them.
void take_group_options(const ExperimentArgs& file_args, DistributedArgs* mine, const std::string& name) {
  const DistributedArgs& given = file_args.dist;
  const bool any = !given.url.empty() || given.rank >= 0 || given.world_size >= 0;
  if (!mine) {
    if (any) throw UsageError("--dist-url: " + name + " runs as one process (docs/distributed.md)");
    return;
  }
  if (any && mine->url.empty() && mine->rank < 0 && mine->world_size < 0) {
    mine->url = given.url;
    mine->rank = given.rank;
    mine->world_size = given.world_size;
  }
  if (given.timeout_seconds != DistributedArgs{}.timeout_seconds &&
      mine->timeout_seconds == DistributedArgs{}.timeout_seconds)
    mine->timeout_seconds = given.timeout_seconds;
}

// The experiments with a runner of their own; every other shipped file is a
// classification experiment over the stages.
bool has_own_runner(const std::string& name) {
  return name == "spiral" || name == "regression-toy" || name == "regression-tabular";
}

// --restart (which fashion-mnist's stage cache once took): stages are now
// reused only when their settings match, so there is nothing to restart.
[[noreturn]] void refuse_restart(const std::string& name) {
  throw UsageError("--restart: " + name +
                   " reuses a stage only when its settings match and retrains one whose settings changed (delete "
                   "OUT/<stage> to train it again as it is)");
}

void run_regression_toy_command(const ExperimentArgs& a, const GlobalOptions& g) {
  auto device = apply_globals(g, Workload::kTraining);
  const auto& table = experiments::regression_toy_options();
  auto cfg = resolve("regression-toy", table.schema(experiments::RegressionToyConfig{}), a, g);
  auto c = experiments::regression_toy_config_from(cfg);
  c.models.quiet = g.quiet;
  RemovedIfLeftEmpty guard(a.out);
  if (!prepare_output(cfg, a)) return;
  auto r = experiments::run_regression_toy(c, device, a.out);
  save_config(cfg, a);
  if (!g.quiet) {
    std::fprintf(stderr, "regression-toy: done in %.1fs; results in %s/results.json and results.md\n",
                 r["timing"]["total_seconds"].get<double>(), a.out.c_str());
    for (const auto& [name, m] : r["models"].items())
      std::fprintf(stderr, "  %-9s RMSE %.3f  NLL %.3f\n", name.c_str(), m["rmse"].get<double>(), m["nll"].get<double>());
  }
}

void run_regression_tabular_command(const ExperimentArgs& a, const GlobalOptions& g) {
  auto device = apply_globals(g, Workload::kTraining);
  const auto& table = experiments::regression_tabular_options();
  auto cfg = resolve("regression-tabular", table.schema(experiments::RegressionTabularConfig{}), a, g);
  auto c = experiments::regression_tabular_config_from(cfg);
  c.models.quiet = g.quiet;
  if (a.print_config) {
    std::fputs(cfg.to_toml().c_str(), stdout);
    return;
  }
  if (!a.file.empty()) check_not_an_input(a.out + "/config.toml", {a.file}, "--out");
  // Written whole or not at all: the splits take minutes.
  StagedDirectory staged(a.out, "results.json");
  auto r = experiments::run_regression_tabular(c, device, staged.path());
  write_file_atomic(staged.path() + "/config.toml", cfg.to_toml());
  staged.commit();
  if (!g.quiet) {
    std::fprintf(stderr, "regression-tabular: done in %.1fs; results in %s/results.json and results.md\n",
                 r["timing"]["total_seconds"].get<double>(), a.out.c_str());
    for (const auto& [set, d] : r["datasets"].items())
      for (const char* name : experiments::kRegressionModelNames) {
        const auto& s = d["summary"][name];
        std::fprintf(stderr, "  %-9s %-9s RMSE %.3f  NLL %.3f  calibration error %.1f\n", set.c_str(), name,
                     s["rmse"]["mean"].get<double>(), s["nll"]["mean"].get<double>(),
                     s["calibration_error"]["mean"].get<double>());
      }
  }
}

// `endd experiment FILE.toml`: the file's `experiment` key picks the runner.
void run_experiment_file(ExperimentArgs& a, const GlobalOptions& g, const std::vector<std::string>& names) {
  if (a.file.empty()) throw UsageError("no experiment given; expected one of: " + config::join_words(names) + ", or FILE.toml");
  if (!std::filesystem::exists(a.file) && a.file.find(".toml") == std::string::npos) {
    std::string near = config::nearest_word(a.file, names);
    throw UsageError("unknown experiment '" + a.file + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?") +
                     " (expected one of: " + config::join_words(names) + ", or FILE.toml)");
  }
  const std::string name = experiments::experiment_named_in(a.file);
  if (a.out.empty()) a.out = "out/" + name;
  if (a.restart) refuse_restart(name);
  if (has_own_runner(name) && name != "spiral") take_group_options(a, nullptr, name);
  if (name == "spiral") return run_spiral_command(a, g);
  if (name == "regression-toy") return run_regression_toy_command(a, g);
  if (name == "regression-tabular") return run_regression_tabular_command(a, g);
  if (experiments::shipped_config(name)) return run_classification_command(name, a, g);
  throw Error(a.file + ": experiment = \"" + name + "\": expected one of " +
              config::join_words(experiments::shipped_experiment_names()));
}

}  // namespace

void add_experiment_command(CLI::App& app, GlobalOptions& g) {
  CLI::App* exp = app.add_subcommand("experiment", "Reproduce the paper's experiments");
  exp->require_subcommand(0, 1);
  auto file_args = std::make_shared<ExperimentArgs>();
  exp->add_option("file", file_args->file, "An experiment's TOML file (from --print-config) instead of a name");
  add_run_options(exp, *file_args);
  add_distributed_options(exp, file_args->dist);
  file_args->out.clear();  // out/<the file's experiment> unless given
  exp->add_flag("--restart", file_args->restart, "Refused: delete OUT/<stage> to train a stage again");

  auto a = std::make_shared<ExperimentArgs>();
  a->out = "out/spiral";
  CLI::App* spiral = exp->add_subcommand("spiral", "3-class spiral: single, ensemble, EnD, EnD^2, EnD^2+AUX");
  add_run_options(spiral, *a);
  add_distributed_options(spiral, a->dist);
  add_table_flags(spiral, *a, experiments::spiral_options().flags());
  spiral->callback([a, file_args, &g] {
    refuse_stray_argument(*file_args);
    take_group_options(*file_args, &a->dist, "spiral");
    run_spiral_command(*a, g);
  });

  // Every other shipped file is a classification experiment over the stages:
  // a new file in configs/experiments/ is a new command.
  for (const auto& name : experiments::shipped_experiment_names()) {
    if (has_own_runner(name)) continue;
    auto c = std::make_shared<ExperimentArgs>();
    c->out = "out/" + name;
    const std::string& text = *experiments::shipped_config(name);
    const std::string about = first_sentence_of_comments(text, name);
    CLI::App* sub = exp->add_subcommand(name, about + " (configs/experiments/" + name + ".toml)");
    add_run_options(sub, *c);
    add_distributed_options(sub, c->dist);
    add_table_flags(sub, *c, classification_flags());
    sub->add_flag("--restart", c->restart, "Refused: delete OUT/<stage> to train a stage again");
    sub->callback([c, name, file_args, &g] {
      refuse_stray_argument(*file_args);
      take_group_options(*file_args, &c->dist, name);
      if (c->restart) refuse_restart(name);
      run_classification_command(name, *c, g);
    });
  }

  // The regression experiments (issue 19), each a file with its own keys.
  struct OwnRunner {
    const char* name;
    const char* about;
    std::vector<config::FlagSpec> flags;
    void (*run)(const ExperimentArgs&, const GlobalOptions&);
  };
  const std::vector<OwnRunner> regression{
      {"regression-toy", "1-D heteroscedastic regression with a gap: single, ensemble, EnD, EnD^2, EnD^2+AUX "
       "(Gaussian members)", experiments::regression_toy_options().flags(), run_regression_toy_command},
      {"regression-tabular", "Real regression tables (diabetes, boston, auto-mpg from Debian packages): single, "
       "ensemble, EnD, EnD^2, EnD^2+AUX over random train/test splits",
       experiments::regression_tabular_options().flags(), run_regression_tabular_command}};
  for (const auto& runner : regression) {
    auto r = std::make_shared<ExperimentArgs>();
    r->out = std::string("out/") + runner.name;
    CLI::App* sub = exp->add_subcommand(runner.name, runner.about);
    add_run_options(sub, *r);
    add_table_flags(sub, *r, runner.flags);
    sub->callback([r, file_args, run = runner.run, name = std::string(runner.name), &g] {
      refuse_stray_argument(*file_args);
      take_group_options(*file_args, nullptr, name);
      run(*r, g);
    });
  }

  exp->callback([exp, file_args, &g] {
    if (!exp->get_subcommands().empty()) return;  // a named experiment ran
    std::vector<std::string> names;
    for (const auto* sub : exp->get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
    run_experiment_file(*file_args, g, names);
  });
}

}  // namespace endd::cli
