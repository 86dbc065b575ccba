"""The child process that freezes a Keras 2 (tf_keras) .h5 file: started by
``freeze_in_child`` with ``TF_USE_LEGACY_KERAS=1``, it runs the same pipeline
as the parent and prints stage names, then the report or a one-line error, on
stdout.

    python -m tfreeze.freezer.legacy_child MODEL.h5 OUT.pb  < options.json
"""

from __future__ import annotations

import json
import sys

from tfreeze.errors import FreezeError
from tfreeze.freezer.pipeline import freeze_opened, stage_failure
from tfreeze.freezer.sources.base import FreezeOptions, Stages, first_line
from tfreeze.freezer.sources.legacy_keras import (
    ERROR_PREFIX,
    LOAD_ERROR_PREFIX,
    REPORT_PREFIX,
    STAGE_PREFIX,
    open_legacy_model,
)


def main() -> int:
    path, output_path = sys.argv[1:3]
    options = FreezeOptions(**json.loads(sys.stdin.read()))
    import tensorflow as tf

    stages = Stages(lambda name: print(STAGE_PREFIX + name, flush=True))
    with stages("load"):
        try:
            model = tf.keras.models.load_model(path, compile=False)
        except Exception as error:  # the parent may try Keras 3's loader instead
            print(f"{LOAD_ERROR_PREFIX}{type(error).__name__}: {first_line(error)}", flush=True)
            return 2
    try:
        opened = open_legacy_model(model, options, stages)
        try:
            report = freeze_opened(opened, output_path, options, stages)
        finally:
            opened.close()
    except (FreezeError, OSError, TypeError, ValueError) as error:
        print(ERROR_PREFIX + " ".join(str(error).split()), flush=True)
        return 2
    except Exception as error:  # TensorFlow's own, e.g. running the graph to verify
        print(ERROR_PREFIX + str(stage_failure(stages, error)), flush=True)
        return 2
    print(REPORT_PREFIX + report.to_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
