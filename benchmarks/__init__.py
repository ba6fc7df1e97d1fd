"""Algorithm benchmarks for the routing kernels (``python -m benchmarks.run``).

Not part of the installed package; see ``benchmarks/README.md``.
"""
