// The down projection kernel's configurations for the sweep: warps (16 features each) x weight
// chunks in flight x activation piece width in chunks x blocks per multiprocessor.
#include "bench/model/moe_sweep/sweep.h"
#include "model/kernels/moe/expert_down_kernel.cuh"

namespace sweep {
namespace {

template <int kWarps, int kDepth, int kPiece, int kBlocks>
DownConfig config() {
  namespace k = grpo::model::kernels;
  using S = k::expert_down_impl::Shape<kWarps, kDepth, kPiece, kBlocks>;
  return {std::to_string(kWarps) + "w x " + std::to_string(kDepth) + " piece " + std::to_string(kPiece) + " @" +
              std::to_string(kBlocks),
          kBlocks, [](const k::ExpertDownArgs& a, int sms) { return k::expert_down_impl::splits_for<S>(a, kBlocks * sms); },
          k::expert_down_impl::launch_with<S>};
}

}  // namespace

std::vector<DownConfig> down_configs() {
  return {config<16, 2, 11, 1>(), config<16, 1, 11, 1>(), config<16, 4, 11, 1>(), config<8, 2, 11, 2>(),
          config<16, 2, 8, 1>(), config<8, 1, 6, 3>()};
}

}  // namespace sweep
