#include "worker_protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace tfreeze::internal {

namespace {

// The classes a Model call throws, most derived first, so the host can
// rethrow the same one.
enum class ErrorClass : std::uint8_t {
  kError, kLoad, kUnsafeOp, kFileNotFound, kDevice,
  kInput, kUnknownName, kDType, kShape, kRun, kOther,
  kConstantTooLarge, kOutOfMemory,
};

ErrorClass ClassOf(const std::exception& error) {
  // The worker's own allocations (a request's tensors) run out as Run's do.
  if (dynamic_cast<const std::bad_alloc*>(&error)) return ErrorClass::kOutOfMemory;
  if (dynamic_cast<const ConstantTooLargeError*>(&error)) return ErrorClass::kConstantTooLarge;
  if (dynamic_cast<const OutOfMemoryError*>(&error)) return ErrorClass::kOutOfMemory;
  if (dynamic_cast<const FileNotFoundError*>(&error)) return ErrorClass::kFileNotFound;
  if (dynamic_cast<const DeviceError*>(&error)) return ErrorClass::kDevice;
  if (dynamic_cast<const UnsafeOpError*>(&error)) return ErrorClass::kUnsafeOp;
  if (dynamic_cast<const LoadError*>(&error)) return ErrorClass::kLoad;
  if (dynamic_cast<const UnknownNameError*>(&error)) return ErrorClass::kUnknownName;
  if (dynamic_cast<const DTypeError*>(&error)) return ErrorClass::kDType;
  if (dynamic_cast<const ShapeError*>(&error)) return ErrorClass::kShape;
  if (dynamic_cast<const InputError*>(&error)) return ErrorClass::kInput;
  if (dynamic_cast<const RunError*>(&error)) return ErrorClass::kRun;
  if (dynamic_cast<const Error*>(&error)) return ErrorClass::kError;
  return ErrorClass::kOther;
}

}  // namespace

void WireWriter::U32(std::uint32_t value) {
  for (int i = 0; i < 4; ++i) U8(static_cast<std::uint8_t>(value >> (8 * i)));
}

void WireWriter::I64(std::int64_t value) {
  const auto bits = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) U8(static_cast<std::uint8_t>(bits >> (8 * i)));
}

void WireWriter::Bytes(std::string_view value) {
  I64(static_cast<std::int64_t>(value.size()));
  bytes_.append(value);
}

void WireWriter::Strings(const std::vector<std::string>& values) {
  U32(static_cast<std::uint32_t>(values.size()));
  for (const std::string& value : values) Bytes(value);
}

void WireWriter::WriteTensor(const Tensor& tensor) {
  U32(static_cast<std::uint32_t>(tensor.dtype()));
  U32(static_cast<std::uint32_t>(tensor.shape().size()));
  for (std::int64_t dim : tensor.shape()) I64(dim);
  if (tensor.dtype() == DType::kString) {
    Strings(tensor.ToStrings());
  } else {
    Bytes({static_cast<const char*>(tensor.raw_data()), tensor.byte_size()});
  }
}

void WireWriter::Infos(const std::vector<TensorInfo>& infos) {
  U32(static_cast<std::uint32_t>(infos.size()));
  for (const TensorInfo& info : infos) {
    Bytes(info.name);
    U32(static_cast<std::uint32_t>(info.dtype));
    U32(static_cast<std::uint32_t>(info.shape.size()));
    for (std::int64_t dim : info.shape) I64(dim);
    U8(info.optional ? 1 : 0);
  }
}

void WireWriter::WriteOptions(const Options& options) {
  I64(options.intra_op_threads);
  I64(options.inter_op_threads);
  Bytes(options.device);
  U8(options.gpu_allow_growth);
  std::int64_t fraction_bits;
  std::memcpy(&fraction_bits, &options.gpu_memory_fraction, sizeof fraction_bits);
  I64(fraction_bits);
  Bytes(options.visible_devices);
  U8(options.xla_jit);
  U32(static_cast<std::uint32_t>(options.executor));
  U8(options.caller_thread);
  U8(options.allow_unsafe_ops);
  Strings(options.allowed_unsafe_ops);
  U8(options.graph_optimizations);
  Strings(options.saved_model_tags);
  Bytes(options.saved_model_signature);
  Bytes(options.config_proto);
  I64(static_cast<std::int64_t>(options.max_constant_bytes));
}

void WireWriter::WriteError(const std::exception& error) {
  U8(static_cast<std::uint8_t>(ClassOf(error)));
  const auto* typed = dynamic_cast<const Error*>(&error);
  const bool out_of_memory = dynamic_cast<const std::bad_alloc*>(&error) != nullptr;
  U32(static_cast<std::uint32_t>(typed          ? typed->code()
                                 : out_of_memory ? Code::kResourceExhausted
                                                 : Code::kInternal));
  Bytes(out_of_memory ? std::string("the worker ran out of memory (std::bad_alloc)")
                      : std::string(error.what()));
}

std::string_view WireReader::Take(std::size_t count) {
  if (count > rest_.size()) {
    throw Error(Code::kDataLoss, "tfreeze worker: truncated message");
  }
  std::string_view taken = rest_.substr(0, count);
  rest_.remove_prefix(count);
  return taken;
}

std::uint8_t WireReader::U8() { return static_cast<std::uint8_t>(Take(1)[0]); }

