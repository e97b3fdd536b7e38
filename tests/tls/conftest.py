"""Fixtures of the TLS interoperability tests (see README.md here): a CA
and the certificates it signs, made with the openssl command for each run
(no key material is kept in the repository), and the peers' programs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


class Certs:
    """PEM files in one directory: `ca.pem`; `server.pem`/`server.key` for
    localhost, 127.0.0.1, ::1 and foo.test; `client.pem`/`client.key`
    (alice); and `other-ca.pem`, a CA that signed none of them."""

    def __init__(self, directory: Path):
        self.dir = directory

    def __getitem__(self, name: str) -> str:
        """The path of the file `name`, e.g. `certs["server.key"]`."""
        return str(self.dir / name)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_ca(name: str, cwd: Path) -> None:
    (cwd / f"{name}.cnf").write_text(
        "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = gust test " + name + "\n"
        "[ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier = hash\n")
    _openssl("req", "-x509", "-config", f"{name}.cnf", "-extensions", "ext", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.pem", "-days", "2", cwd=cwd)


def _make_leaf(name: str, subject: str, extensions: str, cwd: Path) -> None:
    (cwd / f"{name}.ext").write_text(
        "basicConstraints = CA:FALSE\nauthorityKeyIdentifier = keyid\n" + extensions)
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={subject}", cwd=cwd)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=cwd)


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Certs:
    directory = tmp_path_factory.mktemp("certs")
    _make_ca("ca", directory)
    _make_ca("other-ca", directory)
    _make_leaf("server", "gust test server",
               "subjectAltName = DNS:localhost,DNS:foo.test,IP:127.0.0.1,IP:::1\n"
               "extendedKeyUsage = serverAuth\n", directory)
    _make_leaf("client", "alice", "extendedKeyUsage = clientAuth\n", directory)
    return Certs(directory)
