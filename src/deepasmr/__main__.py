import sys

from deepasmr.cli import main

sys.exit(main())
