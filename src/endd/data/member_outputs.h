#pragma once
// Ensemble member outputs brought from anywhere (CSV or torch.save files) and
// integer class labels, checked before any number is computed from them.
#include <ATen/core/Tensor.h>

#include <functional>
#include <string>

namespace endd::data {

/// kGaussian: regression members, a mean and a variance each ([N, M, 2]).
enum class OutputKind { kProbabilities, kLogits, kGaussian };

struct MemberOutputOptions {
  int64_t members = 0;  ///< M; 0 = take it from a 3-d tensor file
  OutputKind kind = OutputKind::kProbabilities;
  /// Probability rows must sum to 1 within this; otherwise an error, unless
  /// `renormalize` is set, which divides each member's row by its sum.
  double sum_tolerance = 1e-3;
  bool renormalize = false;
};

/// Loads [N, M, K] member outputs (float64 from CSV; a tensor file keeps its
/// floating-point dtype). CSV: one row per input with M*K
/// columns, member-major (member 1's K classes, then member 2's, ...), an
/// optional header. `.pt`/`.pth`: a tensor [N, M, K], or [N, M*K] with `members`.
/// Errors name the file and the line (CSV) or row (tensor) at fault.
at::Tensor load_member_outputs(const std::string& path, const MemberOutputOptions& options);

/// A numeric array file: a torch.save'd tensor (.pt/.pth) or a numpy .npy
/// file (recognised by its magic, whatever its name).
bool is_array_file(const std::string& path);
/// Its numbers (a text .npy array is refused).
at::Tensor load_array_file(const std::string& path);

/// Checks (and optionally renormalises) [N, M, K] probabilities in place;
/// `where(i)` names row i in messages ("file.csv:12").
void validate_probabilities(at::Tensor& probs, const MemberOutputOptions& options,
                            const std::function<std::string(int64_t)>& where);

/// Reads regression targets: one finite number per line of a text file (an
/// optional header line is skipped), or a .npy / torch.save array of shape
/// (N,). Errors name the file and the line or row.
at::Tensor read_targets(const std::string& path);

/// Reads one integer class per line (an optional header line is skipped), each
/// in [0, num_classes). Errors name the file and line.
at::Tensor read_labels(const std::string& path, int64_t num_classes);

}  // namespace endd::data
