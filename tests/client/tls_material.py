"""Test certificates made with the openssl command, once per test process.

With CTURN_TEST_TLS=1, every ServerProcess serves TLS with `certificate()`
and every Client connects over TLS, trusting it (see `client_context()`).
"""

import atexit
import functools
import os
import shutil
import ssl
import subprocess
import tempfile

TLS_MODE = os.environ.get("CTURN_TEST_TLS", "") not in ("", "0")
HOSTNAME = "localhost"


def make_certificate(directory, name, common_name=HOSTNAME, days=30):
    """A self-signed EC certificate for `common_name` (and 127.0.0.1) and its
    key, written to <directory>/<name>.crt and .key; returns both paths."""
    cert = os.path.join(directory, f"{name}.crt")
    key = os.path.join(directory, f"{name}.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", cert, "-days", str(days), "-subj", f"/CN={common_name}",
         "-addext", f"subjectAltName=DNS:{common_name},IP:127.0.0.1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def make_chain(directory):
    """A root CA, an intermediate it signs and a leaf for HOSTNAME the
    intermediate signs. Returns (root certificate, chain file: the leaf then
    the intermediate, leaf key): a client that trusts only the root needs the
    server to send the intermediate."""
    def path(name):
        return os.path.join(directory, name)

    def run(*args):
        subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def extensions(name, text):
        with open(path(name), "w") as f:
            f.write(text)
        return path(name)

    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    ca = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
    run("req", "-x509", *new_key, "-keyout", path("root.key"), "-out", path("root.crt"),
        "-days", "30", "-subj", "/CN=CTurn test root", "-addext",
        "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, issuer, subject, text in (
            ("intermediate", "root", "/CN=CTurn test intermediate", ca),
            ("leaf", "intermediate", f"/CN={HOSTNAME}",
             f"subjectAltName=DNS:{HOSTNAME},IP:127.0.0.1\n")):
        run("req", *new_key, "-keyout", path(f"{name}.key"), "-out", path(f"{name}.csr"),
            "-subj", subject)
        run("x509", "-req", "-in", path(f"{name}.csr"), "-CA", path(f"{issuer}.crt"),
            "-CAkey", path(f"{issuer}.key"), "-CAcreateserial", "-out", path(f"{name}.crt"),
            "-days", "30", "-extfile", extensions(f"{name}.ext", text))
    with open(path("chain.pem"), "w") as chain:
        for name in ("leaf", "intermediate"):
            with open(path(f"{name}.crt")) as part:
                chain.write(part.read())
    return path("root.crt"), path("chain.pem"), path("leaf.key")


@functools.lru_cache(maxsize=None)
def scratch_directory():
    """A temporary directory removed when the test process exits."""
    directory = tempfile.mkdtemp(prefix="cturn-tls-")
    atexit.register(shutil.rmtree, directory, True)
    return directory


@functools.lru_cache(maxsize=None)
def certificate():
    """(certificate file, key file) shared by every server of this process."""
    return make_certificate(scratch_directory(), "server")


def server_flags():
    cert, key = certificate()
    return ("--tls-cert", cert, "--tls-key", key)


def client_context(cafile=None):
    """A client context that trusts `cafile` (by default the shared test
    certificate) and checks the host name, as a real client would."""
    context = ssl.create_default_context(cafile=cafile or certificate()[0])
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
