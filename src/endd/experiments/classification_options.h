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

/// An evaluation set other than the test set: a data source read without
/// labels, or one the experiment makes from the test set's shape (kGenerated).
struct OodSpec {
  std::string name, source;
};
/// The sets an experiment makes rather than reads: uniform-noise and
/// gaussian-noise (inputs of the test set's size, U(0,1) and N(0.5, 0.25^2)
/// clipped), inverted (1 - each test image).
const std::vector<std::string>& generated_ood_sources();
/// "SRC[:NAME]; SRC[:NAME] ...", entries separated by ';' or new lines, each
/// as `endd evaluate --ood` takes it (data/source.h). Names must differ.
std::vector<OodSpec> parse_ood_sets(const std::string& text);

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
