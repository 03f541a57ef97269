"""plan-analysis: clean, traceable data from Chinese local-government work plans."""

__version__ = "0.1.0"
