#!/usr/bin/python3
"""STAND-INS for Mesos and Marathon daemons, for the end-to-end suite only (neither can be obtained here).

  marathon-forwarder  listens where Marathon would (0.0.0.0:<http_port>) and forwards every connection to
                      the one Marathon emulator the test runs on the lab gateway, which holds the shared
                      state that real Marathon keeps in ZooKeeper. It dies with its host.
  mesos-master        HTTP on <ip>:<port>: /redirect answers 307 (to itself) while a ZooKeeper server of
                      /etc/mesos/zk serves (503 otherwise), /master/state a small JSON.
  mesos-slave         HTTP on <ip>:<port>: /state, a long-running agent placeholder with its attributes and
                      resources. Like Mesos, it checkpoints its agent info under <work_dir>/meta/slaves/latest
                      and refuses to start when that info differs from its flags (until it is removed).
Each line of the log file is one event; the tests read them.
"""
import argparse
import http.server
import json
import os
import re
import socket
import sys
import threading
import time


def logger(path):
    lock = threading.Lock()

    def log(message):
        with lock, open(path, "a") as f:
            f.write(f"{time.strftime('%H:%M:%S')} {message}\n")

    return log


def forward(args):
    log = logger(args.log)
    backend_host, backend_port = args.backend.rsplit(":", 1)
    server = socket.create_server(("0.0.0.0", args.port), backlog=64)
    log(f"listening on 0.0.0.0:{args.port}, backend {args.backend}")

    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def handle(client, peer):
        try:
            backend = socket.create_connection((backend_host, int(backend_port)), timeout=5)
        except OSError as e:
            log(f"connection from {peer[0]} refused: backend {e}")
            client.close()
            return
        backend.settimeout(None)
        log(f"connection from {peer[0]}")
        other = threading.Thread(target=pump, args=(backend, client), daemon=True)
        other.start()
        pump(client, backend)
        other.join()
        client.close()
        backend.close()

    while True:
        client, peer = server.accept()
        threading.Thread(target=handle, args=(client, peer), daemon=True).start()


def zk_serving(zk_url):
    """Whether any server of a zk://h:p,.../path URL answers srvr with a serving mode."""
    hosts = re.sub(r"^zk://", "", zk_url).split("/", 1)[0].split(",")
    for host in hosts:
        name, port = host.rsplit(":", 1)
        try:
            with socket.create_connection((name, int(port)), timeout=1) as s:
                s.settimeout(1)
                s.sendall(b"srvr")
                answer = b""
                while chunk := s.recv(4096):
                    answer += chunk
            if re.search(rb"Mode: (leader|follower|standalone)", answer):
                return True
        except OSError:
            continue
    return False


def http_daemon(args, routes):
    log = logger(args.log)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, headers, body = routes(self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            for k, v in {"Content-Type": "application/json", **headers}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *a):
            log(f"{self.client_address[0]} {fmt % a}")

    server = http.server.ThreadingHTTPServer((args.ip, args.port), Handler)
    log(f"listening on {args.ip}:{args.port}")
    server.serve_forever()


def mesos_master(args):
    me = f"{args.ip}:{args.port}"

    def routes(path):
        elected = zk_serving(args.zk)
        if path.startswith("/redirect"):
            if elected:
                return 307, {"Location": f"//{me}"}, {}
            return 503, {}, {"message": "no leading master elected"}
        if path.startswith("/master/state"):
            state = {"version": "stand-in", "hostname": args.ip, "pid": f"master@{me}"}
            if elected:
                state["leader"] = f"master@{me}"
            return 200, {}, state
        return 404, {}, {"message": "not found"}

    http_daemon(args, routes)


def pairs(text):
    """key:value;key:value as a dict."""
    return dict(item.split(":", 1) for item in text.split(";") if item)


def checkpointed_agent_id(args, info):
    """The agent id of <work_dir>/meta/slaves/latest when its info matches; a new one otherwise (exits on a mismatch)."""
    meta = os.path.join(args.work_dir, "meta", "slaves")
    latest = os.path.join(meta, "latest")
    recorded = os.path.join(latest, "slave.info")
    if os.path.exists(recorded):
        with open(recorded) as f:
            old = json.load(f)
        if old != info:
            logger(args.log)(f"incompatible agent info: checkpointed {old}, flags {info}; remove {latest}")
            sys.exit(1)
        return os.path.basename(os.path.realpath(latest))
    agent_id = f"S{int(time.time() * 1000)}"
    os.makedirs(os.path.join(meta, agent_id), exist_ok=True)
    with open(os.path.join(meta, agent_id, "slave.info"), "w") as f:
        json.dump(info, f)
    if os.path.lexists(latest):
        os.remove(latest)
    os.symlink(agent_id, latest)
    return agent_id


def mesos_slave(args):
    attributes, resources = pairs(args.attributes), pairs(args.resources)
    info = {"hostname": args.ip, "port": args.port, "attributes": attributes, "resources": resources}
    agent_id = checkpointed_agent_id(args, info)

    def routes(path):
        if path.startswith("/state"):
            state = {"version": "stand-in", "hostname": args.ip, "master_zk": args.zk, "id": agent_id}
            return 200, {}, {**state, "attributes": attributes, "resources": resources}
        return 404, {}, {"message": "not found"}

    http_daemon(args, routes)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["marathon-forwarder", "mesos-master", "mesos-slave"])
    parser.add_argument("--ip", default="0.0.0.0")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--zk", default="")
    parser.add_argument("--backend", default="")
    parser.add_argument("--work-dir", default="/var/lib/mesos")
    parser.add_argument("--attributes", default="")
    parser.add_argument("--resources", default="")
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    {"marathon-forwarder": forward, "mesos-master": mesos_master, "mesos-slave": mesos_slave}[args.role](args)


if __name__ == "__main__":
    sys.exit(main())
