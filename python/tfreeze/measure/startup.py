"""Cold start, measured in a fresh process: ``python -m tfreeze.measure.startup RUNNER
MODEL.pb BATCH`` loads the model, runs it once, and prints JSON with the load
time, the time from process start to the first result, and the peak RSS.

RUNNER is ``tfreeze`` (the C++ runtime; TensorFlow's Python package is never
imported) or ``python`` (TensorFlow's session.run on the same .pb).
"""

from __future__ import annotations

import json
import resource
import sys
import time

_STARTED = time.time()  # as early as this module can know


def _peak_rss_mb() -> float:
    """VmHWM: this process image's own peak. (getrusage's ru_maxrss survives
    exec and would report the parent's peak when the parent was larger.)"""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> None:
    runner, path, batch = argv[0], argv[1], int(argv[2])
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    load_start = time.time()
    if runner == "tfreeze":
        import tfreeze

        model = tfreeze.Model(path)
        feeds = model.random_feeds(batch_size=batch)
        loaded = time.time()
        model.run(feeds)
    elif runner == "python":
        from tfreeze.runtime.feeds import random_feeds_for
        from tfreeze.runtime.python_session import PythonSession

        session = PythonSession(path)
        # Every input, optional ones too, as model.random_feeds() gives the other runner.
        feeds = random_feeds_for(session.signature.inputs, batch_size=batch, include_optional=True)
        loaded = time.time()
        session.run(feeds)
    else:
        raise SystemExit(f"unknown runner {runner!r}; runners are: tfreeze, python")
    done = time.time()
    print(
        json.dumps(
            {
                "runner": runner,
                "started_at": _STARTED,
                "load_ms": (loaded - load_start) * 1e3,
                "first_run_ms": (done - loaded) * 1e3,
                "first_result_at": done,
                "peak_rss_mb": _peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
