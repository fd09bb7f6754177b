#include "endd/experiments/classification_options.h"

#include <algorithm>
#include <functional>
#include <set>

#include "endd/core/error.h"
#include "endd/data/source.h"
#include "endd/runs/run_config.h"

namespace endd::experiments {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The experiment's key for a key of the `endd train` schema ("" = not the
// experiment's: the task is classification).
std::string key_for_train(const std::string& key) { return key == "task" ? "" : key; }

// The experiment's key for a key of the `endd distill` schema: the student's
// model.* are student.*; the method and AUX source are per student; the
// teacher is the ensemble stage, not a file.
std::string key_for_distill(const std::string& key) {
  if (key == "seed") return key;
  if (starts_with(key, "model.")) return "student." + key.substr(6);
  if (key == "distill.normal_gamma_fit") return "";  // regression students only
  if (starts_with(key, "distill.") && key != "distill.method" && key != "distill.student_index") return key;
  return "";
}

// `stage` (a stage's schema) filled from the experiment's values; each value
// keeps its origin, so the stage's own checks name the experiment's file:line.
config::Config stage_config(config::Config stage, const config::Config& c,
                            const std::function<std::string(const std::string&)>& experiment_key) {
  for (const auto& field : stage.schema()) {
    const std::string key = experiment_key(field.key);
    if (!key.empty()) stage.set_value(field.key, c.get(key), c.origin(key));
  }
  return stage;
}

}  // namespace

void leave_unused_at_defaults(config::Config& stage, const StudentSpec& student) {
  std::vector<std::string> unused;
  if (!student.aux)
    unused.insert(unused.end(), {"distill.aux_count", "distill.aux_kinds", "distill.aux_oversample", "distill.aux_scale",
                                 "distill.aux_copies"});
  if (stage.get_int("distill.copies") == 0 && (!student.aux || stage.get_int("distill.aux_copies") == 0))
    unused.push_back("distill.jitter");
  if (student.method == train::DistillMethod::kEnD) unused.push_back("distill.smoothing");
  if (student.method != train::DistillMethod::kEnD2) unused.push_back("distill.mean_weight");
  if (student.method != train::DistillMethod::kEnD2 || !student.aux) unused.push_back("distill.mean_on_aux");
  if (student.method != train::DistillMethod::kEnD2Proxy)
    unused.insert(unused.end(), {"distill.proxy_offset", "distill.proxy_max_precision"});
  const config::Config defaults = runs::distill_config();
  for (const auto& key : unused) stage.set_value(key, defaults.get(key), "unused by student '" + student.name + "'");
}

std::vector<StudentSpec> parse_students(const std::string& text) {
  std::vector<StudentSpec> students;
  for (const auto& name : config::split_words(text, ", ")) {
    StudentSpec s;
    s.name = name;
    std::string method = name;
    const std::string suffix = "_aux";
    if (method.size() > suffix.size() && method.compare(method.size() - suffix.size(), suffix.size(), suffix) == 0) {
      s.aux = true;
      method.resize(method.size() - suffix.size());
    }
    std::replace(method.begin(), method.end(), '_', '-');
    ENDD_CHECK(method == "end" || method == "end2" || method == "end2-proxy", "student '", name,
               "': expected METHOD or METHOD_aux with METHOD end, end2 or end2_proxy");
    s.method = train::parse_distill_method(method);
    for (const auto& seen : students) ENDD_CHECK(seen.name != name, "student '", name, "' is listed twice");
    students.push_back(s);
  }
  ENDD_CHECK(!students.empty(), "expected at least one student, e.g. \"end, end2, end2_aux\"");
  return students;
}

