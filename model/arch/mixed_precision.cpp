// Flat float32 masters beside the model's parameters; see mixed_precision.h.
#include "model/arch/mixed_precision.h"

#include <unordered_set>

#include "core/error.h"
#include "core/torch/tensor_file.h"
#include "model/io/model_io.h"

namespace grpo::model {
namespace {

// The trainable parameters, each once (a tied weight appears once), split [matrices, vectors].
std::vector<std::vector<torch::Tensor>> trainable_groups(CausalLM& model) {
  std::vector<std::vector<torch::Tensor>> groups(2);
  std::unordered_set<const void*> seen;
  for (auto& p : model->parameters()) {
    if (!p.requires_grad() || !seen.insert(p.unsafeGetTensorImpl()).second) continue;
    groups[p.dim() >= 2 ? 0 : 1].push_back(p);
  }
  return groups;
}

int64_t total_numel(const std::vector<torch::Tensor>& params) {
  int64_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

// Copies the parameters into `flat` and makes each parameter a view of its slice; the gradient
// of each becomes a view of the same slice of `flat_grad`.
void repack(std::vector<torch::Tensor>& params, const torch::Tensor& flat, const torch::Tensor& flat_grad) {
  int64_t offset = 0;
  for (auto& p : params) {
    const int64_t n = p.numel();
    auto slice = flat.narrow(0, offset, n).view(p.sizes());
    slice.copy_(p.detach());
    p.set_data(slice);
    p.mutable_grad() = flat_grad.narrow(0, offset, n).view(p.sizes());
    offset += n;
  }
}

}  // namespace

MasterWeights::MasterWeights(CausalLM& model, std::optional<torch::Dtype> compute_dtype) {
  torch::NoGradGuard no_grad;
  auto groups = trainable_groups(model);
  const auto options = groups[0].empty() ? model->output_weight().options() : groups[0].front().options();
  const auto loaded = options.dtype().toScalarType();
  const auto compute = compute_dtype.value_or(loaded);
  auto supported = [](torch::Dtype d) { return d == torch::kFloat32 || d == torch::kBFloat16 || d == torch::kFloat16; };
  require(supported(loaded) && supported(compute), "master weights: parameters must be float32, bfloat16 or float16");
  for (const auto& params : groups)
    for (const auto& p : params)
      require(p.scalar_type() == loaded && p.device() == options.device(),
              "master weights: every trainable parameter must share one dtype and device");
  mixed_ = compute != torch::kFloat32;
  // The masters first, from the values as loaded; only then may the model lose precision.
  std::vector<torch::Tensor> exact;
  for (const auto& params : groups) {
    auto master = torch::empty({total_numel(params)}, options.dtype(torch::kFloat32));
    int64_t offset = 0;
    for (const auto& p : params) {
      master.narrow(0, offset, p.numel()).copy_(p.detach().reshape({-1}));
      offset += p.numel();
    }
    exact.push_back(master);
  }
  if (compute != loaded) cast_model(model, compute);
  for (size_t g = 0; g < groups.size(); ++g) {
    auto& params = groups[g];
    auto master = exact[g];
    auto master_grad = torch::zeros_like(master);
    if (mixed_) {
      auto compute_buffer = torch::empty({master.numel()}, options.dtype(compute));
      auto compute_grad = torch::zeros_like(compute_buffer);
      repack(params, compute_buffer, compute_grad);  // the parameters as cast: the masters rounded
      compute_.push_back(compute_buffer);
      compute_grads_.push_back(compute_grad);
    } else {
      repack(params, master, master_grad);
    }
    master.requires_grad_(true);
    master.mutable_grad() = master_grad;
    masters_.push_back(master);
    master_grads_.push_back(master_grad);
    owned_begin_.push_back(0);
    owned_size_.push_back(master.numel());
  }
}

void MasterWeights::move_pending_gradients() {
  if (!compute_grads_pending_) return;
  torch::NoGradGuard no_grad;
  for (size_t g = 0; g < masters_.size(); ++g) {
    auto& master_grad = master_grads_[g];
    if (master_grads_hold_sum_) master_grad.add_(compute_grads_[g]);
    else master_grad.copy_(compute_grads_[g]);
    compute_grads_[g].zero_();
  }
  master_grads_hold_sum_ = true;
  compute_grads_pending_ = false;
}

void MasterWeights::backward(const torch::Tensor& loss) {
  move_pending_gradients();
  loss.backward();
  compute_grads_pending_ = mixed_;
}

std::vector<torch::Tensor> MasterWeights::gradients() {
  if (master_grads_hold_sum_) move_pending_gradients();
  std::vector<torch::Tensor> out;
  for (size_t g = 0; g < masters_.size(); ++g)
    out.push_back(mixed_ && !master_grads_hold_sum_ ? compute_grads_[g] : master_grads_[g]);
  return out;
}

void MasterWeights::zero_grad() {
  torch::NoGradGuard no_grad;
  if (!mixed_)
    for (auto& grad : master_grads_) grad.zero_();  // the parameters' own gradients: autograd adds to them
  master_grads_hold_sum_ = false;
  compute_grads_pending_ = false;
  for (auto& g : compute_grads_) g.zero_();
}

void MasterWeights::keep_shard(size_t g, int64_t begin, int64_t size) {
  require(g < masters_.size() && begin >= 0 && size >= 0 && begin + size <= group_numel(g) && !sharded_is(g),
          "master weights: keep_shard(" + std::to_string(g) + ", " + std::to_string(begin) + ", " +
              std::to_string(size) + ") outside the group or called twice");
  owned_begin_[g] = begin;
  owned_size_[g] = size;
  if (!mixed_) return;  // the masters are the weights: nothing to drop
  torch::NoGradGuard no_grad;
  masters_[g] = masters_[g].narrow(0, begin, size).clone().requires_grad_(true);
}

torch::Tensor MasterWeights::owned(size_t g) const {
  if (mixed_) return masters_[g];
  return masters_[g].narrow(0, owned_begin_[g], owned_size_[g]);
}

void MasterWeights::publish() {
  if (!mixed_) return;
  torch::NoGradGuard no_grad;
  for (size_t g = 0; g < masters_.size(); ++g) compute_[g].narrow(0, owned_begin_[g], owned_size_[g]).copy_(masters_[g]);
}

void MasterWeights::save(const std::string& path) const {
  for (size_t g = 0; g < masters_.size(); ++g)
    require(!sharded_is(g), "master weights: save() needs whole groups; gather the shards first");
  write_tensor_list(path, masters_);
}

void MasterWeights::load(const std::string& path) {
  const auto values = read_tensor_list(path, "master weights");
  if (values.size() != masters_.size())
    throw Error(SourceLocation{path, 0, 0}, "master weights hold " + std::to_string(values.size()) +
                                                " groups; this model has " + std::to_string(masters_.size()));
  torch::NoGradGuard no_grad;
  for (size_t g = 0; g < masters_.size(); ++g) {
    if (values[g].numel() != group_numel(g))
      throw Error(SourceLocation{path, 0, 0}, "master weights group " + std::to_string(g) + " holds " +
                                                  std::to_string(values[g].numel()) + " values; this model has " +
                                                  std::to_string(group_numel(g)) + ": saved by another model?");
    if (!mixed_) {
      masters_[g].copy_(values[g]);
      continue;
    }
    masters_[g].copy_(values[g].narrow(0, owned_begin_[g], owned_size_[g]));
    compute_[g].copy_(values[g]);  // every element rounded, the shards of other ranks included
  }
}

}  // namespace grpo::model
