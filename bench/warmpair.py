#!/usr/bin/env python3
"""A warm server's CPU per trivial run, builds side by side (issue 10): each build's `runway serve` is started
(SQLite, concurrency 4, a fresh data directory under /tmp/warmpair), warmed with 600 runs of /bin/true, then
measured in batches of BATCH runs (8 submitting clients, then polled until none is queued or running), the
builds' batches alternated A B C, C B A, ... for ROUNDS rounds. CPU per run is the server's utime+stime from
/proc over the batch (submissions and polls included, the supervisor and the runs not); the paired differences
per round are the figure to trust on a shared machine, where other load moves every build's figure together.

  python3 bench/warmpair.py ROUNDS BATCH NAME=RUNWAY_DLL[,ENV=VALUE...] NAME=RUNWAY_DLL[,ENV=VALUE...] ...
"""
import sys, os, json, time, base64, subprocess, threading, http.client, socket, shutil, statistics
rounds, batch = int(sys.argv[1]), int(sys.argv[2])
specs = sys.argv[3:]
root = "/tmp/warmpair"
os.makedirs(root + "/pipelines", exist_ok=True)
open(root + "/pipelines/trivial.yaml", "w").write('name: trivial\nversion: "1"\ncommand: [/bin/true]\n')
TCK = os.sysconf("SC_CLK_TCK")
def freeport():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TCK, int(f[12]) / TCK
class Server:
    def __init__(self, spec):
        self.name, rest = spec.split("=", 1)
        parts = rest.split(",")
        self.dll, env = parts[0], dict(os.environ)
        for e in parts[1:]:
            k, v = e.split("=", 1); env[k] = v
        self.port = freeport()
        data = f"{root}/data-{self.name}"
        shutil.rmtree(data, ignore_errors=True)
        env["RUNWAY_ADMIN_PASSWORD"] = "pairbench-12345"
        self.log = open(f"{root}/{self.name}.log", "w")
        self.proc = subprocess.Popen(["dotnet", self.dll, "serve", "--urls", f"http://127.0.0.1:{self.port}", "--data-dir", data,
            "--pipelines", root + "/pipelines", "--concurrency", "4"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(600):
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5); c.request("GET", "/readyz")
                if c.getresponse().status == 200: break
            except OSError: pass
            time.sleep(0.2)
        c = http.client.HTTPConnection("127.0.0.1", self.port)
        c.request("POST", "/api/v1/tokens", body=b'{"name":"pair"}', headers={"Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(b"admin:pairbench-12345").decode()})
        r = c.getresponse(); self.token = json.loads(r.read())["token"]
    def hdrs(self): return {"Content-Type": "application/json", "Authorization": "Bearer " + self.token}
    def submit(self, n, clients=8):
        body = b'{"pipeline":"trivial","params":{}}'
        left = [n]; lock = threading.Lock()
        def work():
            c = http.client.HTTPConnection("127.0.0.1", self.port)
            while True:
                with lock:
                    if left[0] == 0: return
                    left[0] -= 1
                c.request("POST", "/api/v1/runs", body=body, headers=self.hdrs()); r = c.getresponse(); r.read()
                assert r.status == 201, r.status
        ts = [threading.Thread(target=work) for _ in range(clients)]
        [t.start() for t in ts]; [t.join() for t in ts]
    def wait_idle(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port)
        while True:
            c.request("GET", "/api/v1/runs?pipeline=trivial&state=queued,running&limit=1", headers=self.hdrs())
            r = c.getresponse(); d = json.loads(r.read())
            if not d["runs"]: return
            time.sleep(0.1)
    def measure(self, n):
        c0, k0 = cpu(self.proc.pid); t0 = time.time()
        self.submit(n); self.wait_idle()
        c1, k1 = cpu(self.proc.pid); t1 = time.time()
        return (c1 - c0) * 1000 / n, (k1 - k0) * 1000 / n, n / (t1 - t0)
servers = [Server(s) for s in specs]
for s in servers:
    s.submit(600); s.wait_idle()
res = {s.name: [] for s in servers}
for r in range(rounds):
    order = servers if r % 2 == 0 else servers[::-1]
    for s in order:
        load = open("/proc/loadavg").read().split()[0]
        m = s.measure(batch)
        res[s.name].append(m)
        print(f"round {r} {s.name}: cpu/run {m[0]:.2f} ms (kernel {m[1]:.2f}) {m[2]:.0f} runs/s load {load}", flush=True)
first = servers[0].name
for s in servers:
    v = [m[0] for m in res[s.name]]
    if s.name != first:
        d = [a[0] - b[0] for a, b in zip(res[first], res[s.name])]
        print(f"{first} minus {s.name}, paired: mean {statistics.mean(d):.2f} median {statistics.median(d):.2f} ms; {s.name} lower in {sum(x > 0 for x in d)} of {len(d)}")
    print(f"{s.name}: cpu/run median {statistics.median(v):.2f} min {min(v):.2f} max {max(v):.2f} kernel median {statistics.median([m[1] for m in res[s.name]]):.2f} runs/s median {statistics.median([m[2] for m in res[s.name]]):.0f}")
for s in servers:
    s.proc.terminate(); s.proc.wait()
