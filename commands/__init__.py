"""What each `cchc` command does between its options (cli.py) and the library (engine/, reports/,
web/): calls in order, the terminal's tables and lines. The engine never imports this package."""
