// How a Model's TensorFlow session is configured.
//
//   tfreeze::Options options;
//   options.intra_op_threads = 1;   // one thread inside each op
//   options.inter_op_threads = 1;   // one op at a time
//   auto model = tfreeze::Model::Load("digits.pb", options);
#ifndef TFREEZE_OPTIONS_H_
#define TFREEZE_OPTIONS_H_

#include <string>

namespace tfreeze {

struct Options {
  // Threads used inside one op (0: TensorFlow picks, usually one per core).
  int intra_op_threads = 0;
  // Ops run in parallel (0: TensorFlow picks).
  int inter_op_threads = 0;
  // A serialized tensorflow.ConfigProto for anything else. Fields set above
  // are appended after it, so they win where both set the same field.
  std::string config_proto;
};

}  // namespace tfreeze

#endif  // TFREEZE_OPTIONS_H_
