// The one precompiled header shared by every target: LibTorch's tensor and
// module headers dominate compile time, everything else is cheap.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
