// A row gather whose backward is a gather too. out[j] = src[index[j]]; autograd's own backward of
// index_select scatter-adds the gradient rows with atomics (index_add), the slowest kernel of a
// MoE training step (a few hundred GB/s, and the order of the additions varies run to run).
// When the caller knows the inverse relation — which output rows read each source row — the
// gradient is gathered instead: grad_src[s] = Σ_r grad_out[inverse[s][r]], summed in r order.
// MoE dispatch (each token read by its K expert rows) and combine (each expert row read by at
// most one (token, expert) pair) both have one.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// src [S, H]; index [M] int64 in [0, S); inverse [S, R] int64 in [0, M] listing, for each source
// row, the output rows that read it; an entry M (only where has_holes) reads as a zero row.
torch::Tensor gather_rows(const torch::Tensor& src, const torch::Tensor& index, const torch::Tensor& inverse,
                          bool has_holes);

}  // namespace grpo::model
