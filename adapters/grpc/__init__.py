"""The gRPC adapter: contract in proto/ (buf), generated code in adapters/grpc/gen.

* `server.serve_grpc(engine, address)` runs TicketService, DepartmentFeedService,
  AuditService and TelephonyService plus health checking and reflection.
* `client.RemoteEngine(address)` is the CLI's remote mode (`rexian --grpc HOST:PORT ...`).
* The generated code is committed (a fresh clone needs no codegen); `make proto`
  regenerates it and `make test` fails when it is stale (adapters/grpc/codegen.py).
"""
