#!/usr/bin/python3
"""A client of the wire protocol written from docs/PROTOCOL.md and the .proto files alone (pyzmq + protobuf).

Run by `make test`: starts an interop-server, checks the protocol's promises from outside Swift, stops it; then
starts one with CURVE keys (made by ftadmin beside it, read here with pyzmq's zmq.auth) and checks the security
section of the spec: admitted keys, roles, refused handshakes, and libzmq's own default that makes a ZAP handler
necessary.
Usage: python_client.py PATH/TO/interop-server
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import zmq
import zmq.auth
from zmq.utils.monitor import recv_monitor_message

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
proto_dir = os.path.join(root, "Shared", "Schema", "proto")
generated = tempfile.mkdtemp()
subprocess.run(["protoc", "-I", proto_dir, "--python_out", generated, "rpc.proto", "common.proto", "health.proto",
                "testing.proto", "reflection.proto", "admin.proto"], check=True, cwd=proto_dir)
sys.path.insert(0, generated)
import admin_pb2  # noqa: E402
import health_pb2  # noqa: E402
import reflection_pb2  # noqa: E402
import rpc_pb2  # noqa: E402
import testing_pb2  # noqa: E402


class Client:
    def __init__(self, endpoint, curve=None):
        """curve: (client public key, client secret key, server public key), Z85, for a CURVE client."""
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        if curve:
            self.socket.curve_publickey, self.socket.curve_secretkey, self.socket.curve_serverkey = curve
        self.monitor = self.socket.get_monitor_socket()
        self.socket.connect(endpoint)
        self.next_id = 1

    def handshake_events(self, wait_s=1.0):
        """The names of the monitor events seen within wait_s, e.g. ["CONNECTED", "HANDSHAKE_FAILED_AUTH"]."""
        names = {getattr(zmq, n): n[len("EVENT_"):] for n in dir(zmq) if n.startswith("EVENT_")}
        seen = []
        end = time.monotonic() + wait_s
        while time.monotonic() < end:
            if self.monitor.poll(50):
                seen.append(names.get(recv_monitor_message(self.monitor)["event"], "?"))
        return seen

    def close(self):
        self.socket.disable_monitor()
        self.monitor.close()
        self.socket.close()
        self.context.term()

    def send(self, service, method, request_bytes, timeout_micros=2_000_000, metadata=(), request_id="",
             kind=rpc_pb2.REQUEST_KIND_CALL, call_id=None):
        header = rpc_pb2.RequestHeader(protocol_version=1, call_id=call_id or self.next_id, kind=kind,
                                       service=service, method=method, timeout_micros=timeout_micros,
                                       request_id=request_id)
        for key, value in metadata:
            header.metadata.add(key=key, value=value)
        self.next_id += 1
        self.socket.send_multipart([header.SerializeToString(), request_bytes])
        return header.call_id

    def receive(self, timeout_ms=3000):
        if not self.socket.poll(timeout_ms):
            return None
        frames = self.socket.recv_multipart()
        assert len(frames) == 2, "expected two frames, got %d" % len(frames)
        header = rpc_pb2.ResponseHeader()
        header.ParseFromString(frames[0])
        return header, frames[1]

    def call(self, service, method, request, response_type, **kwargs):
        call_id = self.send(service, method, request.SerializeToString(), **kwargs)
        header, payload = self.receive()
        assert header.call_id == call_id, "answer for call %d, expected %d" % (header.call_id, call_id)
        response = None
        if header.code == rpc_pb2.OK:
            response = response_type()
            response.ParseFromString(payload)
        return header, response


TEST = "fairtrade.testing.v1.TestService"
results = []


def check(name, condition, detail=""):
    results.append(condition)
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else ": " + str(detail)))


def plain():
    server = subprocess.Popen([sys.argv[1], "--endpoint", "tcp://127.0.0.1:*"], stdout=subprocess.PIPE)
    try:
        endpoint = server.stdout.readline().decode().strip()
        client = Client(endpoint)

        header, response = client.call("fairtrade.health.v1.Health", "Check", health_pb2.HealthCheckRequest(service=""),
                                       health_pb2.HealthCheckResponse)
        check("health of the whole process", header.code == rpc_pb2.OK
              and response.status == health_pb2.SERVING_STATUS_SERVING, header)

        header, _ = client.call("fairtrade.health.v1.Health", "Check", health_pb2.HealthCheckRequest(service="nope"),
                                health_pb2.HealthCheckResponse)
        check("health of an unknown service is NOT_FOUND", header.code == rpc_pb2.NOT_FOUND and header.message, header)

        request = testing_pb2.SimpleRequest(text="from python", payload=b"\x00\x01\x02")
        header, response = client.call(TEST, "UnaryCall", request, testing_pb2.SimpleResponse,
                                       metadata=[("x-origin", "python")], request_id="py-1")
        check("unary call echoes text, payload, metadata and request id",
              header.code == rpc_pb2.OK and response.text == "from python" and response.payload == b"\x00\x01\x02"
              and [(m.key, m.value) for m in response.metadata] == [("x-origin", "python")]
              and response.request_id == "py-1", (header, response))
        check("the handler saw a relative deadline", 0 < response.remaining_micros <= 2_000_000, response)

        header, _ = client.call(TEST, "Nope", request, testing_pb2.SimpleResponse)
        check("unknown method is UNIMPLEMENTED", header.code == rpc_pb2.UNIMPLEMENTED, header)
        header, _ = client.call("fairtrade.nope.v1.Nope", "X", request, testing_pb2.SimpleResponse)
        check("unknown service is UNIMPLEMENTED", header.code == rpc_pb2.UNIMPLEMENTED, header)

        call_id = client.send(TEST, "UnaryCall", b"\xff\xff\xff")
        header, _ = client.receive()
        check("garbage payload is INVALID_ARGUMENT", header.call_id == call_id
              and header.code == rpc_pb2.INVALID_ARGUMENT, header)

        bad = testing_pb2.SimpleRequest()
        bad.response_status.code = 99
        header, _ = client.call(TEST, "UnaryCall", bad, testing_pb2.SimpleResponse)
        check("unknown enum value names the field", header.code == rpc_pb2.INVALID_ARGUMENT
              and [v.field for v in header.field_violations] == ["response_status.code"], header)

        failing = testing_pb2.SimpleRequest()
        failing.response_status.code = rpc_pb2.FAILED_PRECONDITION
        failing.response_status.message = "ready when you are"
        header, _ = client.call(TEST, "UnaryCall", failing, testing_pb2.SimpleResponse)
        check("a handler's status arrives as is", header.code == rpc_pb2.FAILED_PRECONDITION
              and header.message == "ready when you are", header)

        started = time.monotonic()
        header, _ = client.call(TEST, "UnaryCall", testing_pb2.SimpleRequest(sleep_millis=2000),
                                testing_pb2.SimpleResponse, timeout_micros=150_000)
        elapsed = time.monotonic() - started
        check("the server answers DEADLINE_EXCEEDED at the deadline", header.code == rpc_pb2.DEADLINE_EXCEEDED
              and elapsed < 1.0, (header, elapsed))

        call_id = client.send(TEST, "UnaryCall", testing_pb2.SimpleRequest(sleep_millis=1500).SerializeToString())
        time.sleep(0.1)
        client.send("", "", b"", kind=rpc_pb2.REQUEST_KIND_CANCEL, call_id=call_id)
        check("a cancelled call gets no answer", client.receive(timeout_ms=1800) is None)

        version_header = rpc_pb2.RequestHeader(protocol_version=2, call_id=999, service=TEST, method="EmptyCall")
        client.socket.send_multipart([version_header.SerializeToString(), b""])
        header, _ = client.receive()
        check("a protocol version the server does not speak is UNIMPLEMENTED",
              header.call_id == 999 and header.code == rpc_pb2.UNIMPLEMENTED, header)

        client.socket.send_multipart([b"not a header"])
        client.socket.send_multipart([b"\x08", b"", b"", b""])
        header, response = client.call("fairtrade.reflection.v1.ServerReflection", "GetMetrics",
                                       reflection_pb2.GetMetricsRequest(), reflection_pb2.GetMetricsResponse)
        check("malformed messages are dropped and counted", header.code == rpc_pb2.OK
              and response.rejected_frames >= 2, response)
    finally:
        server.terminate()
        server.wait(timeout=10)


def write_public_certificate(path, public_key, metadata):
    """A public certificate in CZMQ's zcert format (docs/PROTOCOL.md, Security), written by hand."""
    with open(path, "w") as f:
        f.write("#   ZeroMQ CURVE Public Certificate, written by python_client.py\n\nmetadata\n")
        for key, value in metadata.items():
            f.write('    %s = "%s"\n' % (key, value))
        f.write('curve\n    public-key = "%s"\n' % public_key.decode())


