"""Outgoing mail: one backend chosen by the `mail_url` setting."""
