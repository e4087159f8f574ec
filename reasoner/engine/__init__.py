"""The decision engine: models compiled to ASP facts, clingo run on the encodings
(`encodings/`, shipped as `reasoner.encodings`), decisions read back. Imports only `policy`."""
