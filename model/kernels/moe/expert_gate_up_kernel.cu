// Gate/up projections, SwiGLU and routing weights of the all-experts MoE decode in one kernel;
#include "model/kernels/moe/expert_gate_up_kernel.cuh"

namespace grpo::model::kernels {
using namespace expert_gate_up_impl;

bool expert_gate_up_supported(int features, int inter, int experts, int shared_inter) {
  return experts > 0 && shared_bytes(features, experts) <= kMaxSharedBytes && features > 0 &&
         features % (2 * kChunk * kDefaultDepth) == 0 && features <= kMaxFeatures && inter > 0 && inter % kUnitRows == 0 &&
         shared_inter >= 0 && shared_inter % kUnitRows == 0;
}

cudaError_t launch_expert_gate_up(const ExpertGateUpArgs& a, int multiprocessors, cudaStream_t stream) {
  return launch_with<kDefaultWarps, kDefaultDepth>(a, multiprocessors, stream);
}

}  // namespace grpo::model::kernels
