#pragma once
namespace endd {
inline constexpr const char* kVersion = "0.1.0";
}
