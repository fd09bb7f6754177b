#include "parsers.h"

#include <ATen/ATen.h>

#include "endd/core/error.h"
#include "endd/data/class_labels.h"
#include "endd/data/delimited_table.h"
#include "endd/data/image_files.h"
#include "endd/data/npy_file.h"
#include "endd/data/member_outputs.h"
#include "endd/data/numeric_csv.h"
#include "endd/data/tensor_file.h"
#include "endd/runs/run_config.h"

namespace endd::fuzz {

const std::vector<std::string>& targets() {
  static const std::vector<std::string> t{"csv", "table", "npy", "predictions", "tensor", "config", "idx", "cifar", "mnist_json"};
  return t;
}

void parse_input(const std::string& target, const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<char> bytes(text.begin(), text.end());
  try {
    if (target == "csv") {
      data::parse_numeric_csv(text, "fuzz.csv");
    } else if (target == "table") {
      // A user's data file: the last column as the label, mapped to classes.
      auto t = data::parse_delimited_table(text, "fuzz.csv", [](const std::vector<std::string>&, int64_t cols) {
        return cols >= 2 ? cols - 1 : int64_t{-1};
      });
      if (t.text_column >= 0) data::encode_labels(t.text);
    } else if (target == "npy") {
      data::parse_npy(bytes, "fuzz.npy");
    } else if (target == "predictions") {
      // Member probabilities, M = 2: parse, then the same checks as --probs.
      auto t = data::parse_numeric_csv(text, "fuzz.csv");
      if (t.cols % 2 != 0 || t.cols < 4) return;
      at::Tensor p = at::from_blob(t.values.data(), {t.rows, 2, t.cols / 2}, at::kDouble).clone();
      data::validate_probabilities(p, {2, data::OutputKind::kProbabilities, 1e-3, false},
                                   [](int64_t r) { return "fuzz.csv:" + std::to_string(r); });
    } else if (target == "tensor") {
      data::parse_tensor_bytes(bytes, "fuzz.pt");
    } else if (target == "config") {
      runs::train_config().merge_toml(text, "fuzz.toml");
    } else if (target == "idx") {
      data::parse_idx(std::vector<uint8_t>(data, data + size), "fuzz.idx");
    } else if (target == "cifar") {
      if (size > 0 && data[0] % 2) data::parse_cifar(bytes, "fuzz.bin", true, data[0] % 4 == 3);
      else data::parse_cifar(bytes, "fuzz.bin", false, false);
    } else if (target == "mnist_json") {
      data::parse_mnist_digit_json(text, "fuzz.json");
    } else {
      throw std::logic_error("unknown fuzz target " + target);
    }
  } catch (const Error&) {
    // A clear rejection: what bad input should get.
  }
}

}  // namespace endd::fuzz
