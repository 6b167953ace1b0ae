"""agt_server: an AGT agent server (Avaya Proactive Contact / POM) with POM's Agent Preferred Campaigns."""

__version__ = "0.1.0"