config::Config classification_schema(const std::string& name) {
  std::vector<config::Field> f{
      {"experiment", name, "the experiment this file configures"},
      {"title", std::string(""), "the results' title ('' = the experiment's name and data)"},
      {"students", std::string("end, end2, end2_aux"),
       "the students, each METHOD or METHOD_aux (METHOD end, end2 or end2_proxy; _aux: with distill.aux inputs)"}};
  const config::Config train = runs::train_config(), distill = runs::distill_config();
  for (const auto& field : train.schema())
    if (!key_for_train(field.key).empty()) f.push_back(field);
  const std::vector<config::Field> sets{
      {"data.test", std::string(""), "labelled test data source"},
      {"data.test_limit", int64_t{0}, "use the first N test rows (0 = all)"},
      {"data.ood", std::string(""),
       "out-of-domain sets, 'SRC[:NAME]' separated by ';' (a data source, or uniform-noise, gaussian-noise, inverted)"},
      {"data.ood_limit", int64_t{0}, "rows per OOD set, drawn at random (0 = as many as test rows)"}};
  auto after_training_data = std::find_if(f.rbegin(), f.rend(), [](const auto& x) { return starts_with(x.key, "data."); });
  f.insert(after_training_data.base(), sets.begin(), sets.end());
  for (const auto& field : distill.schema()) {
    const std::string key = key_for_distill(field.key);
    if (key == "distill.aux") {
      f.push_back({key, std::string("auto"), "the AUX students' extra inputs: auto (images for image members, else "
                                             "generated), images, generated, or a data source"});
    } else if (!key.empty() && key != "seed") {
      f.push_back({key, field.default_value, field.help});
    }
  }
  f.push_back({"report.bootstrap", int64_t{200}, "bootstrap resamples for the error intervals"});
  return config::Config(f);
}

ClassificationExperiment classification_experiment(const config::Config& c) {
  ClassificationExperiment e;
  e.name = c.get_string("experiment");
  e.title = c.get_string("title");
  c.require("seed", c.get_int("seed") >= 0, "expected >= 0");
  e.seed = static_cast<uint64_t>(c.get_int("seed"));
  e.ensemble = stage_config(runs::train_config(), c, key_for_train);
  e.image_members = runs::train_settings(e.ensemble).model.image();
  try {
    e.students = parse_students(c.get_string("students"));
  } catch (const Error& err) {
    c.reject("students", err.what());
  }
  std::vector<std::string> aux_students;
  // "auto": AUX images made from the training images for image members,
  // inputs generated around and beyond the data otherwise.
  const std::string aux = c.get_string("distill.aux") == "auto" ? (e.image_members ? "images" : "generated")
                                                                 : c.get_string("distill.aux");
  for (size_t i = 0; i < e.students.size(); ++i) {
    const StudentSpec& s = e.students[i];
    config::Config d = stage_config(runs::distill_config(), c, key_for_distill);
    d.set_value("distill.method", std::string(train::distill_method_name(s.method)), c.origin("students"));
    // Each student its own seed streams, by its place in the list.
    d.set_value("distill.student_index", static_cast<int64_t>(i), c.origin("students"));
    leave_unused_at_defaults(d, s);
    if (s.aux) aux_students.push_back(s.name);
    d.set_value("distill.aux", s.aux ? aux : std::string(""), s.aux ? c.origin("distill.aux") : c.origin("students"));
    runs::distill_settings(d);
    e.distill.push_back(d);
  }
  const bool dirichlet_students = std::any_of(e.students.begin(), e.students.end(),
                                              [](const StudentSpec& s) { return train::is_dirichlet(s.method); });
  c.require("train.members", !dirichlet_students || c.get_int("train.members") >= 2,
            "expected >= 2: EnD^2 students fit the members' spread (or list only end students)");
  c.require("distill.aux", aux_students.empty() || !c.get_string("distill.aux").empty(),
            "expected auto, images, generated or a data source for the AUX students (" + config::join_words(aux_students) +
                ")");
  e.test = c.get_string("data.test");
  e.test_origin = c.origin("data.test");
  c.require("data.test", !e.test.empty(), "expected a labelled test data source");
  e.test_limit = c.get_int("data.test_limit");
  c.require("data.test_limit", e.test_limit >= 0, "expected >= 0 (0 = all rows)");
  try {
    e.ood = data::parse_ood_sets(c.get_string("data.ood"));
  } catch (const Error& err) {
    c.reject("data.ood", err.what());
  }
  e.ood_limit = c.get_int("data.ood_limit");
  c.require("data.ood_limit", e.ood_limit >= 0, "expected >= 0 (0 = as many as test rows)");
  c.require("report.bootstrap", c.get_int("report.bootstrap") >= 2, "expected >= 2");
  e.bootstrap = static_cast<int>(c.get_int("report.bootstrap"));
  return e;
}

}  // namespace endd::experiments
