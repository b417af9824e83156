#!/usr/bin/env python3
"""Structure checks for deploy/ files that no tool here can run for real.

  structure_check.py dockerfile   deploy/Dockerfile deploy/release.sh
  structure_check.py healthcheck  deploy/Dockerfile      (prints the HEALTHCHECK's bash script)
  structure_check.py compose      deploy/compose.yaml
  structure_check.py traefik      deploy/proxy/traefik-compose.yaml deploy/proxy/traefik-dynamic.yaml
  structure_check.py release      .github/workflows/release.yml

Exit 0 when every check holds, 1 with the failed checks listed, 3 when PyYAML (needed by the
compose and traefik checks) is missing, so the caller can report a skip instead of a pass.
"""

import json
import os
import re
import sys

failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)


def dockerfile_instructions(path):
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if not l.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


CARGO_RE = re.compile(r"cargo build --release --locked -p matinee-server\b")


def check_dockerfile(dockerfile, release_sh):
    ins = dockerfile_instructions(dockerfile)
    froms = [a for i, a in ins if i == "FROM"]
    expect(len(froms) >= 2, "multi-stage build (two FROM lines or more)")
    runtime = [a for i, a in ins if i == "FROM"][-1] if froms else ""
    expect(not runtime.startswith("rust"), f"runtime image is small, not the Rust toolchain ({runtime})")
    last_from = max(n for n, (i, _) in enumerate(ins) if i == "FROM") if froms else 0
    users = [a for n, (i, a) in enumerate(ins) if i == "USER" and n > last_from]
    expect(users and users[-1].split(":")[0] not in ("root", "0"), "runtime stage runs as a non-root USER")
    expect(("STOPSIGNAL", "SIGTERM") in ins, "STOPSIGNAL SIGTERM (the server's graceful shutdown)")
    expect(any(i == "EXPOSE" and "3000" in a.split() for i, a in ins), "EXPOSE 3000")
    expect(any(i == "HEALTHCHECK" and "/healthz" in a for i, a in ins), "HEALTHCHECK on /healthz")
    expect(any(i == "ENV" and "MATINEE_SERVER__LISTEN=0.0.0.0:3000" in a for i, a in ins),
           "ENV MATINEE_SERVER__LISTEN=0.0.0.0:3000 (listen on the container's interfaces)")
    runs = [a for i, a in ins if i == "RUN" and CARGO_RE.search(a)]
    expect(len(runs) == 1, "exactly one RUN with `cargo build --release --locked -p matinee-server`")
    with open(release_sh, encoding="utf-8") as f:
        script = [l for l in f.read().splitlines() if not l.lstrip().startswith("#")]
    expect(any(re.search(r'"\$CARGO" build --release --locked -p matinee-server\s*$', l) for l in script),
           "release.sh runs the same cargo command as the Dockerfile")


def healthcheck_script(dockerfile):
    for i, a in dockerfile_instructions(dockerfile):
        if i == "HEALTHCHECK":
            cmd = json.loads(a[a.index("CMD") + 3:].strip())
            if cmd[:2] != ["bash", "-c"] or len(cmd) != 3:
                sys.exit("HEALTHCHECK is not CMD [\"bash\", \"-c\", script]")
            return cmd[2]
    sys.exit("no HEALTHCHECK")


def load_yaml(path):
    try:
        import yaml  # PyYAML: optional; the caller reports a skip without it.
    except ImportError:
        print("PyYAML not available", file=sys.stderr)
        sys.exit(3)
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def check_compose(path):
    doc = load_yaml(path)
    services = doc.get("services", {})
    expect({"jellyfin", "matinee"} <= set(services), "services jellyfin and matinee")
    jf, mt = services.get("jellyfin", {}), services.get("matinee", {})
    expect(str(jf.get("image", "")).startswith("jellyfin/jellyfin:"), "jellyfin uses the jellyfin/jellyfin image, pinned")
    for name, svc in (("jellyfin", jf), ("matinee", mt)):
        expect(svc.get("restart") in ("unless-stopped", "always", "on-failure"), f"{name} has a restart policy")
    build = mt.get("build", {})
    dockerfile = os.path.normpath(os.path.join(os.path.dirname(path), build.get("context", "."), build.get("dockerfile", "Dockerfile")))
    expect(os.path.isfile(dockerfile), f"matinee builds from an existing Dockerfile ({dockerfile})")
    env = mt.get("environment", {})
    expect(str(env.get("MATINEE_JELLYFIN__URL", "")).startswith("http://jellyfin:"), "matinee reaches Jellyfin by its service name")
    expect(any(str(p).endswith(":3000") for p in mt.get("ports", [])), "matinee publishes port 3000")
    expect(any(str(v).startswith("jellyfin-config:") for v in jf.get("volumes", [])), "Jellyfin's configuration (and the plugin's settings) is on a volume")
    grace = str(mt.get("stop_grace_period", "10s"))
    expect(re.fullmatch(r"\d+s", grace) and int(grace[:-1]) >= 5, "stop_grace_period leaves the 5 s graceful shutdown room")


def labels_of(service):
    labels = service.get("labels", [])
    if isinstance(labels, dict):
        return {k: str(v) for k, v in labels.items()}
    return dict(l.split("=", 1) for l in labels)


