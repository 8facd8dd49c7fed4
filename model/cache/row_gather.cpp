// Row gather with a gathered backward; see row_gather.h.
#include "model/cache/row_gather.h"

namespace grpo::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct GatherRowsFunction : public torch::autograd::Function<GatherRowsFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& src, const torch::Tensor& index,
                               const torch::Tensor& inverse, bool has_holes) {
    ctx->save_for_backward({inverse});
    ctx->saved_data["has_holes"] = has_holes;
    ctx->saved_data["rows"] = index.size(0);
    return src.index_select(0, index);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto inverse = ctx->get_saved_variables()[0];
    const bool has_holes = ctx->saved_data["has_holes"].toBool();
    const int64_t rows = ctx->saved_data["rows"].toInt();
    const auto& grad = grads[0];
    const int64_t sources = inverse.size(0), readers = inverse.size(1), width = grad.size(1);
    auto picked = grad.index_select(0, has_holes ? inverse.clamp_max(rows - 1).reshape({-1}) : inverse.reshape({-1}))
                      .view({sources, readers, width});
    if (has_holes) picked = picked * (inverse < rows).unsqueeze(-1).to(grad.scalar_type());
    auto grad_src = readers == 1 ? picked.view({sources, width}) : picked.sum(1);
    return {grad_src, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor gather_rows(const torch::Tensor& src, const torch::Tensor& index, const torch::Tensor& inverse,
                          bool has_holes) {
  return GatherRowsFunction::apply(src, index, inverse, has_holes);
}

}  // namespace grpo::model
