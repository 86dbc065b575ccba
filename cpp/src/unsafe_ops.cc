// The deny list: ops that reach outside the model. One table, one place; each
// entry says why. Sources: every op this TensorFlow registers, screened by name
// and by inputs and attributes that carry paths or addresses, kernels read where
// that was not conclusive (docs/research/unsafe-ops.md). saved_model_cli's scan
// list (ReadFile, WriteFile, PrintV2) is a subset. TensorFlow's own SECURITY.md
// says it plainly: models are programs.
#include "unsafe_ops.h"

#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include "tfreeze/errors.h"
#include "tfreeze/safety.h"

namespace tfreeze {

const std::vector<DeniedOp>& UnsafeOpList() {
  static const std::vector<DeniedOp> list = {
    // checkpoint: Checkpoints: read and write files named by a tensor.
    {"DTensorRestoreV2", "checkpoint", "reads tensors from the checkpoint at the prefix given as input"},
    {"GenerateVocabRemapping", "checkpoint", "reads the two vocabulary files named by its inputs"},
    {"LoadAndRemapMatrix", "checkpoint", "reads a matrix from the checkpoint path given as input"},
    {"MergeV2Checkpoints", "checkpoint", "reads, writes and may delete checkpoint files and directories"},
    {"Restore", "checkpoint", "reads tensors from checkpoint files matching an input pattern"},
    {"RestoreSlice", "checkpoint", "reads tensors from checkpoint files matching an input pattern"},
    {"RestoreV2", "checkpoint", "reads tensors from the checkpoint at the prefix given as input"},
    {"Save", "checkpoint", "writes a checkpoint file at the path given by its filename input"},
    {"SaveSlices", "checkpoint", "writes a checkpoint file at the path given by its filename input"},
    {"SaveV2", "checkpoint", "writes checkpoint shards under the prefix given as input"},
    // dataset_execution: Running tf.data pipelines: would open whatever files or services the dataset names.
    {"AnonymousIterator", "dataset_execution", "creates an iterator that runs a tf.data pipeline"},
    {"AnonymousIteratorV2", "dataset_execution", "creates an iterator that runs a tf.data pipeline"},
    {"AnonymousIteratorV3", "dataset_execution", "creates an iterator that runs a tf.data pipeline"},
    {"AnonymousMultiDeviceIterator", "dataset_execution", "creates an iterator that runs a tf.data pipeline"},
    {"AnonymousMultiDeviceIteratorV3", "dataset_execution", "creates an iterator that runs a tf.data pipeline"},
    {"DatasetFromGraph", "dataset_execution", "builds a dataset from a serialized GraphDef; hides nested ops"},
    {"DatasetToSingleElement", "dataset_execution", "runs a whole dataset pipeline inside one op"},
    {"DeserializeIterator", "dataset_execution", "restores iterator state; may reopen its source files"},
    {"GetElementAtIndex", "dataset_execution", "runs a whole dataset pipeline inside one op"},
    {"InitializeTableFromDataset", "dataset_execution", "runs a whole dataset pipeline inside one op"},
    {"Iterator", "dataset_execution", "creates an iterator that runs a tf.data pipeline"},
    {"IteratorFromStringHandle", "dataset_execution", "looks up an iterator resource by a string handle"},
    {"IteratorFromStringHandleV2", "dataset_execution", "looks up an iterator resource by a string handle"},
    {"IteratorGetNext", "dataset_execution", "pulls elements from a pipeline (runs its source ops)"},
    {"IteratorGetNextAsOptional", "dataset_execution", "pulls elements from a pipeline (runs its source ops)"},
    {"IteratorGetNextSync", "dataset_execution", "pulls elements from a pipeline (runs its source ops)"},
    {"IteratorV2", "dataset_execution", "creates an iterator that runs a tf.data pipeline"},
    {"MakeIterator", "dataset_execution", "starts a tf.data pipeline, which may read files/network"},
    {"MultiDeviceIterator", "dataset_execution", "creates an iterator that runs a tf.data pipeline"},
    {"MultiDeviceIteratorFromStringHandle", "dataset_execution", "looks up an iterator resource by a string handle"},
    {"MultiDeviceIteratorGetNextFromShard", "dataset_execution", "pulls elements from a pipeline (runs its source ops)"},
    {"MultiDeviceIteratorInit", "dataset_execution", "starts a tf.data pipeline, which may read files/network"},
    {"OneShotIterator", "dataset_execution", "builds a dataset from a function and iterates it"},
    {"ReduceDataset", "dataset_execution", "runs a whole dataset pipeline inside one op"},
    // dataset_file: tf.data sources and sinks that open, list, write or cache files.
    {"CSVDataset", "dataset_file", "dataset that reads the files named by its filenames input"},
    {"CSVDatasetV2", "dataset_file", "dataset that reads the files named by its filenames input"},
    {"CacheDataset", "dataset_file", "non-empty filename input caches elements to files / reads them"},
    {"CacheDatasetV2", "dataset_file", "non-empty filename input caches elements to files / reads them"},
    {"DatasetToTFRecord", "dataset_file", "writes a dataset to a TFRecord file named by its input"},
    {"ExperimentalCSVDataset", "dataset_file", "dataset that reads the files named by its filenames input"},
    {"ExperimentalDatasetToTFRecord", "dataset_file", "writes a dataset to a TFRecord file named by its input"},
    {"ExperimentalLMDBDataset", "dataset_file", "dataset that opens LMDB database files named by its input"},
    {"ExperimentalMatchingFilesDataset", "dataset_file", "dataset of file paths matching a glob pattern"},
    {"ExperimentalSqlDataset", "dataset_file", "dataset that opens an SQLite database and runs a query on it"},
    {"FixedLengthRecordDataset", "dataset_file", "dataset that reads the files named by its filenames input"},
    {"FixedLengthRecordDatasetV2", "dataset_file", "dataset that reads the files named by its filenames input"},
    {"LMDBDataset", "dataset_file", "dataset that opens LMDB database files named by its input"},
    {"ListSnapshotChunksDataset", "dataset_file", "lists snapshot chunk files under a directory given as input"},
    {"LoadDataset", "dataset_file", "reads a dataset saved under the path given as input"},
    {"MatchingFilesDataset", "dataset_file", "dataset of file paths matching a glob pattern"},
    {"SaveDataset", "dataset_file", "writes a dataset to files under the path given as input"},
    {"SaveDatasetV2", "dataset_file", "writes a dataset to files under the path given as input"},
    {"SnapshotChunkDataset", "dataset_file", "reads snapshot shard/chunk files from a path given as input"},
    {"SnapshotDataset", "dataset_file", "writes or reads snapshot files under a path given as input"},
    {"SnapshotDatasetReader", "dataset_file", "reads snapshot shard/chunk files from a path given as input"},
    {"SnapshotDatasetV2", "dataset_file", "writes or reads snapshot files under a path given as input"},
    {"SqlDataset", "dataset_file", "dataset that opens an SQLite database and runs a query on it"},
    {"TFRecordDataset", "dataset_file", "dataset that reads the files named by its filenames input"},
    {"TFRecordDatasetV2", "dataset_file", "dataset that reads the files named by its filenames input"},
    {"TextLineDataset", "dataset_file", "dataset that reads the files named by its filenames input"},
    // dataset_network: tf.data service and streaming sources: talk to other hosts.
    {"DataServiceDataset", "dataset_network", "connects to a tf.data service dispatcher at an input address"},
    {"DataServiceDatasetV2", "dataset_network", "connects to a tf.data service dispatcher at an input address"},
    {"DataServiceDatasetV3", "dataset_network", "connects to a tf.data service dispatcher at an input address"},
    {"DataServiceDatasetV4", "dataset_network", "connects to a tf.data service dispatcher at an input address"},
    {"DistributedSave", "dataset_network", "contacts a dispatcher and writes a snapshot to a directory"},
    {"KafkaDataset", "dataset_network", "consumes Kafka topics over the network (TF1 contrib op)"},
    {"RegisterDataset", "dataset_network", "sends a dataset graph to a tf.data dispatcher at an address"},
    {"RegisterDatasetV2", "dataset_network", "sends a dataset graph to a tf.data dispatcher at an address"},
    // debug: tfdbg probes and dumps: write to debug URLs or files.
    {"CalibrationStatisticsSaver", "debug", "opens and writes the file named by attr output_file_path"},
    {"DebugIdentity", "debug", "publishes tensors to attr debug_urls (file:// dumps, grpc:// streams)"},
    {"DebugIdentityV2", "debug", "tfdbg2: writes tensors as debug events under a file:// dump root"},
    {"DebugIdentityV3", "debug", "publishes tensors to attr debug_urls (file:// dumps, grpc:// streams)"},
    {"DebugNanCount", "debug", "publishes tensors to attr debug_urls (file:// dumps, grpc:// streams)"},
    {"DebugNumericSummary", "debug", "publishes tensors to attr debug_urls (file:// dumps, grpc:// streams)"},
    {"DebugNumericSummaryV2", "debug", "tfdbg2 probe; no I/O itself, only ever inserted by the debugger"},
    {"DumpTensor", "debug", "creates a directory and writes tensor protos to a path from attrs"},
    // distributed: Cross-device and cross-process traffic: no place in a stored inference graph.
    {"CollectiveAllToAllV2", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveAllToAllV3", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveBcastRecv", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveBcastRecvV2", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveBcastSend", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveBcastSendV2", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveGather", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveGatherV2", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveInitializeCommunicator", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveReduce", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveReduceScatterV2", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveReduceV2", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"CollectiveReduceV3", "distributed", "collective op: exchanges tensors with other workers/devices"},
    {"Recv", "distributed", "rendezvous transfer; crosses workers in a cluster session"},
    {"RemoteCall", "distributed", "runs a function on a device/job named by its target input"},
    {"Send", "distributed", "rendezvous transfer; crosses workers in a cluster session"},
    {"WorkerHeartbeat", "distributed", "worker control message; can trigger a worker shutdown"},
    {"_HostRecv", "distributed", "rendezvous transfer; crosses workers in a cluster session"},
    {"_HostSend", "distributed", "rendezvous transfer; crosses workers in a cluster session"},
    {"_Recv", "distributed", "rendezvous transfer; crosses workers in a cluster session"},
    {"_Send", "distributed", "rendezvous transfer; crosses workers in a cluster session"},
    // file_io: Raw filesystem access.
    {"DecodeProtoV2", "file_io", "attr descriptor_source may name a file read as a FileDescriptorSet"},
    {"EncodeProto", "file_io", "attr descriptor_source may name a file read as a FileDescriptorSet"},
    {"FileSystemSetConfiguration", "file_io", "changes process-wide filesystem plugin settings (e.g. GCS/S3)"},
    {"FixedUnigramCandidateSampler", "file_io", "reads the vocabulary file named in attr vocab_file"},
    {"GcsConfigureBlockCache", "file_io", "configures GCS block cache of the process (TF1 contrib op)"},
    {"GcsConfigureCredentials", "file_io", "installs GCS credentials in the process (TF1 contrib op)"},
    {"ImmutableConst", "file_io", "memory-maps the file named in attr memory_region_name"},
    {"MatchingFiles", "file_io", "globs the filesystem; reveals which paths exist"},
    {"ReadFile", "file_io", "reads the whole file named by its filename input"},
    {"RecordInput", "file_io", "reads record files matching attr file_pattern in background threads"},
    {"Skipgram", "file_io", "reads a text corpus from the path in attr filename"},
    {"WriteFile", "file_io", "creates/overwrites the file named by its filename input"},
    // lookup_table_file: Tables filled from a text file when the model loads.
    {"InitializeTableFromTextFile", "lookup_table_file", "fills a lookup table from a text file named by its input"},
    {"InitializeTableFromTextFileV2", "lookup_table_file", "fills a lookup table from a text file named by its input"},
    // print: PrintV2 is refused only with a "file://" output_stream (checked by attribute).
    {"PrintV2", "print", "attr output_stream 'file://PATH' appends tensor text to that file"},
    // process: Ends the host process.
    {"Abort", "process", "terminates the process (LOG(FATAL) or exit(0))"},
    // python: Calls Python in the host process.
    {"EagerPyFunc", "python", "calls a Python function registered in the host process"},
    {"PyFunc", "python", "calls a Python function registered in the host process"},
    {"PyFuncStateless", "python", "calls a Python function registered in the host process"},
    // reader: TF1 queue-based readers: open the files their queue names.
    {"BigQueryReader", "reader", "reads rows from BigQuery over the network (TF1 contrib op)"},
    {"FixedLengthRecordReader", "reader", "TF1 reader that opens the files named by its work queue"},
    {"FixedLengthRecordReaderV2", "reader", "TF1 reader that opens the files named by its work queue"},
    {"GenerateBigQueryReaderPartitions", "reader", "reads rows from BigQuery over the network (TF1 contrib op)"},
    {"IdentityReader", "reader", "TF1 reader; opens no file itself, denied with the reader family"},
    {"IdentityReaderV2", "reader", "TF1 reader; opens no file itself, denied with the reader family"},
    {"LMDBReader", "reader", "TF1 reader that opens LMDB database files named by its queue"},
    {"ReaderNumRecordsProduced", "reader", "operates on a file reader resource (state, reset, counters)"},
    {"ReaderNumRecordsProducedV2", "reader", "operates on a file reader resource (state, reset, counters)"},
    {"ReaderNumWorkUnitsCompleted", "reader", "operates on a file reader resource (state, reset, counters)"},
    {"ReaderNumWorkUnitsCompletedV2", "reader", "operates on a file reader resource (state, reset, counters)"},
    {"ReaderRead", "reader", "drives a reader: pulls filenames from a queue and reads them"},
    {"ReaderReadUpTo", "reader", "drives a reader: pulls filenames from a queue and reads them"},
    {"ReaderReadUpToV2", "reader", "drives a reader: pulls filenames from a queue and reads them"},
    {"ReaderReadV2", "reader", "drives a reader: pulls filenames from a queue and reads them"},
    {"ReaderReset", "reader", "operates on a file reader resource (state, reset, counters)"},
    {"ReaderResetV2", "reader", "operates on a file reader resource (state, reset, counters)"},
    {"ReaderRestoreState", "reader", "operates on a file reader resource (state, reset, counters)"},
    {"ReaderRestoreStateV2", "reader", "operates on a file reader resource (state, reset, counters)"},
    {"ReaderSerializeState", "reader", "operates on a file reader resource (state, reset, counters)"},
    {"ReaderSerializeStateV2", "reader", "operates on a file reader resource (state, reset, counters)"},
    {"TFRecordReader", "reader", "TF1 reader that opens the files named by its work queue"},
    {"TFRecordReaderV2", "reader", "TF1 reader that opens the files named by its work queue"},
    {"TextLineReader", "reader", "TF1 reader that opens the files named by its work queue"},
    {"TextLineReaderV2", "reader", "TF1 reader that opens the files named by its work queue"},
    {"WholeFileReader", "reader", "TF1 reader that opens the files named by its work queue"},
    {"WholeFileReaderV2", "reader", "TF1 reader that opens the files named by its work queue"},
    // rpc: gRPC clients and servers.
    {"DeleteRpcFutureResource", "rpc", "reads status/results of an outstanding RPC"},
    {"Rpc", "rpc", "sends a request to an arbitrary address over RPC (TF1 op)"},
    {"RpcCall", "rpc", "issues a remote call through an RPC client"},
    {"RpcCheckStatus", "rpc", "reads status/results of an outstanding RPC"},
    {"RpcClient", "rpc", "opens a gRPC client to an address given as input"},
    {"RpcGetValue", "rpc", "reads status/results of an outstanding RPC"},
    {"RpcServer", "rpc", "starts a gRPC server listening on an address given as input"},
    {"RpcServerRegister", "rpc", "registers a function to serve over an RPC server"},
    {"RpcServerStart", "rpc", "starts serving on an RPC server resource"},
    {"TryRpc", "rpc", "sends a request to an arbitrary address over RPC (TF1 op)"},
    // summary: Summary writers: event files and databases.
    {"CloseSummaryWriter", "summary", "writes to (or flushes/closes) a summary writer's event file"},
    {"CreateSummaryDbWriter", "summary", "creates a writer backed by an SQLite database at input db_uri"},
    {"CreateSummaryFileWriter", "summary", "creates an event-file writer in a log directory given as input"},
    {"FlushSummaryWriter", "summary", "writes to (or flushes/closes) a summary writer's event file"},
    {"ImportEvent", "summary", "writes to (or flushes/closes) a summary writer's event file"},
    {"StatsAggregatorSetSummaryWriter", "summary", "routes tf.data statistics into a summary writer (event files)"},
    {"SummaryWriter", "summary", "summary writer resource whose writes end up in files"},
    {"WriteAudioSummary", "summary", "writes to (or flushes/closes) a summary writer's event file"},
    {"WriteGraphSummary", "summary", "writes to (or flushes/closes) a summary writer's event file"},
    {"WriteHistogramSummary", "summary", "writes to (or flushes/closes) a summary writer's event file"},
    {"WriteImageSummary", "summary", "writes to (or flushes/closes) a summary writer's event file"},
    {"WriteRawProtoSummary", "summary", "writes to (or flushes/closes) a summary writer's event file"},
    {"WriteScalarSummary", "summary", "writes to (or flushes/closes) a summary writer's event file"},
    {"WriteSummary", "summary", "writes to (or flushes/closes) a summary writer's event file"},
  };
  return list;
}

namespace internal {
namespace {

const std::unordered_map<std::string_view, const char*>& ReasonByOp() {
  static const auto* reasons = [] {
    auto* map = new std::unordered_map<std::string_view, const char*>();
    for (const DeniedOp& denied : UnsafeOpList()) (*map)[denied.op] = denied.reason;
    return map;
  }();
  return *reasons;
}

// tf.print writes to stderr or a log by default: only a file target is unsafe.
bool PrintsToAFile(const ScannedNode& node) {
  const std::string_view stream = AttrString(Attr(node.node_def, "output_stream"));
  return stream.rfind("file://", 0) == 0;
}

}  // namespace

const char* UnsafeReason(const ScannedNode& node) {
  const auto found = ReasonByOp().find(node.op);
  if (found == ReasonByOp().end()) return nullptr;
  if (node.op == "PrintV2" && !PrintsToAFile(node)) return nullptr;
  return found->second;
}

}  // namespace internal

std::vector<UnsafeOp> FindUnsafeOps(std::string_view graph_def) {
  std::vector<UnsafeOp> found;
  try {
    internal::ForEachNode(graph_def, [&](const internal::ScannedNode& node) {
      if (const char* reason = internal::UnsafeReason(node)) {
        found.push_back({std::string(node.name), std::string(node.op),
                         std::string(node.function), reason});
      }
    });
  } catch (const Error&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw LoadError(Code::kInvalidArgument,
                    std::string("not a GraphDef that tfreeze can read: ") + e.what());
  }
  return found;
}

}  // namespace tfreeze
