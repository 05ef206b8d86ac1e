"""`python -m paperfeed` runs the command-line interface."""

from paperfeed.cli import main

main()
