import sys

from tfreeze.cli import main

sys.exit(main())
