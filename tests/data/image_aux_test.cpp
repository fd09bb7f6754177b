// AUX images from training images: each kind checked on images whose
// transforms have known results (constant images, one bright square).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "endd/core/error.h"
#include "endd/data/image_aux.h"

using endd::data::make_image_aux;

namespace {
// The five kinds these tests were written for, in their order.
const std::vector<endd::data::ImageAuxKind> kFirstFive{
    endd::data::ImageAuxKind::kMix, endd::data::ImageAuxKind::kNoise, endd::data::ImageAuxKind::kEdges,
    endd::data::ImageAuxKind::kZoom, endd::data::ImageAuxKind::kShuffle};
}  // namespace

TEST(ImageAuxTest, EveryKindFromConstantImages) {
  // Four constant 1 x 8 x 8 images, values 0.2, 0.4, 0.6, 0.8; classes 0, 0, 1, 1.
  at::Tensor images = at::tensor({0.2f, 0.4f, 0.6f, 0.8f}).view({4, 1, 1, 1}).expand({4, 1, 8, 8}).contiguous();
  at::Tensor labels = at::tensor({0, 0, 1, 1}, at::kLong);
  at::Tensor aux = make_image_aux(images, labels, 12, 7, kFirstFive);  // 2 of each kind, 4 shuffled
  ASSERT_EQ(aux.sizes(), (at::IntArrayRef{12, 1, 8, 8}));
  EXPECT_GE(aux.min().item<float>(), 0.0f);
  EXPECT_LE(aux.max().item<float>(), 1.0f);
  auto is_constant = [](const at::Tensor& x) { return (x - x.flatten()[0]).abs().max().item<float>() < 1e-6f; };
  auto is_training_value = [](float v) {
    for (float t : {0.2f, 0.4f, 0.6f, 0.8f})
      if (std::abs(v - t) < 1e-6f) return true;
    return false;
  };
  for (int i = 0; i < 2; ++i) {  // mixtures: constant, strictly between two classes' values
    EXPECT_TRUE(is_constant(aux[i]));
    const float v = aux[i].flatten()[0].item<float>();
    EXPECT_GT(v, 0.2f + 0.3f * 0.2f - 1e-5f);
    EXPECT_LT(v, 0.8f - 0.3f * 0.2f + 1e-5f);
    EXPECT_FALSE(is_training_value(v));
  }
  for (int i = 2; i < 4; ++i) EXPECT_FALSE(is_constant(aux[i]));                       // noise
  for (int i = 4; i < 6; ++i) EXPECT_EQ(aux[i].abs().max().item<float>(), 0.0f);       // edges of flat images
  for (int i = 6; i < 12; ++i) {                                                        // zooms and shuffles
    EXPECT_TRUE(is_constant(aux[i]));
    EXPECT_TRUE(is_training_value(aux[i].flatten()[0].item<float>()));
  }
  EXPECT_TRUE(at::equal(aux, make_image_aux(images, labels, 12, 7, kFirstFive)));
  EXPECT_FALSE(at::equal(aux, make_image_aux(images, labels, 12, 8, kFirstFive)));
}

TEST(ImageAuxTest, EdgesOutlineAndZoomsEnlarge) {
  // One image: a bright 4 x 4 square in the middle of a dark 8 x 8 frame.
  at::Tensor image = at::zeros({2, 1, 8, 8});
  image.slice(2, 2, 6).slice(3, 2, 6).fill_(1.0f);
  at::Tensor labels = at::tensor({0, 1}, at::kLong);
  at::Tensor aux = make_image_aux(image, labels, 5, 3, kFirstFive);  // one of each kind
  at::Tensor edges = aux[2][0];
  EXPECT_FLOAT_EQ(edges.max().item<float>(), 1.0f);            // scaled to a peak of 1
  EXPECT_EQ(edges[4][4].item<float>(), 0.0f);                   // flat inside the square
  EXPECT_EQ(edges[0][0].item<float>(), 0.0f);                   // flat outside
  EXPECT_GT(edges[2][1].item<float>(), 0.0f);                   // on the outline
  // The zoom of a 4 x 4 window doubles each pixel: values come in 2 x 2 blocks.
  at::Tensor zoom = aux[3][0];
  for (int r = 0; r < 8; r += 2)
    for (int c = 0; c < 8; c += 2) {
      at::Tensor block = zoom.slice(0, r, r + 2).slice(1, c, c + 2);
      EXPECT_EQ(block.min().item<float>(), block.max().item<float>());
    }
}

