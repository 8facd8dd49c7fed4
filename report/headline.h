// The headline panel: the four questions a researcher asks of a GRPO run first, each answered
// by a few charts and a table of key numbers, over one run or overlaid for several.
//   Is it learning?            rewards (total, accuracy, per function), held-out pass@k / maj@k
//   Is the "aha" happening?    completion length (mean, p90), reflection-phrase rates (aha/*)
//   Is it healthy?             entropy, KL, clip fractions, zero-variance groups, grad norm,
//                              skipped steps, rollout/learner mismatch, the reward-hacking audit
//   Where does the time go?    rollout / reward / learner share of the step, tokens/s, memory
// Metrics are picked by name pattern (series.h); a chart none of whose metrics a run logged is
// listed as "not logged in this run" instead of drawn. The metric names are the trainers'
// (rl/trainer, rl/stage); a renamed metric must be renamed here too.
#pragma once

#include <string>
#include <vector>

#include "report/chart.h"
#include "report/run_data.h"

namespace grpo::report {

struct HeadlineChart {
  std::string title;
  std::vector<std::string> patterns;  // glob patterns over metric names
};

struct HeadlineQuestion {
  std::string id;  // HTML id of its section
  std::string question;
  std::vector<HeadlineChart> charts;
};

const std::vector<HeadlineQuestion>& headline_questions();

// The metric names of `run` that `chart` draws, in the patterns' order, each once.
std::vector<std::string> chart_metrics(const HeadlineChart& chart, const RunData& run);

// Share of the mean step time spent in each of time/rollout_s, time/reward_s, time/teacher_s
// and time/learner_s (those logged), in that order; "other" is what time/step_s leaves. Empty
// without time/step_s.
std::vector<std::pair<std::string, double>> time_split(const RunData& run);

// The headline panel for `runs` (one run, or several overlaid with a color per run).
std::string render_headline(const std::vector<RunData>& runs, ChartBook& charts);

}  // namespace grpo::report
