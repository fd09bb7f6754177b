#pragma once
// What the table readers (numeric_csv, delimited_table) skip around a field.

namespace endd::data {

/// A space or a tab: padding around a field, not part of it.
inline bool is_field_padding(char c) { return c == ' ' || c == '\t'; }

}  // namespace endd::data
