// Ensemble and Dirichlet measures against independent references: plain loops
// over the MATH.md definitions, and Monte Carlo over Dirichlet samples.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "endd/uncertainty/measures.h"

using endd::uncertainty::dirichlet_measures;
using endd::uncertainty::ensemble_measures_from_logits;
using endd::uncertainty::ensemble_measures_from_probs;

namespace {

double entropy(const std::vector<double>& p) {
  double h = 0;
  for (double v : p) if (v > 0) h -= v * std::log(v);
  return h;
}
double kl(const std::vector<double>& p, const std::vector<double>& q) {
  double d = 0;
  for (size_t c = 0; c < p.size(); ++c) if (p[c] > 0) d += p[c] * (std::log(p[c]) - std::log(q[c]));
  return d;
}

}  // namespace

TEST(EnsembleMeasuresTest, MatchesDefinitionsComputedByLoops) {
  at::manual_seed(3);
  const int64_t N = 7, M = 5, K = 4;
  at::Tensor probs = at::softmax(at::randn({N, M, K}, at::kDouble) * 2, -1);
  auto m = ensemble_measures_from_probs(probs);
  for (int64_t i = 0; i < N; ++i) {
    std::vector<std::vector<double>> pi(M, std::vector<double>(K));
    std::vector<double> pbar(K, 0.0);
    for (int64_t j = 0; j < M; ++j)
      for (int64_t c = 0; c < K; ++c) {
        pi[j][c] = probs[i][j][c].item<double>();
        pbar[c] += pi[j][c] / M;
      }
    double total = entropy(pbar), data = 0, epkl = 0;
    for (const auto& p : pi) data += entropy(p) / M;
    for (int64_t a = 0; a < M; ++a)
      for (int64_t b = 0; b < M; ++b)
        if (a != b) epkl += kl(pi[a], pi[b]) / double(M * (M - 1));
    EXPECT_NEAR(m.total[i].item<double>(), total, 1e-12);
    EXPECT_NEAR(m.data[i].item<double>(), data, 1e-12);
    EXPECT_NEAR(m.knowledge[i].item<double>(), total - data, 1e-12);
    EXPECT_NEAR(m.epkl[i].item<double>(), epkl, 1e-12);
    EXPECT_NEAR(m.confidence[i].item<double>(), *std::max_element(pbar.begin(), pbar.end()), 1e-15);
  }
}

TEST(EnsembleMeasuresTest, LogitsAndProbabilitiesAgree) {
  at::manual_seed(4);
  at::Tensor z = at::randn({50, 6, 3}, at::kDouble) * 3;
  auto a = ensemble_measures_from_logits(z);
  auto b = ensemble_measures_from_probs(at::softmax(z, -1));
  EXPECT_TRUE(at::allclose(a.total, b.total, 1e-10, 1e-12));
  EXPECT_TRUE(at::allclose(a.knowledge, b.knowledge, 1e-10, 1e-12));
  EXPECT_TRUE(at::allclose(a.epkl, b.epkl, 1e-9, 1e-12));
}

TEST(EnsembleMeasuresTest, OneMemberHasExactlyZeroKnowledge) {
  at::manual_seed(5);
  at::Tensor z = at::randn({30, 1, 10}, at::kDouble) * 5;
  for (const auto& m : {ensemble_measures_from_logits(z), ensemble_measures_from_probs(at::softmax(z, -1))}) {
    EXPECT_EQ(m.knowledge.abs().max().item<double>(), 0.0);
    EXPECT_EQ(m.epkl.abs().max().item<double>(), 0.0);
    EXPECT_TRUE(at::allclose(m.total, m.data));
  }
}

TEST(EnsembleMeasuresTest, FiniteAtTheExtremes) {
  // Members that put 1 - 1e-12 on one class, exact zeros, K = 1000, logits +-100.
  const int64_t K = 1000;
  at::Tensor p = at::zeros({2, 3, K}, at::kDouble);
  p.index_put_({0, 0, 0}, 1 - 1e-12);
  p.index_put_({0, 0, 1}, 1e-12);
  p.index_put_({0, 1, 5}, 1.0);  // disagrees, exact zeros elsewhere
  p.index_put_({0, 2, 0}, 1.0);
  p.index({1}).fill_(1.0 / K);
  auto m = ensemble_measures_from_probs(p);
  at::Tensor z = at::zeros({2, 3, K}, at::kDouble);
  z.index_put_({0, 0, 0}, 100.0);
  z.index_put_({0, 1, 1}, -100.0);
  z.index_put_({1}, at::randn({3, K}, at::kDouble) * 100);
  auto mz = ensemble_measures_from_logits(z);
  for (const auto& meas : {m, mz}) {
    for (const auto& t : {meas.total, meas.data, meas.knowledge, meas.epkl, meas.confidence}) {
      EXPECT_TRUE(t.isfinite().all().item<bool>());
      EXPECT_GE(t.min().item<double>(), 0.0);
    }
  }
  EXPECT_NEAR(m.total[1].item<double>(), std::log(double(K)), 1e-9);
  EXPECT_NEAR(m.knowledge[1].item<double>(), 0.0, 1e-12);
  // Two of three members sure of class 0, one of class 5: MI = H(pbar) - ~0.
  EXPECT_NEAR(m.knowledge[0].item<double>(), entropy({2.0 / 3, 1.0 / 3}), 1e-9);
}

