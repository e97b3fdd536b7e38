"""``python -m gust program.py [args...]``: runs a program written for
grpcio on gust, unchanged.

``import grpc`` (in the program and in the stubs grpcio-tools generated)
gives gust: see ``gust.install_as_grpc``. The program runs as ``__main__``
with ``sys.argv`` set to ``[program.py, args...]`` and its directory first on
``sys.path``, as ``python program.py`` would run it. ``-m module`` runs a
module instead of a file.
"""

import os
import runpy
import sys

import gust


def main():
    usage = "usage: python -m gust program.py [args...]  |  python -m gust -m module [args...]"
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(usage, file=sys.stderr if not args else sys.stdout)
        sys.exit(2 if not args else 0)
    gust.install_as_grpc()
    if args[0] == "-m":
        if len(args) < 2:
            print(usage, file=sys.stderr)
            sys.exit(2)
        sys.argv = args[1:]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        return
    program = args[0]
    sys.argv = args
    sys.path[0] = os.path.dirname(os.path.abspath(program))
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main()
