"""A real Trino server for the local Athena: io.trino:trino-server's tar.gz from Maven Central,
unpacked once (Hive plugin only) beside the archive in the local Maven repository, run on a
Java 24+ JDK found on the machine, its Hive catalog on the local AWS's Glue and S3.

One server per local AWS, started on first use (or eagerly with --report-engine athena), on a
free 127.0.0.1 port, with its own etc/ and data/ in a temporary folder; stopped by its PID when
the local AWS stops (and by the kernel if the local AWS dies: PR_SET_PDEATHSIG)."""
import ctypes
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request

VERSION = os.environ.get("PATCHPILOT_TRINO_VERSION", "476")
MIN_JAVA = 24
HEAP = os.environ.get("PATCHPILOT_TRINO_HEAP", "2G")
START_TIMEOUT = float(os.environ.get("PATCHPILOT_TRINO_START_TIMEOUT", "300"))
PLUGINS = ("hive",)
CATALOG = "hive"


class TrinoUnavailable(Exception):
    """Trino could not be found, fetched or started; the message says why in one line."""


def maven_repo():
    return os.environ.get("PATCHPILOT_MAVEN_REPO_LOCAL") or os.path.join(os.path.expanduser("~"), ".m2", "repository")


def archive_path():
    return os.path.join(maven_repo(), "io", "trino", "trino-server", VERSION, f"trino-server-{VERSION}.tar.gz")


def unpacked_path():
    """The cache of the unpacked server, the Hive plugin only (a second start unpacks nothing)."""
    return os.path.join(os.path.dirname(archive_path()), f"trino-server-{VERSION}-{'-'.join(PLUGINS)}")


def _log(msg):
    print(f"localaws: trino: {msg}", file=sys.stderr, flush=True)


# ---- the JDK ---------------------------------------------------------------------------------

def java_major(java):
    try:
        p = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    m = re.search(r'version "(\d+)', p.stderr + p.stdout)
    return int(m.group(1)) if m else 0


def find_java():
    """The newest JDK of at least MIN_JAVA: PATCHPILOT_TRINO_JAVA_HOME, JAVA_HOME, then the usual
    install folders (Debian/Temurin /usr/lib/jvm, /opt, SDKMAN)."""
    homes = [os.environ.get("PATCHPILOT_TRINO_JAVA_HOME"), os.environ.get("JAVA_HOME")]
    for pattern in ("/usr/lib/jvm/*", "/usr/java/*", "/opt/java/*", "/opt/*jdk*",
                    os.path.expanduser("~/.sdkman/candidates/java/*"), os.path.expanduser("~/.jdks/*")):
        homes.extend(sorted(glob.glob(pattern)))
    best = None
    for home in homes:
        if not home:
            continue
        java = os.path.join(home, "bin", "java")
        if not os.access(java, os.X_OK):
            continue
        major = java_major(java)
        if major >= MIN_JAVA and (best is None or major > best[0]):
            best = (major, os.path.realpath(home))
    if best is None:
        raise TrinoUnavailable(f"no Java {MIN_JAVA}+ JDK found (set PATCHPILOT_TRINO_JAVA_HOME); "
                               f"Trino {VERSION} needs one")
    return best[1]


# ---- the server's files ----------------------------------------------------------------------

def _download():
    """The tar.gz into the local Maven repository, as Maven itself would put it (checked by SHA-1)."""
    target = archive_path()
    base = os.environ.get("PATCHPILOT_MAVEN_CENTRAL", "https://repo1.maven.org/maven2").rstrip("/")
    url = f"{base}/io/trino/trino-server/{VERSION}/trino-server-{VERSION}.tar.gz"
    os.makedirs(os.path.dirname(target), exist_ok=True)
    part = f"{target}.{os.getpid()}.part"
    _log(f"downloading {url} (about 820 MB, once)")
    t0 = time.time()
    sha1 = hashlib.sha1()
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(part, "wb") as out:
            while True:
                chunk = r.read(1 << 20)
                if not chunk:
                    break
                sha1.update(chunk)
                out.write(chunk)
        with urllib.request.urlopen(url + ".sha1", timeout=60) as r:
            wanted = r.read().decode().split()[0].strip()
        if wanted != sha1.hexdigest():
            raise TrinoUnavailable(f"{url}: SHA-1 {sha1.hexdigest()} is not the published {wanted}")
        os.replace(part, target)
    except OSError as e:
        raise TrinoUnavailable(f"cannot download {url}: {e}") from e
    finally:
        if os.path.exists(part):
            os.remove(part)
    _log(f"downloaded in {time.time() - t0:.1f} s")


