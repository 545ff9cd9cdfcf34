"""``python -m kb``: the knowledge base's command line (see kb/cli.py for commands and exit codes)."""

from kb.cli import main

raise SystemExit(main())
