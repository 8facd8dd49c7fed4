// The fused router kernel for the sweep (one configuration: the one the decode step runs).
#include "bench/rollout/moe_sweep/sweep.h"
#include "rollout/router_kernel.cu"

namespace sweep {

std::vector<RouterConfig> router_configs() { return {{"router", grpo::rollout::kernels::launch_router}}; }

}  // namespace sweep
