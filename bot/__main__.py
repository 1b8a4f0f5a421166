"""`python -m bot` does what `pulsebot` does."""

from bot.cli import main

raise SystemExit(main())
