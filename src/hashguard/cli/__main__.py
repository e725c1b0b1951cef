import sys

from hashguard.cli.main import main

sys.exit(main())