def check_traefik(compose_path, dynamic_path):
    doc = load_yaml(compose_path)
    services = doc.get("services", {})
    expect("traefik" in services, "a traefik service")
    lb = labels_of(services.get("matinee", {}))
    expect(lb.get("traefik.enable") == "true", "matinee is enabled for Traefik")
    expect(lb.get("traefik.http.services.matinee.loadbalancer.server.port") == "3000", "Traefik forwards to port 3000")
    expect("Host(`" in lb.get("traefik.http.routers.matinee.rule", ""), "own-host router")
    sub = lb.get("traefik.http.routers.matinee-subpath.rule", "")
    expect("PathPrefix(`/matinee/`)" in sub, "sub-path router on /matinee/")
    mw = lb.get("traefik.http.routers.matinee-subpath.middlewares", "")
    expect(lb.get(f"traefik.http.middlewares.{mw}.stripprefix.prefixes") == "/matinee", "sub-path router strips /matinee")

    dyn = load_yaml(dynamic_path).get("http", {})
    routers, svcs, mws = dyn.get("routers", {}), dyn.get("services", {}), dyn.get("middlewares", {})
    for name, r in routers.items():
        expect(r.get("service") in svcs, f"router {name} names a defined service")
        for m in r.get("middlewares", []):
            expect(m in mws, f"router {name} names a defined middleware {m}")
    expect(any("PathPrefix(`/matinee/`)" in r.get("rule", "") for r in routers.values()), "dynamic: sub-path router")
    strip = [m for m in mws.values() if "stripPrefix" in m]
    expect(strip and strip[0]["stripPrefix"].get("prefixes") == ["/matinee"], "dynamic: strips /matinee")
    urls = [s["url"] for svc in svcs.values() for s in svc.get("loadBalancer", {}).get("servers", [])]
    expect(urls == ["http://127.0.0.1:3000"], "dynamic: forwards to 127.0.0.1:3000")


def check_release(path):
    """The release workflow builds and publishes what docs/install.md promises."""
    wf = load_yaml(path)
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    trigger = wf.get("on", wf.get(True)) or {}
    expect(trigger.get("push", {}).get("tags") == ["v*"], "runs on a pushed tag v*")
    jobs = wf.get("jobs", {})
    steps = {name: job.get("steps", []) for name, job in jobs.items()}

    def runs(job):
        return "\n".join(str(s.get("run", "")) for s in steps.get(job, []))

    def uses(job, action):
        return [s for s in steps.get(job, []) if str(s.get("uses", "")).startswith(action)]

    dotnet = uses("plugin", "actions/setup-dotnet")
    expect(dotnet and str(dotnet[0].get("with", {}).get("dotnet-version", "")).startswith("10."),
           "plugin: the .NET 10 SDK (it builds net8.0, net9.0 and net10.0)")
    expect("make plugin-repo" in runs("plugin"), "plugin: `make plugin-repo` builds every line under jellyfin-plugin/targets")
    verify = re.search(r"MATINEE_VERIFY_PLUGIN_REPO=\S+ bash jellyfin-plugin/tests/run-dotnet.sh[\s\\]+--filter \"FullyQualifiedName~([\w.]+)\"", runs("plugin"))
    expect(verify is not None, "plugin: the zips are checked as built (MATINEE_VERIFY_PLUGIN_REPO, run-dotnet.sh --filter)")
    if verify:
        # The filter must name the namespace of the packaging tests, or it would select nothing.
        ns = verify.group(1)
        folder = os.path.join("jellyfin-plugin", "tests", "Jellyfin.Plugin.Matinee.Core.Tests", "Packaging")
        declared = set()
        for name in os.listdir(folder):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                declared.update(re.findall(r"^namespace ([\w.]+)", f.read(), re.M))
        expect(ns in declared, f"plugin: the test filter {ns} is the packaging tests' namespace ({sorted(declared)})")
    env = " ".join(str(s.get("env", {})) for s in steps.get("plugin", []))
    expect("releases/download/" in env, "plugin: the zips' sourceUrl is the release's download URL")
    expect("bash deploy/release.sh" in runs("server"), "server: binaries from deploy/release.sh (the image's cargo command)")
    matrix = jobs.get("server", {}).get("strategy", {}).get("matrix", {}).get("runner", [])
    expect(len(matrix) >= 2, "server: x86_64 and aarch64 runners")
    build = uses("image", "docker/build-push-action")
    expect(build and build[0].get("with", {}).get("file") == "deploy/Dockerfile", "image: built from deploy/Dockerfile")
    expect(set(jobs.get("publish", {}).get("needs", [])) == {"plugin", "server", "image"}, "publish: after every build")
    expect("pages/manifest.json" in runs("publish") and uses("publish", "actions/deploy-pages"),
           "publish: manifest.json on GitHub Pages (the repository URL in docs/install.md)")
    expect("gh release create" in runs("publish"), "publish: a GitHub release with the zips and binaries")


def main(argv):
    if argv[:1] == ["dockerfile"] and len(argv) == 3:
        check_dockerfile(argv[1], argv[2])
    elif argv[:1] == ["healthcheck"] and len(argv) == 2:
        print(healthcheck_script(argv[1]))
        return 0
    elif argv[:1] == ["compose"] and len(argv) == 2:
        check_compose(argv[1])
    elif argv[:1] == ["traefik"] and len(argv) == 3:
        check_traefik(argv[1], argv[2])
    elif argv[:1] == ["release"] and len(argv) == 2:
        check_release(argv[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for f in failures:
        print(f"  not ok: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
