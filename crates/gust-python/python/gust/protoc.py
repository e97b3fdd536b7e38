"""``python -m gust.protoc``: what ``python -m grpc_tools.protoc`` does for
Python, with no protoc binary and no grpcio-tools.

    python -m gust.protoc -I protos --python_out=pb --pyi_out=pb \\
        --grpc_python_out=pb protos/helloworld.proto

writes ``helloworld_pb2.py`` (messages, on the official ``protobuf``
runtime), ``helloworld_pb2.pyi`` (type stubs) and ``helloworld_pb2_grpc.py``
(stubs and servicers, the same names as grpcio-tools').

``--relative_imports`` makes generated modules import each other relative to
their package (``from . import x_pb2``), so the output directory can be a
package anywhere in a project: the well-known "generated modules expect to be
at the project root" problem goes away.

``-Ivirtual=real`` maps a directory to a virtual import path, as protoc does
(``-Ipb=./protos`` generates ``pb/x_pb2.py`` importing ``pb.x_pb2``).
"""

import argparse
import os
import sys
import tempfile

from gust import _gust


def _parser():
    parser = argparse.ArgumentParser(prog="python -m gust.protoc", description=__doc__.split("\n\n")[0])
    parser.add_argument("-I", "--proto_path", dest="includes", action="append", default=[], metavar="DIR")
    parser.add_argument("--python_out", metavar="DIR")
    parser.add_argument("--pyi_out", metavar="DIR")
    parser.add_argument("--grpc_python_out", metavar="DIR")
    parser.add_argument("--relative_imports", action="store_true")
    parser.add_argument("files", nargs="+", metavar="FILE")
    return parser


def _map_virtual_includes(includes, files, workdir):
    """Turns protoc's ``-Ivirtual=real`` into a real directory: a link named
    ``virtual`` to ``real`` inside ``workdir``. Files given under ``real``
    are renamed under ``virtual``."""
    mapped_includes, renames = [], []
    for include in includes:
        if "=" not in include:
            mapped_includes.append(include)
            continue
        virtual, real = include.split("=", 1)
        link = os.path.join(workdir, virtual)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.abspath(real), link)
        if workdir not in mapped_includes:
            mapped_includes.append(workdir)
        renames.append((os.path.abspath(real), virtual))
    mapped_files = []
    for name in files:
        absolute = os.path.abspath(name)
        for real, virtual in renames:
            if absolute.startswith(real + os.sep):
                name = os.path.join(virtual, os.path.relpath(absolute, real))
                break
        mapped_files.append(name)
    return mapped_includes, mapped_files


def main(argv=None):
    args = _parser().parse_args(argv)
    outputs = {"python": args.python_out, "pyi": args.pyi_out, "grpc_python": args.grpc_python_out}
    if not any(outputs.values()):
        print("error: give at least one of --python_out, --pyi_out, --grpc_python_out", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as workdir:
        includes, files = _map_virtual_includes(args.includes or ["."], args.files, workdir)
        try:
            generated = _gust.generate_python(
                files,
                includes,
                messages=bool(args.python_out),
                type_stubs=bool(args.pyi_out),
                grpc=bool(args.grpc_python_out),
                relative_imports=args.relative_imports,
            )
        except ValueError as error:
            print("error: %s" % error, file=sys.stderr)
            return 1
    for output, path, content in generated:
        target = os.path.join(outputs[output], path)
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target, "w", encoding="utf-8") as file:
            file.write(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
