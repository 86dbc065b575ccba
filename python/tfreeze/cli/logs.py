"""TensorFlow's own log lines, hidden in the ``tfreeze`` command unless ``--verbose``.

Where they come from (TensorFlow 2.21):

- C++ INFO/WARNING lines (cpu_feature_guard, MLIR, grappler): TensorFlow reads
  ``TF_CPP_MIN_LOG_LEVEL`` once, when its libraries load -> set before that.
- absl's "All log messages before absl::InitializeLog()" notice and the oneDNN
  line: written by static initializers while a library loads, whatever
  ``TF_CPP_MIN_LOG_LEVEL`` says, once for ``tfreeze._core`` (libtensorflow) and
  once more for ``import tensorflow`` (its own copy) -> while those two modules
  load, native stderr goes to a file and only lines that are not TensorFlow's
  INFO/WARNING chatter are written back (errors always show).
- Python: deprecation warnings (tf.compat.v1, tf_keras) and the ``tensorflow``
  and ``absl`` loggers' warnings -> filtered while the command runs.

Only the command line does this, for the duration of ``main``: a program that
does ``import tfreeze`` keeps TensorFlow's logging exactly as it is.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["TENSORFLOW_CHATTER", "tensorflow_logs"]

# absl's notice; INFO/WARNING lines in absl's format (before absl is set up the
# seconds field holds the whole epoch time) or in TensorFlow's older one.
TENSORFLOW_CHATTER = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"
    rb"|[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] "
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IW] )"
)

# The modules whose loading prints TensorFlow's start-up banner.
_NOISY_MODULES = frozenset({"tensorflow", "tfreeze._core"})

_PYTHON_LOGGERS = ("tensorflow", "absl", "h5py")


@contextlib.contextmanager
def _native_stderr_filtered() -> Iterator[None]:
    """Holds what native code writes to fd 2, then writes back all but chatter."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [
                line
                for line in held.read().splitlines(keepends=True)
                if not TENSORFLOW_CHATTER.match(line)
            ]
            if kept:
                os.write(2, b"".join(kept))


class _QuietLoader(importlib.abc.Loader):
    """Loads a module as ``loader`` does, with native stderr filtered."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        with _native_stderr_filtered():  # an extension module's library loads here
            return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        with _native_stderr_filtered():  # a package's __init__ loads its libraries here
            self._loader.exec_module(module)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, ...
        return getattr(self._loader, name)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds the noisy modules as the other finders do, and wraps their loader."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in _NOISY_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


@contextlib.contextmanager
def tensorflow_logs(*, verbose: bool) -> Iterator[None]:
    """Within: TensorFlow's log lines hidden (or, ``verbose``, all shown).
    Child processes inherit TF_CPP_MIN_LOG_LEVEL through the environment."""
    level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        try:
            yield
        finally:
            _restore_environment(level)
        return
    if not (level or "").isdigit() or int(level) < 2:  # a stricter level the user set stays
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    finder = _QuietFinder()
    sys.meta_path.insert(0, finder)
    loggers = {name: logging.getLogger(name) for name in _PYTHON_LOGGERS}
    levels = {name: logger.level for name, logger in loggers.items()}
    try:
        with warnings.catch_warnings():
            for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
                warnings.simplefilter("ignore", category)
            warnings.filterwarnings("ignore", module=r"(tensorflow|tf_keras|keras|absl|h5py)\b")
            for logger in loggers.values():
                logger.setLevel(logging.ERROR)
            yield
    finally:
        sys.meta_path.remove(finder)
        for name, logger in loggers.items():
            logger.setLevel(levels[name])
        _restore_environment(level)


def _restore_environment(level: str | None) -> None:
    if level is None:
        os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
    else:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = level
