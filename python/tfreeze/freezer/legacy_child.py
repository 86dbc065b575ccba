"""The child process that freezes a Keras 2 (tf_keras) .h5 file: started by
``freeze_in_child`` with ``TF_USE_LEGACY_KERAS=1``, it runs the same pipeline
as the parent and prints stage names and the report on stdout.

    python -m tfreeze.freezer.legacy_child MODEL.h5 OUT.pb  < options.json
"""

from __future__ import annotations

import json
import sys

from tfreeze.freezer.pipeline import freeze_opened
from tfreeze.freezer.sources.base import FreezeOptions, Stages
from tfreeze.freezer.sources.legacy_keras import REPORT_PREFIX, STAGE_PREFIX, open_legacy_model


def main() -> int:
    path, output_path = sys.argv[1:3]
    options = FreezeOptions(**json.loads(sys.stdin.read()))
    import tensorflow as tf

    stages = Stages(lambda name: print(STAGE_PREFIX + name, flush=True))
    with stages("load"):
        model = tf.keras.models.load_model(path, compile=False)
    opened = open_legacy_model(model, options, stages)
    try:
        report = freeze_opened(opened, output_path, options, stages)
    finally:
        opened.close()
    print(REPORT_PREFIX + report.to_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
