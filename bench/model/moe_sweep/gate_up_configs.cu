// The gate/up kernel's configurations for the sweep: warps per block x weight chunks in flight.
#include "bench/model/moe_sweep/sweep.h"
#include "model/kernels/moe/expert_gate_up_kernel.cuh"

namespace sweep {

std::vector<GateUpConfig> gate_up_configs() {
  namespace k = grpo::model::kernels;
  return {{"8w x 2", k::expert_gate_up_impl::launch_with<8, 2>},   {"8w x 4", k::expert_gate_up_impl::launch_with<8, 4>},   {"12w x 2", k::expert_gate_up_impl::launch_with<12, 2>},
          {"12w x 4", k::expert_gate_up_impl::launch_with<12, 4>}, {"16w x 2", k::expert_gate_up_impl::launch_with<16, 2>}};
}

}  // namespace sweep
