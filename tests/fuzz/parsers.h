#pragma once
// Every parser of outside input behind one entry point, shared by the
// libFuzzer targets (fuzz_main.cpp) and the regression test CI runs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace endd::fuzz {

/// The fuzzable parsers: csv, table, npy, predictions, tensor, config, idx, cifar, mnist_json.
const std::vector<std::string>& targets();

/// Feeds `data` to parser `target`. Rejections (endd::Error) are the expected
/// outcome for bad input and are swallowed; anything else propagates.
void parse_input(const std::string& target, const uint8_t* data, size_t size);

}  // namespace endd::fuzz
