#pragma once
// Test helper: the message of the endd::Error that `f` throws ("" if none).
#include <functional>
#include <string>

#include "endd/core/error.h"

namespace endd::testing {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const endd::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace endd::testing
