"""Ingest: sources fetch and parse papers; run.py stores them, checkpoints and reports."""
