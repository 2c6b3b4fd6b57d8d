#!/usr/bin/env python3
"""Local AWS for patchpilot: moto's server plus the extensions in localaws_ext/.

Prints `localaws ready http://HOST:PORT` once it answers; runs until SIGTERM/SIGINT."""
import argparse
import faulthandler
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=4566)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--sqs-endpoint", default=None, help="deliver EventBridge SQS targets there")
    p.add_argument("--command-delay", type=float, default=2.0, help="seconds per patch invocation")
    p.add_argument("--refresh-delay", type=float, default=2.0, help="seconds per instance refresh")
    p.add_argument("--faults", default=None, help="JSON file with the initial fault rules")
    p.add_argument("--schedule-speedup", type=float, default=1.0,
                   help="divide rate() periods by this (tests only; cron is unaffected)")
    p.add_argument("--config-evaluation", choices=["on", "off"], default="on",
                   help="off: AWS Config keeps no evaluations and sends no compliance events")
    p.add_argument("--strict-assume-role", action="store_true",
                   help="AssumeRole only into roles that exist, with the ExternalId their trust policy names, as STS does")
    p.add_argument("--report-engine", choices=["duckdb", "athena"], default="duckdb",
                   help="athena: start the local Athena's Trino server now (else on the first query)")
    p.add_argument("--state-dir", default=None,
                   help="keep the state here: restored at start, saved at a clean stop and every --save-every seconds")
    p.add_argument("--save-every", type=float, default=5.0,
                   help="seconds between saves of the state while serving (with --state-dir)")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    p.add_argument("--parent-pid", type=int, default=None,
                   help="exit when this process is gone (no orphan outlives a killed parent)")
    return p.parse_args(argv)


def port_free(host, port):
    """Bind test: moto's server thread would otherwise die silently on a taken port.

    With SO_REUSEADDR, as the server itself binds (werkzeug's HTTPServer): connections left in
    TIME-WAIT by a server that just stopped do not count, a socket still listening does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def make_server_class():
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server
    from localaws_ext.gateway import Gateway

    class LocalAwsServer(ThreadedMotoServer):
        """moto's threaded server with our gateway wrapped around its dispatcher."""

        def _server_entry(self):
            app = Gateway(DomainDispatcherApplication(create_backend_app))
            try:
                self._server = make_server(self._ip_address, self._port, app, True)
            except OSError as e:
                self.start_error = e
                self._server_ready_event.set()
                return
            self._server_ready_event.set()
            self._server.serve_forever()

    return LocalAwsServer


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def wait_healthy(url, deadline):
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_localaws/health", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    faulthandler.register(signal.SIGUSR1)  # a stack dump of every thread on demand (kill -USR1)
    if not port_free(args.host, args.port):
        print(f"localaws: port {args.port} on {args.host} is already in use", file=sys.stderr)
        return 2
    os.environ.setdefault("MOTO_PORT", str(args.port))
    if not args.verbose:  # a log line per request costs throughput under load
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    import localaws_ext
    from localaws_ext import faults
    localaws_ext.install({"command_delay": args.command_delay, "refresh_delay": args.refresh_delay,
                          "sqs_endpoint": args.sqs_endpoint,
                          "schedule_speedup": args.schedule_speedup,
                          "config_evaluation": args.config_evaluation == "on",
                          "strict_assume_role": args.strict_assume_role,
                          "aws_endpoint": f"http://{args.host}:{args.port}",
                          "state_dir": args.state_dir})
    if args.faults:
        with open(args.faults) as f:
            faults.load(json.load(f))
    from localaws_ext import state
    if args.state_dir:
        try:
            restored = state.restore(args.state_dir)
        except Exception as e:  # a damaged or foreign file: say so rather than start empty
            print(f"localaws: cannot restore the state in {args.state_dir}: {type(e).__name__}: {e}", file=sys.stderr)
            return 2
        if restored:
            print(f"localaws: state restored from {args.state_dir} (saved {time.ctime(restored['saved'])})",
                  file=sys.stderr, flush=True)

    server = make_server_class()(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    if getattr(server, "start_error", None):
        print(f"localaws: cannot listen on {args.host}:{args.port}: {server.start_error}", file=sys.stderr)
        return 2
    url = f"http://{args.host}:{args.port}"
    if not wait_healthy(url, time.time() + 10):
        print("localaws: server did not become healthy", file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.parent_pid:
        # the parent stops us (SIGTERM) after its own consumers: a Ctrl-C meant for it is not ours
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.state_dir:
        state.start_saving(args.state_dir, args.save_every, stop)
    print(f"localaws ready {url}", flush=True)
    from localaws_ext import athena_ext
    if args.report_engine == "athena":
        athena_ext.start_in_background()
    while not stop.wait(0.5):
        if args.parent_pid and not alive(args.parent_pid):
            break
    stopping = time.time()
    server._server.shutdown()  # no more requests: the state saved below is the last one answered
    athena_ext.stop()
    if args.state_dir:
        size = state.save(args.state_dir)
        print(f"localaws: state saved in {args.state_dir} ({size} bytes, {state.status()['seconds']} s;"
              f" stopped in {time.time() - stopping:.1f} s)", file=sys.stderr, flush=True)
        sys.stdout.flush()
        # saved: nothing is left to do, and tearing down the interpreter's objects (the whole fleet's
        # models) took seconds more on a busy machine, during which the ports stayed taken
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
