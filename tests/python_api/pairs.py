"""The implementation pairs the API tests run on, and the loader of
grpcio-tools stubs for either implementation.

They live here rather than in conftest.py so that test modules can import
them: every test directory has a conftest.py, and `from conftest import`
gets whichever directory's conftest pytest loaded last.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import grpc

import gust

IMPLEMENTATIONS = {"gust": gust, "grpcio": grpc}
PAIRS = [(server, client) for server in IMPLEMENTATIONS for client in IMPLEMENTATIONS]


def load_stub(stubs: Path, name: str, grpc_module):
    """Imports the generated module `name` (e.g. "fibonacci_pb2_grpc") with
    `import grpc` giving `grpc_module`, under a name of its own, so that the
    same stubs can run on gust and on grpcio in one process."""
    if str(stubs) not in sys.path:
        sys.path.insert(0, str(stubs))
    alias = f"{name}__{grpc_module.__name__}"
    if alias in sys.modules:
        return sys.modules[alias]
    importlib.import_module(grpc_module.__name__ + ".experimental")
    importlib.import_module(grpc_module.__name__ + "._utilities")
    spec = importlib.util.spec_from_file_location(alias, stubs / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    saved = {key: sys.modules.get(key) for key in ("grpc", "grpc._utilities", "grpc.experimental")}
    try:
        sys.modules["grpc"] = grpc_module
        sys.modules["grpc._utilities"] = grpc_module._utilities
        sys.modules["grpc.experimental"] = grpc_module.experimental
        spec.loader.exec_module(module)
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value
    sys.modules[alias] = module
    return module
