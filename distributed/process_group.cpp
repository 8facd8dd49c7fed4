// Rendezvous and collectives over c10d; see process_group.h. The backends compiled in depend on
// the LibTorch build: Gloo where it defines USE_C10D_GLOO and ships the gloo headers (Debian's
// libtorch-dev with libgloo-dev; pip wheels), NCCL where it defines USE_C10D_NCCL (CUDA builds)
// and nccl.h is on the include path (pip: the nvidia-nccl package's include/ folder).
#include "distributed/process_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "core/error.h"

#if defined(USE_C10D_GLOO) && __has_include(<gloo/config.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define GRPO_HAVE_GLOO 1
#endif
#if defined(USE_C10D_NCCL) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>) && \
    __has_include(<nccl.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define GRPO_HAVE_NCCL 1
#endif

namespace grpo::distributed {

struct ProcessGroup::Backend {
  virtual ~Backend() = default;
  virtual void all_reduce_sum(const std::vector<torch::Tensor>& tensors) = 0;
  // Each rank's `local` (equal sizes) into `gathered[rank]`.
  virtual void all_gather(const torch::Tensor& local, std::vector<torch::Tensor>& gathered) = 0;
  virtual void barrier() = 0;
};

namespace {

// c10::Error's what() carries a C++ backtrace; the user needs its first line.
std::string reason(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

std::string seconds(std::chrono::milliseconds t) { return std::to_string(t.count() / 1000.0).substr(0, 5) + " s"; }

// The c10d group of one backend: ProcessGroupGloo and ProcessGroupNCCL share these calls in 1.13
// and 2.x alike (in 2.x they are c10d::Backend subclasses, in 1.13 c10d::ProcessGroup ones).
template <typename Group>
class C10dBackend : public ProcessGroup::Backend {
 public:
  C10dBackend(c10::intrusive_ptr<Group> group, std::string where) : group_(std::move(group)), where_(std::move(where)) {}

  void all_reduce_sum(const std::vector<torch::Tensor>& tensors) override {
    run("all_reduce", [&] {
      std::vector<std::vector<at::Tensor>> inputs;
      inputs.reserve(tensors.size());
      std::vector<decltype(group_->barrier())> works;
      for (const auto& t : tensors) {
        require(t.is_contiguous(), "all_reduce_sum: tensors must be contiguous");
        inputs.push_back({t});
        works.push_back(group_->allreduce(inputs.back()));
      }
      for (auto& work : works) work->wait();
    });
  }

  void all_gather(const torch::Tensor& local, std::vector<torch::Tensor>& gathered) override {
    run("all_gather", [&] {
      std::vector<std::vector<at::Tensor>> outputs{gathered};
      std::vector<at::Tensor> inputs{local};
      group_->allgather(outputs, inputs)->wait();
    });
  }

  void barrier() override {
    run("barrier", [&] { group_->barrier()->wait(); });
  }

 private:
  template <typename Body>
  void run(const char* operation, const Body& body) {
    try {
      body();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(std::string(operation) + " on " + where_ + " failed: " + reason(e) +
                  " (a peer rank has probably exited or is stuck: see its log)");
    }
  }

  c10::intrusive_ptr<Group> group_;
  std::string where_;
};

#ifdef GRPO_HAVE_GLOO
std::shared_ptr<::gloo::transport::Device> gloo_device(const World& world) {
  if (const auto interface = process_environment("GLOO_SOCKET_IFNAME"))
    return c10d::ProcessGroupGloo::createDeviceForInterface(*interface);
  const bool loopback = world.master_addr == "localhost" || world.master_addr.rfind("127.", 0) == 0;
  return loopback ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                  : c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

std::unique_ptr<ProcessGroup::Backend> make_backend(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                                    const RendezvousOptions& options) {
  const std::string where = "rank " + std::to_string(world.rank) + " of " + std::to_string(world.size) + " (" +
                            options.backend + ", timeout " + seconds(options.timeout) + ")";
  if (options.backend == "gloo") {
#ifdef GRPO_HAVE_GLOO
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout);
    gloo_options->devices.push_back(gloo_device(world));
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, world.rank, world.size, gloo_options);
    return std::make_unique<C10dBackend<c10d::ProcessGroupGloo>>(std::move(group), where);
#endif
  } else if (options.backend == "nccl") {
#ifdef GRPO_HAVE_NCCL
    auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
    nccl_options->timeout = options.timeout;
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, world.rank, world.size, nccl_options);
    return std::make_unique<C10dBackend<c10d::ProcessGroupNCCL>>(std::move(group), where);
#endif
  } else {
    throw Error("distributed backend '" + options.backend + "': expected gloo or nccl");
  }
  throw Error("distributed backend '" + options.backend + "' is not compiled into this LibTorch " +
              std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
              " (gloo needs USE_C10D_GLOO and the gloo headers, e.g. Debian's libgloo-dev; nccl a CUDA LibTorch "
              "with USE_C10D_NCCL and nccl.h on the include path)");
}

// Polls the counter `key` until it reaches `target`; false when `timeout` passes first.
bool wait_for_count(c10d::Store& store, const std::string& key, int64_t target, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (store.add(key, 0) < target) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Every rank publishes its fingerprint and reads everyone's, so that every rank sees a
// mismatch and fails with the same message. Rank 0 hosts the store: on a mismatch it waits
// until the others have read every fingerprint before it fails (and takes the store down).
void check_config_fingerprints(c10d::Store& store, const World& world, const RendezvousOptions& options) {
  const auto& mine = options.config_fingerprint;
  store.set("grpo/config/" + std::to_string(world.rank), std::vector<uint8_t>(mine.begin(), mine.end()));
  std::vector<std::string> all;
  for (int r = 0; r < world.size; ++r) {
    const auto bytes = store.get("grpo/config/" + std::to_string(r));
    all.emplace_back(bytes.begin(), bytes.end());
  }
  std::string differing;
  for (int r = 1; r < world.size; ++r)
    if (all[r] != all[0]) differing += (differing.empty() ? "" : ", ") + std::to_string(r);
  if (differing.empty()) return;
  store.add("grpo/config_read", 1);
  if (world.is_main()) wait_for_count(store, "grpo/config_read", world.size, options.timeout);
  throw Error("the ranks disagree on the config: rank(s) " + differing + " resolved a config whose fingerprint differs from " +
              "rank 0's (" + all[0] + "); every rank must run the same config file and overrides (this is rank " +
              std::to_string(world.rank) + ", fingerprint " + mine + ")");
}

}  // namespace

std::chrono::milliseconds timeout_from_environment(const EnvironmentLookup& env) {
  const auto value = env("GRPO_DISTRIBUTED_TIMEOUT_S");
  if (!value) return std::chrono::minutes(5);
  try {
    size_t used = 0;
    const double s = std::stod(*value, &used);
    if (used == value->size() && s > 0) return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
  } catch (const std::exception&) {
  }
  throw Error("environment variable GRPO_DISTRIBUTED_TIMEOUT_S='" + *value + "': expected a number of seconds > 0");
}

Shard shard_of(int64_t n, int rank, int world) {
  require(world >= 1 && rank >= 0 && rank < world && n >= 0,
          "shard_of: expected 0 <= rank < world and n >= 0, got rank " + std::to_string(rank) + " of " +
              std::to_string(world) + ", n " + std::to_string(n));
  const int64_t chunk = (n + world - 1) / world;
  const int64_t begin = std::min(n, chunk * rank);
  return {begin, std::min(n, begin + chunk) - begin};
}

std::string backend_for(const torch::Device& device) { return device.is_cuda() ? "nccl" : "gloo"; }

std::string fingerprint(const std::string& text) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (const unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

ProcessGroup::ProcessGroup(World world, std::unique_ptr<Backend> backend)
    : world_(std::move(world)), backend_(std::move(backend)) {}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::all_reduce_sum(const std::vector<torch::Tensor>& tensors) { backend_->all_reduce_sum(tensors); }

void ProcessGroup::all_gather_shards(const torch::Tensor& flat) {
  require(flat.dim() == 1 && flat.is_contiguous(), "all_gather_shards: expected a contiguous 1-D tensor");
  torch::NoGradGuard no_grad;  // `flat` may be a leaf that requires grad (a float32 model's masters)
  // Gloo has no bfloat16; a gather only moves bits, so bfloat16 travels as float16 of the same bits.
  const auto bits = flat.scalar_type() == torch::kBFloat16 ? flat.view(torch::kFloat16) : flat;
  const int64_t n = bits.numel(), chunk = (n + size() - 1) / size();
  const auto mine = shard_of(n, rank(), size());
  auto local = torch::zeros({chunk}, bits.options());
  local.narrow(0, 0, mine.size).copy_(bits.narrow(0, mine.begin, mine.size));
  std::vector<torch::Tensor> gathered;
  for (int r = 0; r < size(); ++r) gathered.push_back(torch::empty({chunk}, bits.options()));
  backend_->all_gather(local, gathered);
  for (int r = 0; r < size(); ++r) {
    const auto theirs = shard_of(n, r, size());
    if (r != rank()) bits.narrow(0, theirs.begin, theirs.size).copy_(gathered[static_cast<size_t>(r)].narrow(0, 0, theirs.size));
  }
}

void ProcessGroup::barrier() { backend_->barrier(); }

std::unique_ptr<ProcessGroup> rendezvous(const World& world, const RendezvousOptions& options) {
  require(world.distributed(), "rendezvous: a world of one has nothing to join");
  const std::string master = world.master_addr + ":" + std::to_string(world.master_port);
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(world.master_port);
    store_options.isServer = world.is_main();
    store_options.numWorkers = world.size;
    store_options.waitWorkers = true;
    store_options.timeout = options.timeout;
    store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, store_options);
  } catch (const std::exception& e) {
    throw Error("rendezvous at MASTER_ADDR:MASTER_PORT " + master + " failed within " + seconds(options.timeout) +
                " (rank " + std::to_string(world.rank) + " of " + std::to_string(world.size) + "): " + reason(e) +
                (world.is_main() ? " — not every rank joined; check that all were started with the same WORLD_SIZE"
                                 : " — check that rank 0 is running and that MASTER_ADDR is reachable from this host"));
  }
  try {
    check_config_fingerprints(*store, world, options);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error("rendezvous at " + master + ": exchanging config fingerprints failed within " +
                seconds(options.timeout) + ": " + reason(e));
  }
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("grpo/" + options.backend, store);
  try {
    return std::unique_ptr<ProcessGroup>(new ProcessGroup(world, make_backend(prefixed, world, options)));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error("creating the " + options.backend + " process group (rendezvous at " + master + ") failed: " + reason(e));
  }
}

}  // namespace grpo::distributed
