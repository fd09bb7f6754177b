// The options model (config/option_table.h): one declaration per option gives
// the schema, the struct read back with checks, and errors that name where a
// value came from; an experiment's sources resolve in one precedence.
#include <gtest/gtest.h>

#include "../error_of.h"

#include "endd/config/option_table.h"
#include "endd/core/error.h"
#include "endd/experiments/experiment_config.h"
#include "endd/experiments/spiral_options.h"

using endd::config::Config;
using endd::config::OptionTable;
using endd::testing::error_of;

namespace {

struct Inner {
  int64_t epochs = 3;
  double rate = 0.5;
};
struct Settings {
  uint64_t seed = 7;
  bool flag = false;
  std::string name = "relu";
  Inner inner;
  std::vector<int64_t> list{1, 2};
};

const OptionTable<Settings>& table() {
  static const OptionTable<Settings> t = [] {
    OptionTable<Settings> t;
    t.add("seed", "", "seed", [](Settings& s) -> auto& { return s.seed; }, endd::config::at_least(0))
        .add("flag", "--flag", "a switch", [](Settings& s) -> auto& { return s.flag; })
        .add("name", "--name", "a word", [](Settings& s) -> auto& { return s.name; },
             endd::config::one_of({"relu", "tanh"}))
        .add("inner.epochs", "--epochs", "epochs", [](Settings& s) -> auto& { return s.inner.epochs; },
             endd::config::at_least(1))
        .add("inner.rate", "", "rate", [](Settings& s) -> auto& { return s.inner.rate; }, endd::config::above(0))
        .add_parsed(
            "list", "", "a list",
            [](const Settings& s) {
              std::string out;
              for (auto v : s.list) out += (out.empty() ? "" : ",") + std::to_string(v);
              return out;
            },
            [](Settings& s, const std::string& text) {
              ENDD_CHECK(!text.empty() && text.find_first_not_of("0123456789,") == std::string::npos,
                         "expected integers separated by commas");
              s.list.clear();
              size_t at = 0;
              while (at <= text.size()) {
                size_t comma = text.find(',', at);
                if (comma == std::string::npos) comma = text.size();
                s.list.push_back(std::stoll(text.substr(at, comma - at)));
                at = comma + 1;
              }
            });
    return t;
  }();
  return t;
}

}  // namespace

TEST(OptionTableTest, SchemaFromAStructReadsBackTheSameStruct) {
  Settings custom;
  custom.seed = 11;
  custom.flag = true;
  custom.name = "tanh";
  custom.inner = {9, 0.25};
  custom.list = {4, 5, 6};
  Config c = table().schema(custom);
  EXPECT_EQ(c.get_int("inner.epochs"), 9);
  Settings back = table().read(c);
  EXPECT_EQ(back.seed, 11u);
  EXPECT_TRUE(back.flag);
  EXPECT_EQ(back.name, "tanh");
  EXPECT_EQ(back.inner.epochs, 9);
  EXPECT_DOUBLE_EQ(back.inner.rate, 0.25);
  EXPECT_EQ(back.list, (std::vector<int64_t>{4, 5, 6}));
  // Printed as TOML and merged into a fresh schema: the same values again.
  Config again = table().schema(Settings{});
  again.merge_toml(c.to_toml(), "printed.toml");
  EXPECT_EQ(again.to_json(), c.to_json());
  ASSERT_EQ(table().flags().size(), 3u);  // --flag, --name, --epochs
  EXPECT_TRUE(table().flags()[0].is_switch);
}

