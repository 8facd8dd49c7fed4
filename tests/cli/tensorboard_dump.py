"""Reads a directory of TensorBoard event files with TensorBoard's own reader (EventAccumulator,
as `tensorboard --logdir` loads a run) and writes what it found to OUT_JSON as one JSON object:
{"file_version": str, "scalars": {tag: [[step, wall_time, value], ...]},
 "texts": {tag: [[step, wall_time, [row, ...]], ...]},
 "histograms": {tag: [[step, wall_time, {"min", "max", "num", "sum", "sum_squares", "bucket_limit",
                                         "bucket"}], ...]}}.
Used by tests/cli/tensorboard_cli_test.cpp with the venv of scripts/fetch-tensorboard.
Usage: tensorboard_dump.py EVENT_DIR OUT_JSON"""
import dataclasses
import json
import sys

from tensorboard.backend.event_processing import event_accumulator


def main(path, out_path):
    acc = event_accumulator.EventAccumulator(
        path, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0,
                             event_accumulator.HISTOGRAMS: 0})
    acc.Reload()
    tags = acc.Tags()
    scalars = {tag: [[e.step, e.wall_time, e.value] for e in acc.Scalars(tag)] for tag in tags["scalars"]}
    texts = {}
    for tag in tags["tensors"]:
        texts[tag] = [[e.step, e.wall_time, [s.decode("utf-8") for s in e.tensor_proto.string_val]]
                      for e in acc.Tensors(tag)]
    histograms = {tag: [[e.step, e.wall_time, dataclasses.asdict(e.histogram_value)] for e in acc.Histograms(tag)]
                  for tag in tags["histograms"]}
    with open(out_path, "w") as out:
        json.dump({"file_version": acc.file_version, "scalars": scalars, "texts": texts,
                   "histograms": histograms}, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
