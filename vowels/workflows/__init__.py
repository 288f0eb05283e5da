"""The library calls the command line, the server and the reports make: open a model, train, classify, evaluate."""
