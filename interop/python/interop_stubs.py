"""Generate the grpc.testing stubs for the grpcio interop peer at run time.

The protos live in ``interop/proto/grpc/testing/*.proto`` (package
``grpc.testing``). Compiled as they are, protoc would name the Python modules
``grpc.testing.test_pb2`` and friends, which collides with grpcio's own
``grpc`` package. So the protos are copied into a temporary directory under the
prefix ``gust_interop_pb/`` (their ``import`` lines rewritten to match) and
compiled there with ``python -m grpc_tools.protoc``. Only file paths change:
the proto package, the service and method names, and so the wire format, stay
exactly those of the public interop protos. Nothing generated is written into
the repository; the directory is removed when the process exits.

Environment:
  GUST_INTEROP_PROTO_DIR  proto root to compile (default: <repo>/interop/proto)
"""

import atexit
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

PREFIX = "gust_interop_pb"
_HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_DIR = os.path.join(os.path.dirname(_HERE), "proto")


def _proto_files(root):
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".proto"):
                found.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(found)


def load():
    """Compile the interop protos and return (empty_pb2, messages_pb2, test_pb2_grpc, test_pb2)."""
    root = os.environ.get("GUST_INTEROP_PROTO_DIR", DEFAULT_PROTO_DIR)
    wanted = [os.path.join("grpc", "testing", f"{n}.proto") for n in ("empty", "messages", "test")]
    for rel in wanted:
        if not os.path.isfile(os.path.join(root, rel)):
            raise SystemExit(f"interop stubs: missing {os.path.join(root, rel)}")

    out = tempfile.mkdtemp(prefix="gust-interop-py-")
    atexit.register(shutil.rmtree, out, True)
    src = os.path.join(out, "src")
    files = _proto_files(root)
    imp = re.compile(r'^(\s*import\s+(?:public\s+|weak\s+)?")([^"]+)(";)', re.M)
    for rel in files:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        # Point imports of our own protos at their prefixed copies; leave
        # well-known imports (google/protobuf/...) alone.
        text = imp.sub(
            lambda m: m.group(1) + (f"{PREFIX}/" + m.group(2) if m.group(2) in files else m.group(2)) + m.group(3),
            text,
        )
        dest = os.path.join(src, PREFIX, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w", encoding="utf-8") as f:
            f.write(text)

    gen = os.path.join(out, "gen")
    os.makedirs(gen)
    cmd = [
        sys.executable, "-m", "grpc_tools.protoc", f"-I{src}",
        f"--python_out={gen}", f"--grpc_python_out={gen}",
    ] + [os.path.join(PREFIX, rel) for rel in files]
    proc = subprocess.run(cmd, cwd=src, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"interop stubs: protoc failed ({proc.returncode}):\n{proc.stderr}")
    sys.path.insert(0, gen)
    pkg = f"{PREFIX}.grpc.testing"
    return (
        importlib.import_module(f"{pkg}.empty_pb2"),
        importlib.import_module(f"{pkg}.messages_pb2"),
        importlib.import_module(f"{pkg}.test_pb2_grpc"),
        importlib.import_module(f"{pkg}.test_pb2"),
    )