def ensure_unpacked():
    """The unpacked server (bin, lib, the needed plugins), made once from the archive."""
    home = unpacked_path()
    if os.path.exists(os.path.join(home, ".complete")):
        return home
    if not os.path.exists(archive_path()):
        _download()
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix=".unpack-", dir=os.path.dirname(home))
    try:
        top = f"trino-server-{VERSION}/"
        with tarfile.open(archive_path(), "r:gz") as tar:
            def wanted():
                for member in tar:
                    parts = member.name[len(top):].split("/") if member.name.startswith(top) else []
                    if parts and not (parts[0] == "plugin" and len(parts) > 1 and parts[1] not in PLUGINS):
                        yield member  # names kept: the archive's hard links name their targets so
            tar.extractall(tmp, members=wanted(), filter="tar")
        tmp_home = os.path.join(tmp, top.rstrip("/"))
        open(os.path.join(tmp_home, ".complete"), "w").close()
        try:
            os.rename(tmp_home, home)
        except OSError:  # another local AWS unpacked it meanwhile
            if not os.path.exists(os.path.join(home, ".complete")):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _log(f"unpacked {archive_path()} ({', '.join(PLUGINS)} plugin only) in {time.time() - t0:.1f} s")
    return home


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def catalog_properties(aws_endpoint, region, access_key="test", secret_key="test"):
    """Hive over the local Glue catalog and the local S3 (native file system, path-style)."""
    return [
        "connector.name=hive",
        "hive.metastore=glue",
        f"hive.metastore.glue.region={region}",
        f"hive.metastore.glue.endpoint-url={aws_endpoint}",
        f"hive.metastore.glue.aws-access-key={access_key}",
        f"hive.metastore.glue.aws-secret-key={secret_key}",
        "fs.native-s3.enabled=true",
        f"s3.endpoint={aws_endpoint}",
        f"s3.region={region}",
        "s3.path-style-access=true",
        f"s3.aws-access-key={access_key}",
        f"s3.aws-secret-key={secret_key}",
        # Athena reads every file under a table's location, subfolders included (ec2/<account>/…)
        "hive.recursive-directories=true",
    ]


def jvm_options(heap):
    """Trino's recommended flags with a heap for a shared 2-core, 24 GiB machine."""
    return [f"-Xmx{heap}", "-XX:+UseG1GC", "-XX:G1HeapRegionSize=32M", "-XX:+ExplicitGCInvokesConcurrent",
            "-XX:+ExitOnOutOfMemoryError", "-XX:-OmitStackTraceInFastThrow", "-XX:ReservedCodeCacheSize=256M",
            "-XX:PerMethodRecompilationCutoff=10000", "-XX:PerBytecodeRecompilationCutoff=10000",
            "-Djdk.attach.allowAttachSelf=true", "-Djdk.nio.maxCachedBufferSize=2000000",
            "-XX:+EnableDynamicAgentLoading", "-Dfile.encoding=UTF-8", "-XX:ActiveProcessorCount=2"]