TEST(ImageAuxTest, SmallCopiesAndOutlinesOfABrightSquare) {
  // The bright 4 x 4 square again: at half size it is a 2 x 2 block of ones on
  // a dark field; its outline is the 12-pixel ring of the square.
  using endd::data::ImageAuxKind;
  at::Tensor image = at::zeros({2, 1, 8, 8});
  image.slice(2, 2, 6).slice(3, 2, 6).fill_(1.0f);
  at::Tensor labels = at::tensor({0, 1}, at::kLong);
  at::Tensor aux = make_image_aux(image, labels, 6, 5, {ImageAuxKind::kSmall, ImageAuxKind::kOutline});
  ASSERT_EQ(aux.sizes(), (at::IntArrayRef{6, 1, 8, 8}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_FLOAT_EQ(aux[i].sum().item<float>(), 4.0f);  // 16 bright pixels, 2 x 2 means
    EXPECT_EQ(aux[i].max().item<float>(), 1.0f);
    EXPECT_EQ(at::count_nonzero(aux[i]).item<int64_t>(), 4);
  }
  at::Tensor ring = image[0].clone();
  ring.slice(1, 3, 5).slice(2, 3, 5).zero_();
  for (int i = 3; i < 6; ++i) EXPECT_TRUE(at::equal(aux[i], ring)) << aux[i];
}

TEST(ImageAuxTest, KindListsParseAndUnknownNamesAreNamed) {
  using endd::data::ImageAuxKind;
  auto kinds = endd::data::parse_image_aux_kinds("edges,small,outline");
  EXPECT_EQ(kinds, (std::vector<ImageAuxKind>{ImageAuxKind::kEdges, ImageAuxKind::kSmall, ImageAuxKind::kOutline}));
  const auto all = endd::data::default_image_aux_kinds();
  EXPECT_EQ(all.size(), 8u);  // every kind, each once
  for (auto k : all) EXPECT_EQ(endd::data::parse_image_aux_kinds(endd::data::image_aux_kind_name(k)).front(), k);
  try {
    endd::data::parse_image_aux_kinds("mix,blur");
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("unknown kind 'blur'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(endd::data::parse_image_aux_kinds(""), std::exception);
  at::Tensor two = at::rand({2, 1, 4, 4});
  EXPECT_THROW(make_image_aux(two, at::tensor({0, 1}, at::kLong), 1, 0), std::exception);  // fewer than the kinds
}

TEST(ImageAuxTest, ChainsApplyTwoKindsInARow) {
  // Both training images are the bright square, so which one is picked does
  // not matter. 30 chained images: one per ordered pair of the six one-image
  // kinds (noise, edges, zoom, shuffle, small, outline), in that order.
  using endd::data::ImageAuxKind;
  at::Tensor image = at::zeros({2, 1, 8, 8});
  image.slice(2, 2, 6).slice(3, 2, 6).fill_(1.0f);
  at::Tensor labels = at::tensor({0, 1}, at::kLong);
  at::Tensor chain = make_image_aux(image, labels, 30, 9, {ImageAuxKind::kChain});
  ASSERT_EQ(chain.sizes(), (at::IntArrayRef{30, 1, 8, 8}));
  EXPECT_GE(chain.min().item<float>(), 0.0f);
  EXPECT_LE(chain.max().item<float>(), 1.0f);
  at::Tensor edges = make_image_aux(image, labels, 1, 0, {ImageAuxKind::kEdges})[0];
  EXPECT_FLOAT_EQ(chain[0].max().item<float>(), 1.0f);                   // edges of a noisy square: peak 1
  EXPECT_NEAR(chain[8].sum().item<float>(), edges.sum().item<float>() / 4, 1e-4);  // small(edges)
  at::Tensor outline_of_edges = chain[9];
  EXPECT_TRUE(at::equal(outline_of_edges, outline_of_edges.round())) << "outlines are 0/1 images";
  EXPECT_TRUE(at::equal(chain, make_image_aux(image, labels, 30, 9, {ImageAuxKind::kChain})));
}

TEST(ImageAuxTest, CountsShareEquallyWithTheRemainderLast) {
  EXPECT_EQ(endd::data::image_aux_counts(20, 8), (std::vector<int64_t>{2, 2, 2, 2, 2, 2, 2, 6}));
  EXPECT_EQ(endd::data::image_aux_counts(16, 8), std::vector<int64_t>(8, 2));
  EXPECT_EQ(endd::data::image_aux_counts(5, 1), std::vector<int64_t>{5});
  EXPECT_THROW(endd::data::image_aux_counts(7, 8), endd::Error);
  EXPECT_THROW(endd::data::image_aux_counts(7, 0), endd::Error);
  // make_image_aux makes exactly these shares, in order.
  at::Tensor images = at::rand({4, 1, 8, 8});
  at::Tensor labels = at::tensor({0, 1, 0, 1}, at::kLong);
  EXPECT_EQ(make_image_aux(images, labels, 20, 3).size(0), 20);
}
