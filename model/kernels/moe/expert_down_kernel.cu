// Split-K expert down projection on tensor cores; see expert_down_kernel.h.
#include "model/kernels/moe/expert_down_kernel.cuh"

namespace grpo::model::kernels {
using namespace expert_down_impl;

bool expert_down_supported(int features, int inter, int shared_inter) {
  return features > 0 && features % DefaultShape::kFeatures == 0 && inter > 0 && inter % kChunk == 0 &&
         shared_inter >= 0 && shared_inter % kChunk == 0;
}

int expert_down_splits(int tokens, int features, int inter, int experts, int shared_inter, int multiprocessors) {
  ExpertDownArgs a;
  a.tokens = tokens, a.features = features, a.inter = inter, a.experts = experts, a.shared_inter = shared_inter;
  return splits_for<DefaultShape>(a, DefaultShape::kBlocksPerMultiprocessor * multiprocessors);
}

cudaError_t launch_expert_down(const ExpertDownArgs& a, cudaStream_t stream) {
  return launch_with<DefaultShape>(a, stream);
}

}  // namespace grpo::model::kernels
