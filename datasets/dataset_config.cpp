// DataSourceSettings -> ReadOptions; see dataset_config.h.
#include "datasets/dataset_config.h"

namespace grpo::datasets {

ReadOptions read_options(const DataSourceSettings& settings) {
  ReadOptions options;
  options.shape = with_field_map(shape_named(settings.format), settings.field_map);
  options.on_malformed = settings.on_malformed == "skip" ? OnMalformed::kSkip : OnMalformed::kError;
  return options;
}

}  // namespace grpo::datasets
