// Owning handles for TensorFlow C API objects: one place for every TF_Delete*.
#ifndef TFREEZE_SRC_TF_HANDLES_H_
#define TFREEZE_SRC_TF_HANDLES_H_

#include <memory>

#include <tensorflow/c/c_api.h>

namespace tfreeze::internal {

template <typename T, void (*Delete)(T*)>
struct CDeleter {
  void operator()(T* handle) const noexcept {
    if (handle != nullptr) Delete(handle);
  }
};

template <typename T, void (*Delete)(T*)>
using CHandle = std::unique_ptr<T, CDeleter<T, Delete>>;

using StatusPtr = CHandle<TF_Status, TF_DeleteStatus>;
using BufferPtr = CHandle<TF_Buffer, TF_DeleteBuffer>;
using GraphPtr = CHandle<TF_Graph, TF_DeleteGraph>;
using TensorPtr = CHandle<TF_Tensor, TF_DeleteTensor>;
using SessionOptionsPtr = CHandle<TF_SessionOptions, TF_DeleteSessionOptions>;
using DeviceListPtr = CHandle<TF_DeviceList, TF_DeleteDeviceList>;
using ImportOptionsPtr =
    CHandle<TF_ImportGraphDefOptions, TF_DeleteImportGraphDefOptions>;

// A session must be closed before it is deleted; the deleter does both.
void CloseAndDeleteSession(TF_Session* session);
using SessionPtr = CHandle<TF_Session, CloseAndDeleteSession>;

inline StatusPtr NewStatus() { return StatusPtr(TF_NewStatus()); }

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_TF_HANDLES_H_
