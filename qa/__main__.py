"""`python -m qa`: the command-line interface."""

from qa.cli import main

raise SystemExit(main())
