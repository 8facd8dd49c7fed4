// The fused router kernel for the sweep (one configuration: the one the decode step runs).
#include "bench/model/moe_sweep/sweep.h"
#include "model/kernels/moe/router_kernel.h"

namespace sweep {

std::vector<RouterConfig> router_configs() { return {{"router", grpo::model::kernels::launch_router}}; }

}  // namespace sweep
