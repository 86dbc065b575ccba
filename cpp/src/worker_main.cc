// tfreeze-worker: the child process behind tfreeze::IsolatedModel.
//
// Started by the host with the protocol socket as file descriptor 3 and
// stderr going to a file the host reads after a crash. Arguments: the memory
// limit in bytes and the CPU-time limit in seconds (0: none). It loads the
// model the first request names, then answers Run requests until the socket
// closes. Not meant to be run by hand.
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>

#include "tfreeze/model.h"
#include "worker_protocol.h"

namespace {

constexpr int kSocket = 3;

// `hard_extra` above the soft limit: RLIMIT_CPU's soft limit sends SIGXCPU,
// the hard one SIGKILL; the former tells the host which limit it was.
void Limit(int resource, rlim_t value, rlim_t hard_extra = 0) {
  if (value == 0) return;
  const rlimit limit{value, value + hard_extra};
  setrlimit(resource, &limit);
}

std::string Answer(std::optional<tfreeze::Model>& model, const std::string& request) {
  using tfreeze::internal::Reply;
  using tfreeze::internal::Request;
  tfreeze::internal::WireReader reader(request);
  tfreeze::internal::WireWriter reply;
  try {
    const auto kind = static_cast<Request>(reader.U8());
    if (kind == Request::kLoad) {
      const std::string path = reader.Bytes();
      model.emplace(tfreeze::Model::Load(path, reader.ReadOptions()));
      reply.U8(static_cast<std::uint8_t>(Reply::kOk));
      reply.Infos(model->inputs());
      reply.Infos(model->outputs());
      reply.U32(static_cast<std::uint32_t>(model->executor()));
      return reply.bytes();
    }
    if (kind != Request::kRun || !model) {
      throw tfreeze::Error(tfreeze::Code::kInternal, "tfreeze worker: unexpected request");
    }
    std::vector<tfreeze::Tensor> tensors;
    std::vector<tfreeze::Feed> feeds;
    const std::uint32_t count = reader.U32();
    tensors.reserve(count);  // each Feed points into `tensors`
    for (std::uint32_t i = 0; i < count; ++i) {
      std::string name = reader.Bytes();
      feeds.emplace_back(std::move(name), tensors.emplace_back(reader.ReadTensor()));
    }
    const std::vector<tfreeze::Tensor> outputs = model->Run(feeds, reader.Strings());
    reply.U8(static_cast<std::uint8_t>(Reply::kOk));
    reply.U32(static_cast<std::uint32_t>(outputs.size()));
    for (const tfreeze::Tensor& output : outputs) reply.WriteTensor(output);
    return reply.bytes();
  } catch (const std::exception& error) {
    tfreeze::internal::WireWriter failure;
    failure.U8(static_cast<std::uint8_t>(Reply::kError));
    failure.WriteError(error);
    return failure.bytes();
  }
}

}  // namespace

int main(int argc, char** argv) {
#ifdef __linux__
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the host
#endif
  if (argc != 3) return 2;
  Limit(RLIMIT_AS, std::strtoull(argv[1], nullptr, 10));
  Limit(RLIMIT_CPU, std::strtoull(argv[2], nullptr, 10), 1);
  std::optional<tfreeze::Model> model;
  std::string request;
  while (tfreeze::internal::ReceiveFrame(kSocket, &request)) {
    if (!tfreeze::internal::SendFrame(kSocket, Answer(model, request))) return 1;
  }
  return 0;
}
