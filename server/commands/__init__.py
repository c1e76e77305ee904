"""The `fengling` command: its subcommands, the demo data and the WSGI server it runs."""
