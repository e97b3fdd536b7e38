"""``python -m gust.protoc``: Python code generation with no protoc binary
and no grpcio-tools, checked by running what it writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROTO_DIR = REPO / "examples" / "proto"


def protoc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gust.protoc", *args], cwd=cwd, capture_output=True, text=True)


def run_python(code: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_seed_command_writes_working_modules(tmp_path):
    # The seed's own command line, with gust.protoc for grpc_tools.protoc.
    out = tmp_path / "pb"
    out.mkdir()
    done = protoc(f"-I{PROTO_DIR}", "--python_out=pb", "--pyi_out=pb", "--grpc_python_out=pb",
                  str(PROTO_DIR / "helloworld.proto"), str(PROTO_DIR / "request_streaming.proto"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = sorted(path.name for path in out.iterdir())
    assert names == ["helloworld_pb2.py", "helloworld_pb2.pyi", "helloworld_pb2_grpc.py",
                     "request_streaming_pb2.py", "request_streaming_pb2.pyi", "request_streaming_pb2_grpc.py"]
    # The modules work, with gust as `grpc`: a call through the generated stub.
    printed = run_python(
        "import gust; gust.install_as_grpc()\n"
        "import grpc, concurrent.futures, helloworld_pb2, helloworld_pb2_grpc\n"
        "from request_streaming_pb2 import Data, STARVED\n"
        "assert Data(status=STARVED).status == 3\n"
        "class Greeter(helloworld_pb2_grpc.GreeterServicer):\n"
        "    def SayHello(self, request, context):\n"
        "        return helloworld_pb2.HelloReply(message='Hello, %s!' % request.name)\n"
        "server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=2))\n"
        "helloworld_pb2_grpc.add_GreeterServicer_to_server(Greeter(), server)\n"
        "port = server.add_insecure_port('127.0.0.1:0')\n"
        "server.start()\n"
        "with grpc.insecure_channel('127.0.0.1:%d' % port) as channel:\n"
        "    print(helloworld_pb2_grpc.GreeterStub(channel).SayHello(helloworld_pb2.HelloRequest(name='you')).message)\n"
        "server.stop(0)\n",
        cwd=out,
    )
    assert printed == "Hello, you!\n"


def test_relative_imports_make_the_output_a_package_anywhere(tmp_path):
    protos = tmp_path / "protos"
    protos.mkdir()
    (protos / "common.proto").write_text('syntax = "proto3";\npackage common;\nmessage Money { int64 cents = 1; }\n')
    (protos / "shop.proto").write_text(
        'syntax = "proto3";\npackage shop;\nimport "common.proto";\n'
        "message Order { common.Money total = 1; }\n"
        "service Shop { rpc Place(Order) returns (Order); }\n"
    )
    gen = tmp_path / "app" / "gen"
    gen.mkdir(parents=True)
    (tmp_path / "app" / "__init__.py").write_text("")
    (gen / "__init__.py").write_text("")
    done = protoc("-Iprotos", "--python_out=app/gen", "--grpc_python_out=app/gen", "--relative_imports",
                  "protos/common.proto", "protos/shop.proto", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = run_python(
        "import sys\n"
        "from app.gen import shop_pb2, shop_pb2_grpc\n"
        "print(shop_pb2.Order(total={'cents': 5}).total.cents)\n"
        "print('common_pb2' in sys.modules)\n",
        cwd=tmp_path,
    )
    assert printed == "5\nFalse\n", "imported as app.gen.common_pb2, not as a top-level module"


def test_a_virtual_include_path_names_the_package(tmp_path):
    # The seed's `-Ipb=./protobuf`: files under ./protobuf become pb/...
    (tmp_path / "protobuf").mkdir()
    (tmp_path / "protobuf" / "users.proto").write_text('syntax = "proto3";\nmessage User { string name = 1; }\n')
    done = protoc("-Ipb=./protobuf", "--python_out=.", "--grpc_python_out=.", "./protobuf/users.proto", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "pb" / "users_pb2.py").is_file()
    assert run_python("from pb import users_pb2; print(users_pb2.User(name='a').name)", cwd=tmp_path) == "a\n"


def test_errors_name_the_file_line_and_column(tmp_path):
    (tmp_path / "broken.proto").write_text('syntax = "proto3";\nmessage Broken {\n  int32 x = ;\n}\n')
    done = protoc("-I.", "--python_out=.", "broken.proto", cwd=tmp_path)
    assert done.returncode == 1
    assert "broken.proto:3:" in done.stderr, done.stderr
    assert not (tmp_path / "broken_pb2.py").exists()
    missing_output = protoc("-I.", "broken.proto", cwd=tmp_path)
    assert missing_output.returncode == 2
