import sys

from tiaojie.cli import main

sys.exit(main())
