// The messages between IsolatedModel and its worker process (tfreeze-worker).
//
// Each message is a frame: an 8-byte little-endian length, then the payload.
// Payloads are built from u8/u32/i64 (little-endian), byte strings (u64
// length + bytes) and tensors (u32 dtype, u32 rank, i64 dims, then the raw
// bytes as one string, or for string tensors one string per element).
//
//   host -> worker: Load  {path, options}      worker -> host: Ok {inputs, outputs, executor}
//   host -> worker: Run   {feeds, fetches}     worker -> host: Ok {tensors}
//   any reply may instead be Error {class, code, message}.
#ifndef TFREEZE_SRC_WORKER_PROTOCOL_H_
#define TFREEZE_SRC_WORKER_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tfreeze/errors.h"
#include "tfreeze/model.h"
#include "tfreeze/options.h"
#include "tfreeze/tensor.h"

namespace tfreeze::internal {

enum class Request : std::uint8_t { kLoad = 1, kRun = 2 };
enum class Reply : std::uint8_t { kOk = 0, kError = 1 };

class WireWriter {
 public:
  void U8(std::uint8_t value) { bytes_.push_back(static_cast<char>(value)); }
  void U32(std::uint32_t value);
  void I64(std::int64_t value);
  void Bytes(std::string_view value);
  void Strings(const std::vector<std::string>& values);
  void WriteTensor(const Tensor& tensor);
  void Infos(const std::vector<TensorInfo>& infos);
  void WriteOptions(const Options& options);
  // Error {class, code, message} for any exception a Model call throws.
  void WriteError(const std::exception& error);
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// Reads what WireWriter wrote; Error on a truncated or malformed payload.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : rest_(bytes) {}
  std::uint8_t U8();
  std::uint32_t U32();
  std::int64_t I64();
  std::string Bytes();
  std::vector<std::string> Strings();
  Tensor ReadTensor();
  std::vector<TensorInfo> Infos();
  Options ReadOptions();
  // Throws the error class WriteError recorded.
  [[noreturn]] void ThrowError();

 private:
  std::string_view Take(std::size_t count);
  std::string_view rest_;
};

// Whole frames over a stream socket. Send returns false when the peer is gone;
// Receive returns false on a clean end of stream before a frame starts.
bool SendFrame(int fd, const std::string& payload);
bool ReceiveFrame(int fd, std::string* payload);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_WORKER_PROTOCOL_H_