def _die_with_parent():
    """The kernel ends Trino when the thread that started it (a lasting daemon thread) is gone."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class TrinoServer:
    def __init__(self, aws_endpoint, region, heap=HEAP):
        self.aws_endpoint, self.region, self.heap = aws_endpoint, region, heap
        self.proc = None
        self.url = None
        self.dir = None
        self.started_in = None

    def start(self):
        t0 = time.time()
        home = ensure_unpacked()
        java_home = find_java()
        port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="localaws-trino-")
        etc, data = os.path.join(self.dir, "etc"), os.path.join(self.dir, "data")
        os.makedirs(os.path.join(etc, "catalog"))
        os.makedirs(data)
        _write(os.path.join(etc, "config.properties"), [
            "coordinator=true",
            "node-scheduler.include-coordinator=true",
            f"http-server.http.port={port}",
            f"discovery.uri=http://127.0.0.1:{port}",
            "query.max-memory=1GB",
            "query.max-memory-per-node=1GB",
            f"plugin.dir={os.path.join(home, 'plugin')}",
            f"catalog.config-dir={os.path.join(etc, 'catalog')}",
        ])
        _write(os.path.join(etc, "log.properties"), ["io.trino=WARN", "io.airlift=WARN"])
        _write(os.path.join(etc, "catalog", f"{CATALOG}.properties"),
               catalog_properties(self.aws_endpoint, self.region))
        cmd = [os.path.join(java_home, "bin", "java"), *jvm_options(self.heap),
               "-cp", os.path.join(home, "lib", "*"),
               "-Dnode.environment=localaws", "-Dnode.id=localaws-trino", f"-Dnode.data-dir={data}",
               "-Dnode.internal-address=127.0.0.1", "-Dnode.bind-ip=127.0.0.1",
               f"-Dconfig={os.path.join(etc, 'config.properties')}",
               f"-Dlog.levels-file={os.path.join(etc, 'log.properties')}",
               "-Dlog.output-file=" + os.path.join(data, "server.log"),
               "io.trino.server.TrinoServer"]
        log = open(os.path.join(self.dir, "launcher.log"), "wb")
        self.proc = subprocess.Popen(cmd, cwd=data, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
                                     env=dict(os.environ, JAVA_HOME=java_home))
        log.close()
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise TrinoUnavailable(f"Trino exited with {self.proc.returncode} while starting: "
                                       f"{self._tail()}")
            try:
                with urllib.request.urlopen(self.url + "/v1/info", timeout=2) as r:
                    started = not json.load(r).get("starting", True)
                # the coordinator answers before it has registered itself as a worker: a query then
                # fails with NO_NODES_AVAILABLE, so ready means a node is listed active
                if started and self._runs_a_query():
                    self.started_in = time.time() - t0
                    _log(f"Trino {VERSION} ready {self.url} (pid {self.proc.pid}, Java {java_home}, "
                         f"-Xmx{self.heap}) in {self.started_in:.1f} s")
                    return self
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise TrinoUnavailable(f"Trino did not start within {START_TIMEOUT:.0f} s")

    def _runs_a_query(self):
        """True when Trino's node manager lists an active node to run a scan on. `SELECT 1` alone ran
        on the coordinator before it had registered itself as a worker, and the next query that read a
        table failed with NO_NODES_AVAILABLE."""
        query = b"SELECT count(*) FROM system.runtime.nodes WHERE state = 'active'"
        request = urllib.request.Request(self.url + "/v1/statement", data=query, method="POST",
                                         headers={"X-Trino-User": "localaws"})
        with urllib.request.urlopen(request, timeout=10) as r:
            page = json.load(r)
        rows = []
        while True:
            if "error" in page:
                return False
            rows.extend(page.get("data", []))
            if "nextUri" not in page:
                return bool(rows) and rows[0][0] > 0
            with urllib.request.urlopen(page["nextUri"], timeout=10) as r:
                page = json.load(r)

    def _tail(self):
        lines = []
        for name in ("launcher.log", os.path.join("data", "server.log")):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    lines.extend(f.read().splitlines())
        errors = [line for line in lines if "ERROR" in line or "Exception" in line or "Error" in line]
        return (errors or lines or ["no output"])[-1][:500]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)  # a stand-in with nothing to drain: no long graceful shutdown
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
