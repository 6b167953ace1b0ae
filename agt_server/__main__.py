"""``python -m agt_server`` runs the server, exactly as the ``agt-server`` command does."""

from agt_server.cli import main

raise SystemExit(main())
