#pragma once
// The key torch::optim keeps a parameter's state under: a string of the
// parameter's implementation's address in LibTorch 1.13, the address itself
// in 2.x. Written for either, so the same sources build against both.
#include <ATen/core/Tensor.h>
#include <c10/util/string_utils.h>

#include <string>
#include <type_traits>

namespace endd::train {

template <class StateMap>
typename StateMap::key_type state_key(const StateMap&, const at::Tensor& parameter) {
  using Key = typename StateMap::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    return c10::guts::to_string(parameter.unsafeGetTensorImpl());
  } else {
    return static_cast<Key>(parameter.unsafeGetTensorImpl());
  }
}

}  // namespace endd::train
