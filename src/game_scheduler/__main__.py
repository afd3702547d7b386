"""`python -m game_scheduler` runs the same CLI as the `game-scheduler` script."""

from game_scheduler.cli import main

raise SystemExit(main())
