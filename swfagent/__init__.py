"""swfagent: run existing batch scripts as AWS Simple Workflow (SWF) workflows."""

__version__ = "0.2.0"
