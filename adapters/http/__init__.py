"""The web console (issue 11): an HTTP adapter on the engine, served by `rexian serve --http`.

Every page and JSON API is authenticated (domain/access): a bearer token for programs, a
login page that turns a staff token into a server-side session for people. The console only
reads; commands stay on the CLI and gRPC, which carry the catalogue's validation.
"""
