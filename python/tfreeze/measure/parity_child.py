"""``python -m tfreeze.measure.parity_child MODEL.pb FOLDER THREADS``: the C++
and Python runs of one .pb in a fresh process, same ConfigProto, on the feeds
in FOLDER/feeds.npz; writes FOLDER/cpp.npz and FOLDER/python.npz. Started by
check_parity when the two differ in the caller's process."""

from __future__ import annotations

import os
import sys

import numpy as np


def main(argv: list[str]) -> int:
    pb_path, folder, threads = argv[0], argv[1], int(argv[2])
    from tfreeze.measure.parity import python_run, same_session_config
    from tfreeze.runtime.model import Model

    feeds = dict(np.load(os.path.join(folder, "feeds.npz"), allow_pickle=True))
    # The caller loaded this file under its own unsafe-op policy before starting us.
    model = Model(
        pb_path, intra_op_threads=threads, inter_op_threads=threads, allow_unsafe_ops=True
    )
    cpp = model.run(feeds)  # C++ first, as in check_parity
    python = python_run(pb_path, feeds, same_session_config(threads, model.executor), True)
    np.savez(os.path.join(folder, "cpp.npz"), **cpp)
    np.savez(os.path.join(folder, "python.npz"), **python)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
