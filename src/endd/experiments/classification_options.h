#pragma once
// A classification experiment as a configuration over the product's own
// stages: `endd train` makes the ensemble, one `endd distill` per student,
// then every model is evaluated on a test set and named OOD sets. Its keys
// are the stages' own keys (runs/run_config.cpp declares each once, with its
// default and help): data.*, model.* and train.* of `endd train`, distill.*
// of `endd distill`, and student.* for the student's model.* keys. Added
// here: the students, the test and OOD sets, the report.
// configs/experiments/cifar10.toml and classification.toml are such files.
#include <cstdint>
#include <string>
#include <vector>

#include "endd/config/config.h"
#include "endd/data/ood_sets.h"
#include "endd/train/distiller.h"

namespace endd::experiments {

/// One student: its row name, its loss, and whether it also trains on AUX inputs.
struct StudentSpec {
  std::string name;
  train::DistillMethod method = train::DistillMethod::kEnD2;
  bool aux = false;
};
/// "end, end2, end2_aux": names METHOD[_aux], METHOD one of end, end2,
/// end2_proxy. endd::Error on anything else, a repeat or an empty list.
std::vector<StudentSpec> parse_students(const std::string& text);

/// The settings a student does not use set back to their built-in values in
/// its `endd distill` stage, so changing one (the AUX kinds, the EnD^2
/// smoothing) retrains only the students that use it.
void leave_unused_at_defaults(config::Config& stage, const StudentSpec& student);

using data::OodSpec;  // the OOD sets of data.ood (data/ood_sets.h)

/// The keys of experiment `name` ("classification", "cifar10", ...), with
/// the stages' built-in values.
config::Config classification_schema(const std::string& name);

/// A resolved experiment, every value checked before any work.
struct ClassificationExperiment {
  std::string name, title;
  uint64_t seed = 0;
  config::Config ensemble{std::vector<config::Field>{}};  ///< the ensemble stage's `endd train` configuration
  bool image_members = false;  ///< cnn, vgg or resnet members
  std::vector<StudentSpec> students;
  std::vector<config::Config> distill;  ///< each student's `endd distill` configuration
  std::string test;                     ///< labelled test source
  std::string test_origin;              ///< where `test` was set (config.h), for messages
  int64_t test_limit = 0;               ///< the first N test rows (0 = all)
  std::vector<OodSpec> ood;
  int64_t ood_limit = 0;  ///< rows per OOD set, drawn at random (0 = as many as test rows)
  int bootstrap = 200;
};
/// Errors name the file:line or flag of the offending value.
ClassificationExperiment classification_experiment(const config::Config& c);

}  // namespace endd::experiments
