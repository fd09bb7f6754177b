#include "endd/experiments/experiment_config.h"

#include "endd/core/error.h"
#include "endd/experiments/shipped_configs.h"

namespace endd::experiments {

config::Config resolve_experiment_config(config::Config c, const std::string& name, const ExperimentSources& src) {
  const std::string* shipped = shipped_config(name);
  ENDD_ASSERT(shipped, "no shipped configuration for experiment ", name);
  c.merge_toml(*shipped, "configs/experiments/" + name + ".toml");
  const config::Config as_shipped = c;
  if (!src.file.empty()) c.merge_toml_file(src.file);
  if (src.quick) {
    const std::string* overlay = shipped_config(name + ".quick");
    ENDD_ASSERT(overlay, "no quick overlay for experiment ", name);
    // The overlay shrinks what the user's file leaves as shipped; a value the
    // file changed is the user's choice and stays.
    config::Config quick = c;
    quick.merge_toml(*overlay, "configs/experiments/" + name + ".quick.toml");
    for (const auto& field : c.schema())
      if (c.get(field.key) == as_shipped.get(field.key))
        c.set_value(field.key, quick.get(field.key), quick.origin(field.key));
  }
  for (const auto& f : src.flags) c.set_text(f.key, f.text, f.flag);
  if (src.seed) c.set_value("seed", static_cast<int64_t>(*src.seed), "--seed");  // a flag, as for train/distill
  for (const auto& s : src.sets) c.set(s);
  return c;
}

std::string experiment_named_in(const std::string& path) {
  auto name = config::top_level_string(path, "experiment");
  ENDD_CHECK(name, path, ": expected a top-level key experiment = \"NAME\" naming the experiment this file "
             "configures (one of ", config::join_words(shipped_experiment_names()), ")");
  return *name;
}

}  // namespace endd::experiments