def curve():
    ftadmin = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "ftadmin")
    keys = tempfile.mkdtemp()
    authorized = os.path.join(keys, "authorized")
    os.mkdir(authorized)
    for name, role in [("interop-server", "service"), ("py-editor", "editor"), ("py-reader", "reader")]:
        subprocess.run([ftadmin, "keys", "generate", name, "--role", role, "--out", keys], check=True,
                       stdout=subprocess.DEVNULL)
    for name in ["py-editor", "py-reader"]:
        shutil.copy(os.path.join(keys, name + ".key"), authorized)
    # A key made here, with pyzmq, and its public certificate written by hand.
    admin_public, admin_secret = zmq.curve_keypair()
    write_public_certificate(os.path.join(authorized, "py-admin.key"), admin_public, {"name": "py-admin", "role": "admin"})
    server_public, _ = zmq.auth.load_certificate(os.path.join(keys, "interop-server.key"))
    editor = zmq.auth.load_certificate(os.path.join(keys, "py-editor.key_secret"))
    reader = zmq.auth.load_certificate(os.path.join(keys, "py-reader.key_secret"))
    check("zmq.auth reads ftadmin's certificates", len(server_public) == 40 and len(editor[1]) == 40, editor)

    server = subprocess.Popen([sys.argv[1], "--endpoint", "tcp://127.0.0.1:*", "--log-level", "error", "--key",
                               os.path.join(keys, "interop-server.key_secret"), "--authorized-keys", authorized],
                              stdout=subprocess.PIPE)
    clients = []
    try:
        endpoint = server.stdout.readline().decode().strip()

        def client(public=None, secret=None, server_key=server_public):
            made = Client(endpoint, (public, secret, server_key) if public else None)
            clients.append(made)
            return made

        alice = client(*editor)
        header, response = alice.call(TEST, "UnaryCall", testing_pb2.SimpleRequest(text="over curve"),
                                      testing_pb2.SimpleResponse)
        check("an admitted key is served, its name and role reach the handler", header.code == rpc_pb2.OK
              and response.text == "over curve" and response.caller_key_name == "py-editor"
              and response.caller_role == "editor", (header, response))

        rita = client(*reader)
        header, _ = rita.call(TEST, "IncrementCounter", testing_pb2.CountRequest(), testing_pb2.CountResponse)
        check("a call beyond the role is PERMISSION_DENIED naming the role and the method",
              header.code == rpc_pb2.PERMISSION_DENIED and "role reader" in header.message
              and "fairtrade.testing.v1.TestService/IncrementCounter" in header.message, header)
        header, _ = rita.call("fairtrade.health.v1.Health", "Check", health_pb2.HealthCheckRequest(),
                              health_pb2.HealthCheckResponse)
        check("health answers every admitted key", header.code == rpc_pb2.OK, header)

        admin = client(admin_public, admin_secret)
        header, listing = admin.call("fairtrade.admin.v1.AccessAdmin", "ListAuthorizedKeys",
                                     admin_pb2.ListAuthorizedKeysRequest(), admin_pb2.ListAuthorizedKeysResponse)
        check("a key whose certificate was written here is admitted, and may list the keys",
              header.code == rpc_pb2.OK and listing.curve and listing.server_public_key == server_public.decode()
              and sorted(k.name for k in listing.keys) == ["py-admin", "py-editor", "py-reader"], (header, listing))

        stranger_public, stranger_secret = zmq.curve_keypair()
        stranger = client(stranger_public, stranger_secret)
        stranger.send(TEST, "EmptyCall", b"")
        check("an unknown key is refused in the handshake (ZAP status 400)",
              "HANDSHAKE_FAILED_AUTH" in stranger.handshake_events() and stranger.receive(timeout_ms=300) is None)

        anonymous = client()
        anonymous.send(TEST, "EmptyCall", b"")
        events = anonymous.handshake_events()
        check("a client without CURVE is refused in the handshake",
              any(e.startswith("HANDSHAKE_FAILED") for e in events) and anonymous.receive(timeout_ms=300) is None,
              events)

        wrong = client(*editor, server_key=stranger_public)
        wrong.send(TEST, "EmptyCall", b"")
        check("a client expecting another server key gets no answer", wrong.receive(timeout_ms=1000) is None)
    finally:
        for made in clients:
            made.close()
        server.terminate()
        server.wait(timeout=10)

    # Why a server needs its ZAP handler: libzmq 4.3 alone admits every CURVE client key.
    context = zmq.Context()
    bare = context.socket(zmq.ROUTER)
    bare.linger = 0
    bare_public, bare_secret = zmq.curve_keypair()
    bare.curve_server = True
    bare.curve_secretkey = bare_secret
    port = bare.bind_to_random_port("tcp://127.0.0.1")
    anyone = context.socket(zmq.DEALER)
    anyone.linger = 0
    anyone.curve_publickey, anyone.curve_secretkey = zmq.curve_keypair()
    anyone.curve_serverkey = bare_public
    anyone.connect("tcp://127.0.0.1:%d" % port)
    anyone.send(b"hello")
    check("libzmq without a ZAP handler admits any key (the trap the server's handler closes)",
          bare.poll(2000) and bare.recv_multipart()[-1] == b"hello")
    anyone.close()
    bare.close()
    context.term()


def main():
    plain()
    curve()
    passed = sum(1 for r in results if r)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