std::uint32_t WireReader::U32() {
  std::string_view bytes = Take(4);
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= std::uint32_t{static_cast<std::uint8_t>(bytes[i])} << (8 * i);
  return value;
}

std::int64_t WireReader::I64() {
  std::string_view bytes = Take(8);
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= std::uint64_t{static_cast<std::uint8_t>(bytes[i])} << (8 * i);
  return static_cast<std::int64_t>(value);
}

std::string WireReader::Bytes() {
  const std::int64_t size = I64();
  if (size < 0) throw Error(Code::kDataLoss, "tfreeze worker: negative length");
  return std::string(Take(static_cast<std::size_t>(size)));
}

std::vector<std::string> WireReader::Strings() {
  std::vector<std::string> values(U32());
  for (std::string& value : values) value = Bytes();
  return values;
}

Tensor WireReader::ReadTensor() {
  const auto dtype = static_cast<DType>(U32());
  Shape shape(U32());
  for (std::int64_t& dim : shape) dim = I64();
  if (dtype == DType::kString) return Tensor::FromStrings(std::move(shape), Strings());
  const std::int64_t size = I64();
  std::string_view bytes = Take(static_cast<std::size_t>(size));
  Tensor tensor(dtype, std::move(shape));
  if (bytes.size() != tensor.byte_size()) {
    throw Error(Code::kDataLoss, "tfreeze worker: tensor size does not match its shape");
  }
  if (!bytes.empty()) std::memcpy(tensor.raw_data(), bytes.data(), bytes.size());
  return tensor;
}

std::vector<TensorInfo> WireReader::Infos() {
  std::vector<TensorInfo> infos(U32());
  for (TensorInfo& info : infos) {
    info.name = Bytes();
    info.dtype = static_cast<DType>(U32());
    info.shape.resize(U32());
    for (std::int64_t& dim : info.shape) dim = I64();
    info.optional = U8() != 0;
  }
  return infos;
}

Options WireReader::ReadOptions() {
  Options options;
  options.intra_op_threads = static_cast<int>(I64());
  options.inter_op_threads = static_cast<int>(I64());
  options.device = Bytes();
  options.gpu_allow_growth = U8() != 0;
  const std::int64_t fraction_bits = I64();
  std::memcpy(&options.gpu_memory_fraction, &fraction_bits, sizeof fraction_bits);
  options.visible_devices = Bytes();
  options.xla_jit = U8() != 0;
  options.executor = static_cast<Executor>(U32());
  options.caller_thread = U8() != 0;
  options.allow_unsafe_ops = U8() != 0;
  options.allowed_unsafe_ops = Strings();
  options.graph_optimizations = U8() != 0;
  options.saved_model_tags = Strings();
  options.saved_model_signature = Bytes();
  options.config_proto = Bytes();
  options.max_constant_bytes = static_cast<std::uint64_t>(I64());
  return options;
}

void WireReader::ThrowError() {
  const auto kind = static_cast<ErrorClass>(U8());
  const auto code = static_cast<Code>(U32());
  const std::string message = Bytes();
  switch (kind) {
    case ErrorClass::kLoad: throw LoadError(code, message);
    case ErrorClass::kUnsafeOp: throw UnsafeOpError(code, message);
    case ErrorClass::kFileNotFound: throw FileNotFoundError(code, message);
    case ErrorClass::kDevice: throw DeviceError(code, message);
    case ErrorClass::kInput: throw InputError(message);
    case ErrorClass::kUnknownName: throw UnknownNameError(message);
    case ErrorClass::kDType: throw DTypeError(message);
    case ErrorClass::kShape: throw ShapeError(message);
    case ErrorClass::kRun: throw RunError(code, message);
    case ErrorClass::kConstantTooLarge: throw ConstantTooLargeError(code, message);
    case ErrorClass::kOutOfMemory: throw OutOfMemoryError(code, message);
    case ErrorClass::kError: throw Error(code, message);
    case ErrorClass::kOther: break;
  }
  throw Error(code, "tfreeze worker: " + message);
}

bool SendFrame(int fd, const std::string& payload) {
  WireWriter header;
  header.I64(static_cast<std::int64_t>(payload.size()));
  for (const std::string* part : {&header.bytes(), &payload}) {
    const char* data = part->data();
    std::size_t left = part->size();
    while (left > 0) {
      // MSG_NOSIGNAL: a dead peer is an error to report, not a SIGPIPE.
      const ssize_t sent = send(fd, data, left, MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent <= 0) return false;
      data += sent;
      left -= static_cast<std::size_t>(sent);
    }
  }
  return true;
}

namespace {

// Fills `count` bytes; false on end of stream or error.
bool ReadFully(int fd, char* data, std::size_t count) {
  while (count > 0) {
    const ssize_t got = read(fd, data, count);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    data += got;
    count -= static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace

bool ReceiveFrame(int fd, std::string* payload) {
  char header[8];
  if (!ReadFully(fd, header, sizeof header)) return false;
  const std::int64_t size = WireReader(std::string_view(header, sizeof header)).I64();
  if (size < 0) return false;
  payload->resize(static_cast<std::size_t>(size));
  return ReadFully(fd, payload->data(), payload->size());
}

}  // namespace tfreeze::internal
