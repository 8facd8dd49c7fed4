// TensorBoard Event messages and event files; see event_writer.h for the field numbers.
#include "core/tensorboard/event_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/error.h"
#include "core/tensorboard/protobuf_wire.h"
#include "core/tensorboard/tf_record.h"

namespace grpo::tensorboard {
namespace {

// Field numbers of TensorBoard's protos (event_writer.h lists them with their messages).
constexpr int kEventWallTime = 1, kEventStep = 2, kEventFileVersion = 3, kEventSummary = 5, kEventSessionLog = 7;
constexpr int kSummaryValue = 1;
constexpr int kValueTag = 1, kValueSimpleValue = 2, kValueHisto = 5, kValueTensor = 8, kValueMetadata = 9;
constexpr int kHistoMin = 1, kHistoMax = 2, kHistoNum = 3, kHistoSum = 4, kHistoSumSquares = 5, kHistoBucketLimit = 6,
              kHistoBucket = 7;
constexpr int kMetadataPluginData = 1, kPluginDataName = 1;
constexpr int kTensorDtype = 1, kTensorShape = 2, kTensorStringVal = 8;
constexpr int kShapeDim = 2, kDimSize = 1;
constexpr int kSessionLogStatus = 1;
constexpr uint64_t kDtypeString = 7, kSessionStart = 1;

ProtoMessage event_header(int64_t step, double wall_time) {
  ProtoMessage event;
  event.fixed64(kEventWallTime, wall_time).varint(kEventStep, static_cast<uint64_t>(step));
  return event;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw Error(SourceLocation{path.string(), 0, 0}, what + ": " + std::strerror(errno));
}

}  // namespace

std::string file_version_event(double wall_time) {
  ProtoMessage event;
  event.fixed64(kEventWallTime, wall_time).bytes(kEventFileVersion, "brain.Event:2");
  return event.encoded();
}

std::string scalars_event(int64_t step, double wall_time, const std::vector<std::pair<std::string, double>>& scalars) {
  ProtoMessage summary;
  for (const auto& [tag, value] : scalars) {
    ProtoMessage v;
    v.bytes(kValueTag, tag).fixed32(kValueSimpleValue, static_cast<float>(value));
    summary.message(kSummaryValue, v);
  }
  return event_header(step, wall_time).message(kEventSummary, summary).encoded();
}

std::string histograms_event(int64_t step, double wall_time,
                             const std::vector<std::pair<std::string, Histogram>>& histograms) {
  ProtoMessage summary;
  for (const auto& [tag, h] : histograms) {
    ProtoMessage histo, v;
    histo.fixed64(kHistoMin, h.min).fixed64(kHistoMax, h.max).fixed64(kHistoNum, h.num).fixed64(kHistoSum, h.sum);
    histo.fixed64(kHistoSumSquares, h.sum_squares)
        .packed_doubles(kHistoBucketLimit, h.bucket_limit)
        .packed_doubles(kHistoBucket, h.bucket);
    v.bytes(kValueTag, tag).message(kValueHisto, histo);
    summary.message(kSummaryValue, v);
  }
  return event_header(step, wall_time).message(kEventSummary, summary).encoded();
}

std::string text_event(int64_t step, double wall_time, const std::string& tag, const std::vector<std::string>& rows) {
  ProtoMessage plugin, metadata, dim, shape, tensor, value, summary;
  plugin.bytes(kPluginDataName, "text");
  metadata.message(kMetadataPluginData, plugin);
  dim.varint(kDimSize, rows.size());
  shape.message(kShapeDim, dim);
  tensor.varint(kTensorDtype, kDtypeString).message(kTensorShape, shape);
  for (const auto& row : rows) tensor.bytes(kTensorStringVal, row);
  value.bytes(kValueTag, tag).message(kValueTensor, tensor).message(kValueMetadata, metadata);
  summary.message(kSummaryValue, value);
  return event_header(step, wall_time).message(kEventSummary, summary).encoded();
}

std::string session_start_event(int64_t step, double wall_time) {
  ProtoMessage session;
  session.varint(kSessionLogStatus, kSessionStart);
  return event_header(step, wall_time).message(kEventSessionLog, session).encoded();
}

EventFileWriter::EventFileWriter(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(SourceLocation{dir.string(), 0, 0}, "cannot create the TensorBoard directory: " + ec.message());
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string base = "events.out.tfevents." + std::to_string(static_cast<long long>(now)) + "." + host_name();
  for (int attempt = 0;; ++attempt) {
    path_ = dir / (attempt == 0 ? base : base + "." + std::to_string(attempt));
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      file_ = ::fdopen(fd, "wb");
      if (!file_) {
        ::close(fd);
        fail(path_, "cannot open the event file");
      }
      break;
    }
    if (errno != EEXIST) fail(path_, "cannot create the event file");
  }
  write(file_version_event(now));
  flush();
}

EventFileWriter::~EventFileWriter() {
  if (file_) std::fclose(file_);
}

void EventFileWriter::write(const std::string& event) {
  const std::string record = tf_record(event);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size()) fail(path_, "cannot write the event file");
}

void EventFileWriter::flush() {
  if (std::fflush(file_) != 0) fail(path_, "cannot write the event file");
}

}  // namespace grpo::tensorboard
