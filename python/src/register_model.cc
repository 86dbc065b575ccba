// tfreeze._core.Model: load, describe, run and time a frozen graph.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "float_mode.h"
#include "numpy_tensor.h"
#include "registrations.h"
#include "tfreeze/benchmark.h"
#include "tfreeze/errors.h"
#include "session_config.h"
#include "tfreeze/isolated_model.h"
#include "tfreeze/model.h"

namespace py = pybind11;

namespace tfreeze::python {
namespace {

py::list UnsafeOpsToList(const std::vector<UnsafeOp>& found) {
  py::list described;
  for (const UnsafeOp& unsafe : found) {
    py::dict entry;
    entry["node"] = py::bytes(unsafe.node).attr("decode")("utf-8", "replace");
    entry["op"] = py::bytes(unsafe.op).attr("decode")("utf-8", "replace");
    entry["function"] = py::bytes(unsafe.function).attr("decode")("utf-8", "replace");
    entry["reason"] = unsafe.reason;
    described.append(entry);
  }
  return described;
}

py::list Describe(const std::vector<TensorInfo>& infos) {
  py::list described;
  for (const TensorInfo& info : infos) {
    described.append(py::make_tuple(info.name, DTypeName(info.dtype),
                                    py::tuple(py::cast(info.shape)), info.optional));
  }
  return described;
}

// Owns the tensors made from a feed dict for the duration of a call.
struct ConvertedFeeds {
  std::vector<Tensor> tensors;
  std::vector<Feed> feeds;
  std::vector<Span> spans;
};

std::string FeedName(const py::handle& key) {
  if (!py::isinstance<py::str>(key)) {
    throw UnknownNameError("feed keys are input names (str), got " +
                           py::str(py::type::of(key).attr("__name__")).cast<std::string>());
  }
  return key.cast<std::string>();
}

// Copying a misaligned array can run out of memory: say which input it was.
Tensor FeedTensor(const std::string& name, const py::handle& value) {
  try {
    return ArrayToTensor(value);
  } catch (const OutOfMemoryError& error) {
    throw OutOfMemoryError(error.code(), "input \"" + name + "\": " + error.what());
  }
}

ConvertedFeeds ConvertFeeds(const py::dict& feeds) {
  ConvertedFeeds converted;
  // Reserved up front: each Feed keeps a pointer into `tensors`.
  converted.tensors.reserve(feeds.size());
  for (const auto& item : feeds) {
    std::string name = FeedName(item.first);
    const Tensor& tensor = converted.tensors.emplace_back(FeedTensor(name, item.second));
    converted.spans.push_back(SpanOf(tensor));
    converted.feeds.emplace_back(std::move(name), tensor);
  }
  return converted;
}

template <typename AnyModel>
py::list Run(const AnyModel& model, const py::dict& feeds,
             const std::optional<std::vector<std::string>>& fetches) {
  ConvertedFeeds converted = ConvertFeeds(feeds);
  std::vector<Tensor> outputs;
  {
    py::gil_scoped_release release;
    outputs = model.Run(converted.feeds, fetches.value_or(std::vector<std::string>{}));
  }
  py::list arrays;
  for (Tensor& output : outputs) {
    arrays.append(TensorToArray(std::move(output), converted.spans));
  }
  return arrays;
}

py::dict StatsToDict(const LatencyStats& stats) {
  py::dict result;
  result["p50_us"] = stats.p50_us;
  result["p90_us"] = stats.p90_us;
  result["p99_us"] = stats.p99_us;
  result["mean_us"] = stats.mean_us;
  result["stddev_us"] = stats.stddev_us;
  result["min_us"] = stats.min_us;
  result["max_us"] = stats.max_us;
  result["iterations"] = stats.iterations;
  result["samples_us"] = stats.samples_us;
  return result;
}

py::dict RunBenchmark(const Model& model, const py::dict& feeds, int warmup,
                      int iterations, double max_seconds,
                      const std::optional<std::vector<std::string>>& fetches) {
  ConvertedFeeds converted = ConvertFeeds(feeds);
  BenchmarkOptions options;
  options.warmup = warmup;
  options.iterations = iterations;
  options.max_seconds = max_seconds;
  options.fetches = fetches.value_or(std::vector<std::string>{});
  LatencyStats stats;
  {
    py::gil_scoped_release release;
    stats = Benchmark(model, converted.feeds, options);
  }
  return StatsToDict(stats);
}

py::dict Verify(const Model& model) {
  VerifyReport report;
  {
    py::gil_scoped_release release;
    report = model.Verify();
  }
  py::list checks;
  for (const OutputCheck& check : report.checks) {
    py::dict item;
    item["name"] = check.name;
    item["case"] = check.test_case;
    item["shape_ok"] = check.shape_ok;
    item["max_abs"] = check.max_abs;
    item["max_rel"] = check.max_rel;
    item["passed"] = check.passed;
    checks.append(item);
  }
  py::dict result;
  result["passed"] = report.passed;
  result["cases"] = report.cases;
  result["rtol"] = report.rtol;
  result["atol"] = report.atol;
  result["checks"] = checks;
  return result;
}

void RegisterOptions(py::module_& module) {
  py::class_<Options>(module, "Options", "Session options; see tfreeze/options.h.")
      .def(py::init<>())
      .def_readwrite("intra_op_threads", &Options::intra_op_threads)
      .def_readwrite("inter_op_threads", &Options::inter_op_threads)
      .def_readwrite("device", &Options::device)
      .def_readwrite("gpu_allow_growth", &Options::gpu_allow_growth)
      .def_readwrite("gpu_memory_fraction", &Options::gpu_memory_fraction)
      .def_readwrite("visible_devices", &Options::visible_devices)
      .def_readwrite("xla_jit", &Options::xla_jit)
      .def_readwrite("graph_optimizations", &Options::graph_optimizations)
      .def_property(
          "executor", [](const Options& o) { return ExecutorName(o.executor); },
          [](Options& o, const std::string& name) { o.executor = ParseExecutor(name); })
      .def_readwrite("caller_thread", &Options::caller_thread)
      .def_readwrite("allow_unsafe_ops", &Options::allow_unsafe_ops)
      .def_readwrite("allowed_unsafe_ops", &Options::allowed_unsafe_ops)
      .def_readwrite("isolation_memory_limit_bytes", &Options::isolation_memory_limit_bytes)
      .def_readwrite("isolation_cpu_seconds", &Options::isolation_cpu_seconds)
      .def_readwrite("isolation_worker", &Options::isolation_worker)
      .def_readwrite("max_constant_bytes", &Options::max_constant_bytes)
      .def_readwrite("saved_model_tags", &Options::saved_model_tags)
      .def_readwrite("saved_model_signature", &Options::saved_model_signature)
      .def_property(
          "config_proto", [](const Options& o) { return py::bytes(o.config_proto); },
          [](Options& o, const py::bytes& value) { o.config_proto = value; });
  module.def(
      "find_unsafe_ops",
      [](const py::bytes& graph_def) { return UnsafeOpsToList(FindUnsafeOps(std::string(graph_def))); },
      py::arg("graph_def"), "The nodes of a serialized GraphDef whose ops are on the deny list.");
  module.def(
      "unsafe_op_list",
      [] {
        py::list ops;
        for (const DeniedOp& denied : UnsafeOpList()) {
          ops.append(py::make_tuple(denied.op, denied.family, denied.reason));
        }
        return ops;
      },
      "The deny list: (op, family, reason) tuples.");
  module.def(
      "inspect",
      [](const std::string& path) {
        const ModelInfo info = Model::Inspect(path);
        py::dict described;
        described["inputs"] = Describe(info.inputs);
        described["outputs"] = Describe(info.outputs);
        described["unsafe_ops"] = UnsafeOpsToList(info.unsafe_ops);
        py::list expanded;
        for (const ExpandedConstant& constant : info.expanded_constants) {
          py::dict entry;
          entry["node"] = py::bytes(constant.node).attr("decode")("utf-8", "replace");
          entry["op"] = py::bytes(constant.op).attr("decode")("utf-8", "replace");
          entry["function"] = py::bytes(constant.function).attr("decode")("utf-8", "replace");
          entry["attr"] = py::bytes(constant.attr).attr("decode")("utf-8", "replace");
          entry["dtype"] = constant.dtype;
          entry["shape"] = constant.shape;
          entry["bytes_in_file"] = constant.bytes_in_file;
          entry["bytes"] = constant.bytes;
          expanded.append(entry);
        }
        described["expanded_constants"] = expanded;
        described["constant_limit_bytes"] = info.constant_limit_bytes;
        return described;
      },
      py::arg("path"), "Signature and unsafe ops of a frozen .pb, without a session.");
  module.def("tensor_alignment", &Tensor::Alignment,
             "The alignment in bytes of memory TensorFlow takes without a copy.");
  module.def("load_options_file", &LoadOptionsFile, py::arg("path"), py::arg("base"),
             "Options from a `tfreeze tune` config file, on top of `base`.");
  module.def(
      "serialize_config",
      [](const Options& options) { return py::bytes(internal::SerializeConfig(options)); },
      py::arg("options"), "The ConfigProto bytes the options give TensorFlow (for tests).");
  module.def(
      "call_flushing_denormals",
      [](const py::function& function) {
        const internal::ScopedFlushDenormals flush;
        return function();
      },
      py::arg("function"),
      "Calls function() with flush-to-zero and denormals-are-zero set on this thread, as "
      "Model.run runs (and TensorFlow's pool threads always do); the caller's mode is restored.");
}

}  // namespace

void RegisterModel(py::module_& module) {
  RegisterOptions(module);
  py::class_<Model>(module, "Model")
      .def(py::init([](const std::string& path, const Options& options) {
             py::gil_scoped_release release;  // loading can take a while
             return Model::Load(path, options);
           }),
           py::arg("path"), py::arg("options") = Options())
      .def_static(
          "from_bytes",
          [](const py::bytes& graph_def, const Options& options) {
            std::string bytes = graph_def;
            py::gil_scoped_release release;
            return Model::FromBytes(bytes, options);
          },
          py::arg("graph_def"), py::arg("options") = Options())
      .def_property_readonly("inputs", [](const Model& m) { return Describe(m.inputs()); })
      .def_property_readonly("outputs", [](const Model& m) { return Describe(m.outputs()); })
      .def_property_readonly("executor",
                             [](const Model& m) { return ExecutorName(m.executor()); })
      .def("run", &Run<Model>, py::arg("feeds"), py::arg("fetches") = py::none())
      .def("verify", &Verify)
      .def("benchmark", &RunBenchmark, py::arg("feeds"), py::arg("warmup") = 10,
           py::arg("iterations") = 200, py::arg("max_seconds") = 0.0,
           py::arg("fetches") = py::none());
  py::class_<IsolatedModel>(module, "IsolatedModel")
      .def(py::init([](const std::string& path, const Options& options) {
             py::gil_scoped_release release;
             return IsolatedModel::Load(path, options);
           }),
           py::arg("path"), py::arg("options") = Options())
      .def_property_readonly("inputs", [](const IsolatedModel& m) { return Describe(m.inputs()); })
      .def_property_readonly("outputs",
                             [](const IsolatedModel& m) { return Describe(m.outputs()); })
      .def_property_readonly("executor",
                             [](const IsolatedModel& m) { return ExecutorName(m.executor()); })
      .def_property_readonly("worker_pid", &IsolatedModel::worker_pid)
      .def("run", &Run<IsolatedModel>, py::arg("feeds"), py::arg("fetches") = py::none())
      .def("close", &IsolatedModel::Close, py::call_guard<py::gil_scoped_release>());
  module.def(
      "summarize_latencies",
      [](std::vector<double> samples) { return StatsToDict(SummarizeLatencies(std::move(samples))); },
      py::arg("samples_us"), "p50/p90/p99/mean/stddev/min/max of latencies in microseconds.");
}

}  // namespace tfreeze::python
