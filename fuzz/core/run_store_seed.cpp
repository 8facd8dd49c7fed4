// Writes a seed of run_store_fuzz: a real run database made by RunStoreWriter (config, meta,
// metrics and histograms over a few steps, samples with rewards and extra fields, events, a resume
// truncation), checkpointed into one file so that it opens without its WAL. Built beside the
// fuzz targets; the committed seed came from
//   build-fuzz/fuzz/core/run_store_seed fuzz/corpus/run_store_fuzz/seed-run.db
#include <cstdio>
#include <exception>
#include <string>

#include "core/run_store.h"
#include "core/sqlite.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: run_store_seed OUT.db\n");
    return 2;
  }
  const std::string path = argv[1];
  std::remove(path.c_str());
  try {
    {
      grpo::RunStoreWriter writer(path);
      writer.set_meta("run_name", "seed");
      writer.set_meta("stage", "grpo");
      writer.set_meta("config", "run:\n  name: seed\nrl:\n  group_size: 4\n");
      writer.set_meta("status", "running");
      for (int64_t step = 1; step <= 4; ++step) {
        writer.log_metrics(step, {{"reward/mean", 0.25 * step}, {"actor/loss", 1.0 / step}, {"audit/empty", 0.0}});
        writer.log_histogram(step, "router/learner/layer0/expert_load", {0.5, 0.25 / step, 0.25 - 0.25 / step, 0.25});
        grpo::SampleRecord s;
        s.step = step;
        s.prompt_index = step % 2;
        s.sample_index = 1;
        s.prompt = "What is 2+" + std::to_string(step) + "?";
        s.completion = "<answer>" + std::to_string(2 + step) + "</answer> \xe2\x9c\x93";
        s.rewards = {{"math_accuracy", 1.0}, {"format", 0.5}};
        s.reward = 1.5;
        s.advantage = 0.25 - step;
        s.extra = {{"completion_ids", {17, 4, 9}}, {"reason", "ok"}};
        writer.log_samples({s});
      }
      writer.log_event("warn", "audit", "empty completions above threshold", 3);
      writer.log_event("info", "checkpoint", "saved step 4", 4);
      writer.truncate_after(3);
      writer.set_meta("status", "finished");
      writer.flush();
    }
    // Rolls the WAL back into the database and turns WAL off: the seed is one file.
    grpo::sqlite::Connection conn(path, /*read_only=*/false);
    conn.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    conn.exec("PRAGMA journal_mode=DELETE");
    conn.exec("VACUUM");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "run_store_seed: %s\n", e.what());
    return 1;
  }
  return 0;
}
