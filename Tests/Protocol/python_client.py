#!/usr/bin/python3
"""A client of the wire protocol written from docs/PROTOCOL.md and the .proto files alone (pyzmq + protobuf).

Run by `make test`: starts an interop-server, checks the protocol's promises from outside Swift, stops it.
Usage: python_client.py PATH/TO/interop-server
"""
import os
import subprocess
import sys
import tempfile
import time

import zmq

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
proto_dir = os.path.join(root, "Shared", "Schema", "proto")
generated = tempfile.mkdtemp()
subprocess.run(["protoc", "-I", proto_dir, "--python_out", generated, "rpc.proto", "common.proto", "health.proto",
                "testing.proto", "reflection.proto"], check=True, cwd=proto_dir)
sys.path.insert(0, generated)
import health_pb2  # noqa: E402
import reflection_pb2  # noqa: E402
import rpc_pb2  # noqa: E402
import testing_pb2  # noqa: E402


class Client:
    def __init__(self, endpoint):
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)
        self.next_id = 1

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


def main():
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
    passed = sum(1 for r in results if r)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
