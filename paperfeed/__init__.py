"""paperfeed: a self-hostable research-paper discovery service.

Importing the package has no side effects: no settings are read, no database is opened.
"""

__version__ = "0.1.0"
