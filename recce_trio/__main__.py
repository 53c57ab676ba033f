"""`python -m recce_trio` runs the command line."""

from recce_trio.cli import main

main()
