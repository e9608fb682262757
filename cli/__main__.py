"""`python -m cli` runs the extramile command."""

from cli.main import main

main()
