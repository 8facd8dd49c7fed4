// The model's Linear: torch::nn::Linear's initialisation for one seed, the same values and
// gradients as torch::linear under autograd (with and without bias, 3-D input), and the weight
// and bias gradients added into existing gradient buffers (MasterWeights' layout) in place.
#include "model/arch/linear.h"

#include <gtest/gtest.h>

namespace grpo::model {
namespace {

TEST(Linear, InitialisesAsTorchLinearForOneSeed) {
  torch::manual_seed(5);
  Linear ours(12, 7, true);
  torch::manual_seed(5);
  torch::nn::Linear theirs(torch::nn::LinearOptions(12, 7).bias(true));
  EXPECT_TRUE(torch::equal(ours->weight, theirs->weight));
  EXPECT_TRUE(torch::equal(ours->bias, theirs->bias));
  EXPECT_EQ(Linear(3, 2, false)->named_parameters().size(), 1u);  // no "bias" entry to save or load
}

TEST(Linear, ValuesAndGradientsEqualTorchLinear) {
  for (const bool with_bias : {true, false}) {
    SCOPED_TRACE(with_bias ? "bias" : "no bias");
    torch::manual_seed(1);
    Linear layer(6, 5, with_bias);
    const auto x0 = torch::randn({2, 3, 6});
    const auto g = torch::randn({2, 3, 5});
    auto x = x0.clone().requires_grad_(true);
    auto y = layer(x);
    (y * g).sum().backward();

    auto w = layer->weight.detach().clone().requires_grad_(true);
    auto b = with_bias ? layer->bias.detach().clone().requires_grad_(true) : torch::Tensor();
    auto x_ref = x0.clone().requires_grad_(true);
    auto y_ref = torch::linear(x_ref, w, b);
    (y_ref * g).sum().backward();
    EXPECT_TRUE(torch::allclose(y, y_ref));
    EXPECT_TRUE(torch::allclose(x.grad(), x_ref.grad(), 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(layer->weight.grad(), w.grad(), 1e-5, 1e-6));
    if (with_bias) EXPECT_TRUE(torch::allclose(layer->bias.grad(), b.grad(), 1e-5, 1e-6));
  }
}

TEST(Linear, GradientsAreAddedIntoExistingBuffersInPlace) {
  torch::manual_seed(2);
  Linear layer(4, 3, true);
  // One flat buffer holding both gradients, pre-filled as by an earlier micro-batch.
  auto flat = torch::full({12 + 3}, 0.25f);
  layer->weight.mutable_grad() = flat.narrow(0, 0, 12).view({3, 4});
  layer->bias.mutable_grad() = flat.narrow(0, 12, 3);
  const auto x = torch::randn({5, 4});
  const auto g = torch::randn({5, 3});
  (layer(x) * g).sum().backward();
  EXPECT_EQ(layer->weight.grad().data_ptr(), flat.data_ptr());  // still the buffer's view
  EXPECT_TRUE(torch::allclose(flat.narrow(0, 0, 12).view({3, 4}), 0.25 + g.t().mm(x), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(flat.narrow(0, 12, 3), 0.25 + g.sum(0), 1e-5, 1e-6));
}

TEST(Linear, WithoutAutogradItIsPlainLinear) {
  torch::manual_seed(3);
  Linear layer(4, 3, true);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 4});
  const auto y = layer(x);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(torch::equal(y, torch::linear(x, layer->weight, layer->bias)));
}

}  // namespace
}  // namespace grpo::model
