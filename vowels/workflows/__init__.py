"""The one layer the command line, the server and the reports go through to reach the library."""
