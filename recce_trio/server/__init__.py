"""The HTTP server: the Quart-Trio app, its lifecycle (load, build, swap), the API routes, serving.

Importing this package is cheap: the web stack is imported by ``server.app`` and ``server.serve``,
so the CLI can start the decoder processes (``server.decoders``) before paying for it.
"""
