"""`python -m geoplatform` is the `geoplatform` command."""

from geoplatform.cli import main

main()
