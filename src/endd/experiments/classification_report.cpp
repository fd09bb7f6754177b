#include "endd/experiments/classification_report.h"

#include <filesystem>

#include "endd/config/config.h"
#include "endd/core/atomic_file.h"
#include "endd/core/output_paths.h"
#include "endd/report/evaluation_figures.h"
#include "endd/report/results.h"

namespace endd::experiments {

report::ClassificationResults write_classification_report(nlohmann::json& r, const ModelTable& table,
                                                          const at::Tensor& test_labels, const ReportSettings& s,
                                                          const std::string& dir, double total_seconds) {
  report::ClassificationResults results = table.evaluate(test_labels, s.ood_sets, s.bootstrap, s.seed);
  results.paper_error = s.paper_error;
  results.write_sections(r);
  for (const auto& model : s.model_figures ? table.order : std::vector<std::string>{}) {
    const std::string fig = (std::filesystem::path(dir) / "figures" / model).string();
    ensure_writable_directory(fig);
    const auto& m = table.measures.at(model);
    report::write_reliability_figure(fig, m.at("test"), test_labels, s.quiet);
    report::write_rejection_figure(fig, m.at("test"), test_labels, s.quiet);
    if (std::find(s.ood_figure_models.begin(), s.ood_figure_models.end(), model) != s.ood_figure_models.end())
      for (const auto& set : s.ood_sets) report::write_ood_figures(fig, set, m.at("test"), m.at(set), s.quiet);
  }
  r["timing"] = {{"total_seconds", total_seconds}};
  report::write_json((std::filesystem::path(dir) / "results.json").string(), r);
  write_file_atomic((std::filesystem::path(dir) / "results.md").string(),
                    results.markdown(s.title) + "\n" +
                        (!s.notes.empty() ? s.notes
                                          : "Figures in `figures/<model>/`: `reliability.png`, `rejection.png`, and for " +
                                                config::join_words(s.ood_figure_models) +
                                                " `ood_<set>_hist.png` (total and knowledge uncertainty, in-domain vs "
                                                "the set) and `ood_<set>_roc.png`; the CSV beside each holds its "
                                                "data.\n"));
  return results;
}

}  // namespace endd::experiments