TEST(OptionTableTest, ErrorsNameTheFileLineFlagOrSetTheValueCameFrom) {
  Config c = table().schema(Settings{});
  c.merge_toml("seed = 1\n\n[inner]\nepochs = 0\n", "my.toml");
  EXPECT_EQ(error_of([&] { table().read(c); }), "my.toml:4: inner.epochs: expected >= 1, got 0");

  c = table().schema(Settings{});
  c.set_text("name", "swish", "--name");
  try {
    table().read(c);
    ADD_FAILURE() << "accepted name = swish";
  } catch (const endd::UsageError& e) {  // typed on the command line: a usage error
    EXPECT_STREQ(e.what(), "--name: name: expected one of relu, tanh, got 'swish'");
  }

  c = table().schema(Settings{});
  c.set("inner.rate=-1");
  EXPECT_EQ(error_of([&] { table().read(c); }), "--set inner.rate=-1: inner.rate: expected > 0, got -1.0");
  c = table().schema(Settings{});
  c.merge_toml("list = \"1,x\"\n", "l.toml");
  EXPECT_EQ(error_of([&] { table().read(c); }), "l.toml:1: list: expected integers separated by commas");
  EXPECT_EQ(error_of([&] { c.set_text("inner.epochs", "two", "--epochs"); }),
            "--epochs: inner.epochs: expected an integer, got 'two'");
}

TEST(OptionTableTest, NumbersPrintAsTheShortestTextThatReadsBack) {
  EXPECT_EQ(endd::config::format_value(0.35), "0.35");
  EXPECT_EQ(endd::config::format_value(1e-4), "0.0001");
  EXPECT_EQ(endd::config::format_value(2.0), "2.0");
  const double third = 1.0 / 3.0;
  EXPECT_EQ(std::stod(endd::config::format_value(third)), third);
}

// The experiment's precedence: shipped file < user's file < flags (--seed
// among them) < --set; --quick shrinks only what the user's file left as shipped.
TEST(ExperimentConfigTest, SourcesResolveInOneOrderAndQuickKeepsEditedValues) {
  using namespace endd::experiments;
  const auto shipped = spiral_config(false), quick = spiral_config(true);
  EXPECT_EQ(shipped.members, 100);
  EXPECT_EQ(quick.members, 10);
  EXPECT_LT(quick.per_class, shipped.per_class);

  const std::string dir = ::testing::TempDir();
  const std::string file = dir + "/endd_option_table_user.toml";
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fputs("experiment = \"spiral\"\nseed = 4\n[ensemble]\nmembers = 6\nepochs = 50\n[data]\nnoise = 0.3\n", f);
    std::fclose(f);
  }
  ExperimentSources src;
  src.file = file;
  src.quick = true;
  src.flags = {{"--epochs", "ensemble.epochs", "20"}};
  src.sets = {"data.noise=0.31"};
  Config c = resolve_experiment_config(spiral_options().schema(SpiralConfig{}), "spiral", src);
  SpiralConfig s = spiral_config_from(c);
  EXPECT_EQ(s.seed, 4u);
  EXPECT_EQ(s.members, 6);             // the user's edit beats the quick overlay
  EXPECT_EQ(s.ensemble.epochs, 20);    // the flag beats the file
  EXPECT_DOUBLE_EQ(s.noise, 0.31);     // --set beats both
  EXPECT_EQ(s.per_class, quick.per_class);  // left as shipped: the quick overlay's
  EXPECT_EQ(c.origin("ensemble.members"), file + ":4");
  EXPECT_EQ(c.origin("ensemble.epochs"), "--epochs");
  src.seed = 9;  // --seed is a flag: it beats the file, --set beats it
  EXPECT_EQ(spiral_config_from(resolve_experiment_config(spiral_options().schema(SpiralConfig{}), "spiral", src)).seed,
            9u);
  src.sets.push_back("seed=12");
  EXPECT_EQ(spiral_config_from(resolve_experiment_config(spiral_options().schema(SpiralConfig{}), "spiral", src)).seed,
            12u);
  EXPECT_EQ(experiment_named_in(file), "spiral");
  std::remove(file.c_str());
}

// A struct built in code is checked by the same table (one rule, one place).
TEST(ExperimentConfigTest, ValidateAppliesTheOptionTablesChecks) {
  auto s = endd::experiments::spiral_config(true);
  EXPECT_EQ(error_of([&] { s.validate(); }), "");
  s.noise = -1;
  EXPECT_EQ(error_of([&] { s.validate(); }), "SpiralConfig: data.noise: expected >= 0, got -1.0");
  s = endd::experiments::spiral_config(true);
  s.student.hold_fraction = s.student.decay_fraction = 0.6;
  EXPECT_NE(error_of([&] { s.validate(); }).find("distill.hold_fraction + distill.decay_fraction <= 1"),
            std::string::npos);
}
