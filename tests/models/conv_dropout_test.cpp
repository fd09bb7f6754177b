// Dropout in convolutional ensembles (the VGG preset) draws each member's
// mask from the seed its trainer sets: training is the same in every run and
// whichever members share the graph. Before, it drew from PyTorch's global
// generator and two identical `endd train --arch vgg` runs differed.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "endd/core/seeding.h"
#include "endd/models/conv_ensemble.h"

using endd::models::ConvEnsemble;
using endd::models::ConvOptions;

namespace {
ConvOptions with_dropout() { return ConvOptions(1, 8, 8, 3).stages({2}).hidden(16).dropout(0.5); }
}  // namespace

TEST(ConvDropoutTest, MasksFollowTheMembersSeedsNotTheGlobalGenerator) {
  const at::Tensor x = at::rand({4, 1, 8, 8}, endd::cpu_generator(7));
  ConvEnsemble pair(with_dropout(), {11, 12});
  pair.train();
  pair.set_noise_seeds({101, 102});
  const at::Tensor first = pair.forward(x);
  at::rand({100});  // the global generator moves on
  pair.set_noise_seeds({101, 102});
  EXPECT_TRUE(at::equal(pair.forward(x), first));
  pair.set_noise_seeds({101, 103});
  const at::Tensor other = pair.forward(x);
  EXPECT_TRUE(at::equal(other[0], first[0]));
  EXPECT_FALSE(at::equal(other[1], first[1]));
  // Member 1 alone, with its own weights and noise seed, gives what it gave beside member 0.
  ConvEnsemble alone(with_dropout(), {12});
  alone.train();
  alone.set_noise_seeds({102});
  EXPECT_TRUE(at::allclose(alone.forward(x)[0], first[1], 1e-6, 1e-6));
  // Half the hidden units are dropped on average and the rest scaled by 2:
  // in evaluation nothing is dropped, so the outputs differ from training's.
  pair.eval();
  EXPECT_FALSE(at::equal(pair.forward(x), first));
}
