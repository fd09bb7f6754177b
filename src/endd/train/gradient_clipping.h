#pragma once
// Gradient-norm clipping that never waits for the device: LibTorch's
// clip_grad_norm_ returns the norm as a double, which on a GPU stalls the host
// until every queued kernel has run, once per step; launch-bound student steps
// then pay the device's latency on top of the host's. Here the norm stays a
// tensor and the scale is applied on the device.
#include <ATen/core/Tensor.h>

#include <vector>

namespace endd::train {

/// Scales the gradients of `parameters` (those that have one) so that their
/// joint L2 norm is at most `max_norm`, as torch.nn.utils.clip_grad_norm_
/// does (same 1e-6 guard). Returns the norm before clipping as a 0-d tensor
/// on the gradients' device (undefined when no parameter has a gradient). A
/// non-finite norm makes every gradient non-finite, as in PyTorch.
at::Tensor clip_gradient_norm_(const std::vector<at::Tensor>& parameters, double max_norm);

/// The same on the gradients themselves (e.g. FlatAdam::gradient(), every
/// parameter's in one tensor).
at::Tensor clip_gradients_(const std::vector<at::Tensor>& gradients, double max_norm);

}  // namespace endd::train
