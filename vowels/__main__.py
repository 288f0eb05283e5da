"""`python -m vowels` runs the `vowels` command."""

import sys

from .cli import main

sys.exit(main())
