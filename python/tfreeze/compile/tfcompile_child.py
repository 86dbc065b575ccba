"""Runs TensorFlow's tfcompile, in a process of its own, once per request
(one per batch size; TensorFlow loads once):
``python -m tfreeze.compile.tfcompile_child REQUESTS.json``.

tfcompile can abort the process it runs in (a CHECK failure in XLA); the
parent (``xla.py``) turns that, or a compile error printed here, into one line.
"""

from __future__ import annotations

import json
import os
import sys

# Single-threaded kernels: the generated code then runs in the caller's
# thread without an Eigen pool (what saved_model_cli's aot_compile_cpu does).
# No YNNPACK fusions: AOT code cannot hold them ("Unsupported thunk type:
# ynn-fusion", seen on a GRU model). A user's own XLA_FLAGS come after and win.
_FLAGS = "--xla_cpu_multi_thread_eigen=false --xla_cpu_experimental_ynn_fusion_type="
os.environ["XLA_FLAGS"] = f"{_FLAGS} {os.environ.get('XLA_FLAGS', '')}".strip()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(requests_path: str) -> int:
    with open(requests_path) as file:
        requests = json.load(file)
    for request in requests:
        if not _compile(request):
            return 3
    return 0


def _compile(request: dict) -> bool:
    from tensorflow.python import _pywrap_tfcompile

    prefix = request["prefix"]
    try:
        _pywrap_tfcompile.Compile(
            graph=request["graph"],
            config=request["config"],
            cpp_class=request["cpp_class"],
            target_triple="x86_64-pc-linux",
            target_cpu="",
            target_features=request["target_features"],
            entry_point=request["entry_point"],
            out_function_object=prefix + ".o",
            out_header=prefix + ".h",
            out_metadata_object=prefix + "_metadata.o",
            out_constant_buffers_object=prefix + "_constants.o",
            out_session_module="",
            mlir_components="",
            gen_name_to_index=True,
            gen_program_shape=False,
        )
    except (ValueError, RuntimeError) as error:
        print(f"tfcompile: {error}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
