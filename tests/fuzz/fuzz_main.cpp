// libFuzzer entry point; ENDD_FUZZ_TARGET names the parser (parsers.h).
#include "parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  endd::fuzz::parse_input(ENDD_FUZZ_TARGET, data, size);
  return 0;
}
