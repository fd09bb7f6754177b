#include "endd/experiments/classification_run.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <numeric>
#include <sstream>

#include "endd/core/distributed.h"
#include "endd/core/error.h"
#include "endd/core/seeding.h"
#include "endd/core/version.h"
#include "endd/data/image_transforms.h"
#include "endd/data/source.h"
#include "endd/data/subsets.h"
#include "endd/distill/teacher_memo.h"
#include "endd/experiments/classification_report.h"
#include "endd/train/lanes.h"
#include "endd/experiments/stage_runs.h"
#include "endd/runs/run_directory.h"
#include "endd/runs/workflow.h"

namespace endd::experiments {

std::string stage_dir(const std::string& dir, const std::string& stage) {
  return (std::filesystem::path(dir) / stage).string();
}

EvaluationSets load_evaluation_sets(const ClassificationExperiment& e, const runs::RunInfo& info) {
  EvaluationSets sets;
  sets.test = data::limit_rows(data::load_source(e.test, runs::source_request(info, true)), e.test_limit, false, 0);
  for (size_t i = 0; i < e.ood.size(); ++i) {
    const OodSpec& spec = e.ood[i];
    const uint64_t seed = derive_seed(e.seed, Stream::kOodData, i);
    const int64_t rows = e.ood_limit > 0 ? e.ood_limit : sets.test.size();
    at::Tensor x = spec.generated() ? data::generated_ood_inputs(spec, sets.test.inputs, rows, seed)
                                      : data::limit_rows(data::load_source(spec.source, runs::source_request(info, false)),
                                                         rows, true, seed).inputs;
    sets.ood.emplace_back(spec.name, x);
  }
  return sets;
}

namespace {

// Before any training: the test set reads (with its own classes; the
// model's come later), each OOD set reads with the test set's features, and
// sets made from images have images to be made from.
void check_sets(const ClassificationExperiment& e) {
  data::SourceRequest request;
  request.label_column = e.ensemble.get_string("data.label_column");
  request.flatten = true;
  data::Dataset test_set;
  try {
    test_set = data::load_source(e.test, request);
  } catch (const Error& err) {
    throw Error(e.test_origin + ": data.test: " + err.what() + " (give the test set with --test SRC or --set data.test=SRC)");
  }
  const at::Tensor& test = test_set.inputs;
  data::SourceRequest like_test;
  like_test.features = test.size(1);
  like_test.need_labels = false;
  like_test.flatten = true;
  like_test.feature_names = test_set.feature_names;
  like_test.label_column = request.label_column;  // dropped unread where an OOD file has it
  like_test.label_index = test_set.label_index;
  like_test.label_name = test_set.label_name;
  for (const auto& spec : e.ood) {
    try {
      if (spec.generated()) data::check_generated_ood(spec, test);
      else data::load_source(spec.source, like_test);
    } catch (const Error& err) {
      // A generated set's message names the set itself.
      throw Error("data.ood: " + (spec.generated() ? std::string() : "set '" + spec.name + "': ") + err.what());
    }
  }
}

// The students in the order they start: the AUX ones (the largest transfer
// sets) first.
std::vector<size_t> student_order(const ClassificationExperiment& e) {
  std::vector<size_t> order(e.students.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_partition(order.begin(), order.end(), [&](size_t s) { return e.students[s].aux; });
  return order;
}

// Under a process group the students go to whichever rank is free next, and
// each trains in that rank alone, as it would in one process (so the
// results do not depend on the ranks). Rank 0 learns the others' outcomes.
std::vector<StageOutcome> students_across_ranks(Distributed& group, const ClassificationExperiment& e,
                                                const std::string& dir, const std::string& teacher,
                                                c10::Device device, bool quiet) {
  const std::vector<size_t> order = student_order(e);
  std::vector<StageOutcome> outcomes(order.size(), StageOutcome::kReused);
  std::vector<int64_t> mine;
  std::exception_ptr failed;
  std::string failure;
  {
    OnThisRankOnly alone(e.name + ": training the students");
    try {
      for (int64_t i; (i = group.next_job(e.name + "/students")) < static_cast<int64_t>(order.size());) {
        const size_t s = order[static_cast<size_t>(i)];
        outcomes[s] = ensure_stage_run(stage_dir(dir, e.students[s].name), e.distill[s], teacher, device,
                                       quiet || !group.leader());
        mine.push_back(static_cast<int64_t>(s));
      }
    } catch (const std::exception& err) {
      failed = std::current_exception();
      failure = err.what();
    }
  }
  // Each rank's report: "student outcome" pairs.
  std::string report;
  for (int64_t s : mine) report += std::to_string(s) + " " + std::to_string(int(outcomes[size_t(s)])) + "\n";
  const auto reports = group.finish_together(e.name + ": training the students", report, failure);
  if (failed) std::rethrow_exception(failed);
  for (const auto& text : reports) {
    std::istringstream in(text);
    size_t s = 0;
    int outcome = 0;
    while (in >> s >> outcome)
      if (s < outcomes.size()) outcomes[s] = static_cast<StageOutcome>(outcome);
  }
  return outcomes;
}

}  // namespace

// The students are independent: they train side by side in lanes (lanes.h),
// or across the ranks of a process group.
nlohmann::json run_stages(const ClassificationExperiment& e, c10::Device device, const std::string& dir, bool quiet) {
  nlohmann::json stages;
  const std::string teacher = stage_dir(dir, "ensemble");
  auto outcome = ensure_stage_run(teacher, e.ensemble, "", device, quiet);
  stages["ensemble"] = stage_outcome_name(outcome);
  if (!quiet && writes_outputs())
    std::fprintf(stderr, "%s: %s %s\n", e.name.c_str(), teacher.c_str(), stage_outcome_name(outcome));
  std::vector<StageOutcome> outcomes(e.students.size());
  // EnD^2 after EnD in one lane takes EnD's labels of the training inputs.
  distill::TeacherLogitsMemo::Enabled share_teacher_labels;
  if (Distributed* group = process_group()) {
    outcomes = students_across_ranks(*group, e, dir, teacher, device, quiet);
  } else {
    const std::vector<size_t> order = student_order(e);
    train::run_in_lanes(order.size(), train::lanes_for(order.size(), device), [&](size_t i) {
      const size_t s = order[i];
      outcomes[s] = ensure_stage_run(stage_dir(dir, e.students[s].name), e.distill[s], teacher, device, quiet);
    });
  }
  for (size_t s = 0; s < e.students.size(); ++s) {
    stages[e.students[s].name] = stage_outcome_name(outcomes[s]);
    if (!quiet && writes_outputs())
      std::fprintf(stderr, "%s: %s %s\n", e.name.c_str(), stage_dir(dir, e.students[s].name).c_str(),
                   stage_outcome_name(outcomes[s]));
  }
  return stages;
}

ModelTable evaluate_models(const ClassificationExperiment& e, const EvaluationSets& sets, c10::Device device,
                           const std::string& dir, std::vector<std::string>& knowledge_models) {
  ModelTable table;
  runs::LoadedModel ensemble = runs::load_model(stage_dir(dir, "ensemble"), device);
  std::map<std::string, at::Tensor> member_logits;
  for (const auto& [set, x] : sets.all()) member_logits[set] = runs::infer(ensemble, x, true).member_logits;
  table.add_ensemble(member_logits, sets.test.labels, ensemble.net->parameter_count(),
                     runs::training_seconds(stage_dir(dir, "ensemble")));
  knowledge_models = {"ensemble"};
  for (const auto& student : e.students) {
    const std::string run = stage_dir(dir, student.name);
    runs::LoadedModel model = runs::load_model(run, device);
    table.add(student.name, 1, model.net->parameter_count(), runs::training_seconds(run));
    for (const auto& [set, x] : sets.all()) table.measures[student.name][set] = runs::infer(model, x).measures;
    if (model.info.dirichlet()) knowledge_models.push_back(student.name);
  }
  return table;
}

namespace {

std::string default_title(const ClassificationExperiment& e, const EvaluationSets& sets) {
  const std::string train = e.ensemble.get_string("data.train");
  const auto names = sets.ood_names();
  return e.name + ": " + train + " (in-domain)" + (names.empty() ? "" : ", " + config::join_words(names) + " (OOD)");
}

}  // namespace

report::ClassificationResults run_classification(const ClassificationExperiment& e, const nlohmann::json& config,
                                                 c10::Device device, const std::string& dir, bool quiet) {
  const auto started = std::chrono::steady_clock::now();
  nlohmann::json r;
  r["endd_version"] = kVersion;
  r["experiment"] = e.name;
  r["seed"] = e.seed;
  r["config"] = config;
  check_sets(e);
  r["stages"] = run_stages(e, device, dir, quiet);
  if (!writes_outputs()) return {};  // rank 0 evaluates and reports
  const EvaluationSets sets = load_evaluation_sets(e, runs::load_run_info(stage_dir(dir, "ensemble")));
  ReportSettings report;
  const ModelTable table = evaluate_models(e, sets, device, dir, report.ood_figure_models);
  report.title = e.title.empty() ? default_title(e, sets) : e.title;
  report.ood_sets = sets.ood_names();
  report.bootstrap = e.bootstrap;
  report.seed = e.seed;
  report.quiet = quiet;
  return write_classification_report(r, table, sets.test.labels, report, dir,
                                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace endd::experiments