namespace {

// Monte Carlo over pi ~ Dir(alpha), drawn with std::gamma_distribution.
struct DirichletMonteCarlo {
  double expected_entropy = 0, epkl = 0, diff_entropy = 0;
};
DirichletMonteCarlo monte_carlo(const std::vector<double>& alpha, int samples, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const size_t K = alpha.size();
  double a0 = 0;
  for (double a : alpha) a0 += a;
  double log_norm = std::lgamma(a0);
  for (double a : alpha) log_norm -= std::lgamma(a);
  auto draw = [&] {
    std::vector<double> g(K);
    double s = 0;
    for (size_t c = 0; c < K; ++c) s += g[c] = std::gamma_distribution<double>(alpha[c], 1.0)(rng);
    for (auto& v : g) v /= s;
    return g;
  };
  DirichletMonteCarlo r;
  for (int i = 0; i < samples; ++i) {
    auto p = draw(), q = draw();
    r.expected_entropy += entropy(p) / samples;
    r.epkl += kl(p, q) / samples;  // E over independent pairs of KL(p || q)
    double log_density = log_norm;
    for (size_t c = 0; c < K; ++c) log_density += (alpha[c] - 1) * std::log(p[c]);
    r.diff_entropy -= log_density / samples;
  }
  return r;
}

}  // namespace

TEST(DirichletMeasuresTest, ClosedFormsMatchMonteCarlo) {
  const std::vector<double> alpha{2, 0.7, 5, 1.3};  // MATH.md's example
  at::Tensor z = at::log(at::tensor(alpha, at::kDouble)).unsqueeze(0);
  auto m = dirichlet_measures(z);
  auto mc = monte_carlo(alpha, 400000, 11);
  EXPECT_NEAR(m.data[0].item<double>(), 0.9960, 5e-4);  // the value MATH.md quotes
  EXPECT_NEAR(m.data[0].item<double>(), mc.expected_entropy, 5e-3);
  EXPECT_NEAR(m.epkl[0].item<double>(), 1.0 / 3.0, 1e-12);  // (K - 1) / alpha_0 = 3 / 9
  EXPECT_NEAR(m.epkl[0].item<double>(), mc.epkl, 0.02);
  EXPECT_NEAR(m.diff_entropy->item<double>(), mc.diff_entropy, 0.01);
  EXPECT_NEAR(m.precision->item<double>(), 9.0, 1e-12);
  EXPECT_NEAR(m.total[0].item<double>(), entropy({2 / 9.0, 0.7 / 9, 5 / 9.0, 1.3 / 9}), 1e-12);
  EXPECT_NEAR(m.knowledge[0].item<double>(), m.total[0].item<double>() - m.data[0].item<double>(), 1e-12);
}

TEST(DirichletMeasuresTest, MutualInformationStaysAccurateAtHugePrecision) {
  // For alpha_0 -> infinity, MI -> (K - 1) / (2 alpha_0); the naive
  // difference of two digammas would lose most digits here.
  for (double a0 : {1e4, 1e6, 1e8}) {
    at::Tensor z = at::log(at::tensor({0.2 * a0, 0.3 * a0, 0.5 * a0}, at::kDouble)).unsqueeze(0);
    auto m = dirichlet_measures(z);
    double mi = m.knowledge[0].item<double>();
    // (K - 1) / (2 alpha_0) with K = 3
    EXPECT_NEAR(mi * a0, 1.0, 1e-3) << "alpha0 " << a0;
    EXPECT_TRUE(m.diff_entropy->isfinite().all().item<bool>());
  }
}

TEST(DirichletMeasuresTest, FiniteForExtremeLogitsAndManyClasses) {
  at::Tensor z = at::randn({4, 1000}, at::kDouble) * 100;
  z.index_put_({0}, -100.0);
  z.index_put_({1}, 100.0);
  auto m = dirichlet_measures(z);
  for (const auto& t : {m.total, m.data, m.knowledge, m.epkl, *m.diff_entropy, *m.precision})
    EXPECT_TRUE(t.isfinite().all().item<bool>());
  EXPECT_GE(m.knowledge.min().item<double>(), 0.0);
  EXPECT_NEAR(m.total[0].item<double>(), std::log(1000.0), 1e-9);  // uniform mean
}
