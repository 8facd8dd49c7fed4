// Writes the seeds of run_store_fuzz: real run databases made by RunStoreWriter, a finished run
// (config, meta, metrics and histograms over a few steps, samples with rewards and extra fields,
// events, a resume truncation) and a run just started (its name and nothing logged, so reads find
// keys and tables missing or empty). Each is checkpointed into one file so that it opens without
// its WAL and rewritten with 512-byte pages (SQLite's smallest: an eighth of the default's bytes
// for libFuzzer to mutate), then written once per part of the database the target reads, behind
// that part's selector byte (the order of run_store_fuzz.cpp's variants). Built beside the fuzz
// targets; the committed seeds (fuzz/corpus/run_store_fuzz.tar.xz) came from
//   build-fuzz/fuzz/core/run_store_seed build-fuzz/corpus/run_store_fuzz
//   scripts/run-fuzz --minimize run_store_fuzz   (seed-* files keep their names)
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/run_store.h"
#include "core/sqlite.h"

namespace {

void log_finished_run(grpo::RunStoreWriter& writer) {
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
}

void log_started_run(grpo::RunStoreWriter& writer) { writer.set_meta("run_name", "started"); }

// The database `log` writes, as the bytes of one file with 512-byte pages.
std::string database_bytes(const std::string& path, const std::function<void(grpo::RunStoreWriter&)>& log) {
  std::remove(path.c_str());
  {
    grpo::RunStoreWriter writer(path);
    log(writer);
    writer.flush();
  }
  {
    // Rolls the WAL back into the database and turns WAL off, so the seed is one file, which
    // VACUUM rewrites with the smaller pages.
    grpo::sqlite::Connection conn(path, /*read_only=*/false);
    conn.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    conn.exec("PRAGMA journal_mode=DELETE");
    conn.exec("PRAGMA page_size=512");
    conn.exec("VACUUM");
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  return bytes;
}

void write_seeds(const std::string& dir, const std::string& name, const std::string& database) {
  const std::vector<std::string> parts = {"meta", "metrics", "histograms", "samples", "events", "report"};
  for (size_t selector = 0; selector < parts.size(); ++selector) {
    const std::string seed = dir + "/seed-" + name + "." + parts[selector];
    std::ofstream out(seed, std::ios::binary | std::ios::trunc);
    out.put(static_cast<char>(selector));
    out.write(database.data(), static_cast<std::streamsize>(database.size()));
    if (!out) throw std::runtime_error("cannot write " + seed);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: run_store_seed CORPUS_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string scratch = dir + "/run_store_seed.db";
  try {
    write_seeds(dir, "run", database_bytes(scratch, log_finished_run));
    write_seeds(dir, "started-run", database_bytes(scratch, log_started_run));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "run_store_seed: %s\n", e.what());
    return 1;
  }
  return 0;
}
