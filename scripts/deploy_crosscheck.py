#!/usr/bin/env python3
"""Cross-checks the deployment files against what the Rust code actually reads.

Run by scripts/deploy-check.sh after it has rendered every kustomize combination and
resolved docker-compose.yml, so that a renamed environment variable, a changed port, a
renamed gRPC service or binary sub-command breaks the build instead of a deployment.

From the code it reads (by pattern, no build needed):
  - every environment variable libs/config reads, its default ports, which variables
    production requires (missing secret, default admin password);
  - the `regal` sub-commands and parts (regal/src/main.rs, clap derive);
  - the gRPC service names (libs/proto) and each service's schema (services/*/src/lib.rs);
  - the gateway's HTTP routes (for HTTP probes).
Then it checks, for every rendered Kubernetes combination, docker-compose.yml, .env.example,
the Dockerfile and the Postgres init script, that they agree with the code and with each
other (ports, probes, service URLs, network policies, secrets, security settings).

`--self-test` changes the code facts the way a careless edit would (a renamed variable, a
moved port, a renamed sub-command or service), and the manifests too (a port changed in one
place only, a wrong URL, a missing network rule), and fails unless each change is caught.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

SERVICES = ("auth", "catalog", "sales", "audit")
PARTS = SERVICES + ("gateway",)
# Who may call whom over gRPC (ARCHITECTURE.md); every other pair must be denied.
ALLOWED_CALLS = (
    {("gateway", svc) for svc in SERVICES}
    | {("sales", "catalog")}
    # The audit service fetches events it missed from the producers' outboxes.
    | {("audit", producer) for producer in ("auth", "catalog", "sales")}
)
# Variables the manifests may set that the code does not read through libs/config.
FOREIGN_ENV_ALLOWED = set()
BINARY_PATH = "/usr/local/bin/regal"


# --------------------------------------------------------------------------- the code


@dataclass
class CodeFacts:
    env_names: set[str]
    production_required: set[str]
    default_ports: dict[str, int]  # AUTH_PORT -> 50051
    url_env_of_part: dict[str, str]  # catalog -> CATALOG_SERVICE_URL
    commands: set[str]  # serve, migrate, healthcheck
    parts: set[str]  # all, auth, ..., gateway
    grpc_service_names: dict[str, str]  # catalog -> regal.catalog.v1.CatalogService
    schemas: dict[str, str]  # catalog -> catalog
    gateway_routes: set[str]
    binary_name: str


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def enum_variants(source: str, enum_name: str) -> list[str]:
    match = re.search(r"enum\s+" + enum_name + r"\s*\{", source)
    if not match:
        raise ValueError(f"enum {enum_name} not found")
    depth, index = 1, match.end()
    while depth and index < len(source):
        depth += {"{": 1, "}": -1}.get(source[index], 0)
        index += 1
    body = source[match.end() : index - 1]
    # Drop nested braces (struct variants' fields) and comments, keep top-level names.
    flat, depth = [], 0
    for char in body:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            flat.append(char)
    text = re.sub(r"//[^\n]*|#\[[^\]]*\]", "", "".join(flat))
    return re.findall(r"\b([A-Z][A-Za-z0-9]*)\b\s*(?:,|\(|$)", text, re.M)


def read_code_facts(root: Path) -> CodeFacts:
    texts = {
        "config": (root / "libs/config/src/lib.rs").read_text(),
        "main": (root / "regal/src/main.rs").read_text(),
        "proto": (root / "libs/proto/src/lib.rs").read_text(),
        "regal_cargo": (root / "regal/Cargo.toml").read_text(),
        "routes": "\n".join(p.read_text() for p in sorted((root / "gateway/src").rglob("*.rs"))),
        "other_rust": "\n".join(
            p.read_text()
            for folder in ("regal", "services", "gateway", "libs")
            for p in sorted((root / folder).rglob("*.rs"))
            if "testkit" not in p.parts and "tests" not in p.parts
        ),
    }
    for svc in SERVICES:
        texts[f"schema_{svc}"] = (root / f"services/{svc}/src/lib.rs").read_text()
    return code_facts_from_texts(texts)


def code_facts_from_texts(texts: dict[str, str]) -> CodeFacts:
    config = texts["config"]
    # source.text("X"), source.parse_or("X", ..), .millis_or, .secret, parse_or::<u64>("X"..)
    env_names = set(
        re.findall(r"\.\s*(?:text|parse_or|millis_or|secret)\s*(?:::<[^>]*>)?\(\s*\"([A-Z][A-Z0-9_]*)\"", config)
    )
    url_env = dict(
        (name.split("_")[0].lower(), name)
        for name in re.findall(r"service_url\(\s*\"([A-Z][A-Z0-9_]*)\"", config)
    )
    env_names |= set(url_env.values())
    # Direct reads elsewhere (outside the test kit).
    env_names |= set(re.findall(r"env::var\(\s*\"([A-Z][A-Z0-9_]*)\"", texts["other_rust"]))
    env_names -= {"CARGO_MANIFEST_DIR", "OUT_DIR"}

    production_required = set(
        re.findall(r"\.\s*secret\(\s*\"([A-Z][A-Z0-9_]*)\"\s*,\s*production", config)
    )
    production_required |= set(re.findall(r"Missing\s*\{\s*name:\s*\"([A-Z][A-Z0-9_]*)\"", config))
    production_required |= set(re.findall(r"DefaultPassword\s*\{\s*name:\s*\"([A-Z][A-Z0-9_]*)\"", config))

    default_ports = {
        name: int(port)
        for name, port in re.findall(r"parse_or\(\s*\"([A-Z]+_PORT)\"\s*,\s*(\d+)\s*\)", config)
    }

    main = texts["main"]
    commands = {kebab(name) for name in enum_variants(main, "Command")}
    parts = {kebab(name) for name in enum_variants(main, "Part")}

    grpc_service_names = {}
    for const, name in re.findall(r"pub const ([A-Z]+): &str = \"(regal\.[a-z]+\.v1\.[A-Za-z]+)\"", texts["proto"]):
        grpc_service_names[const.lower()] = name

    schemas = {}
    for svc in SERVICES:
        match = re.search(r"pub const SCHEMA: &str = \"([a-z_]+)\"", texts[f"schema_{svc}"])
        if match:
            schemas[svc] = match.group(1)

    gateway_routes = set(re.findall(r"\.route\(\s*\"(/[^\"]*)\"", texts["routes"]))

    bin_match = re.search(r"\[\[bin\]\]\s*name\s*=\s*\"([^\"]+)\"", texts["regal_cargo"])
    binary_name = bin_match.group(1) if bin_match else ""

    return CodeFacts(
        env_names=env_names,
        production_required=production_required,
        default_ports=default_ports,
        url_env_of_part=url_env,
        commands=commands,
        parts=parts,
        grpc_service_names=grpc_service_names,
        schemas=schemas,
        gateway_routes=gateway_routes,
        binary_name=binary_name,
    )


def sanity_check_code_facts(code: CodeFacts, errors: list[str]) -> None:
    """The patterns above must still find what they look for; if the code is restructured
    they must be updated, not silently find nothing."""
    for part in PARTS:
        if f"{part.upper()}_PORT" not in code.default_ports:
            errors.append(f"code: no default for {part.upper()}_PORT found in libs/config (pattern out of date?)")
    for svc in SERVICES:
        if svc not in code.url_env_of_part:
            errors.append(f"code: no {svc.upper()}_SERVICE_URL found in libs/config")
        if svc not in code.grpc_service_names:
            errors.append(f"code: no gRPC service name for {svc} in libs/proto service_names")
        if svc not in code.schemas:
            errors.append(f"code: no SCHEMA const in services/{svc}/src/lib.rs")
    for command in ("serve", "migrate", "healthcheck"):
        if command not in code.commands:
            errors.append(f"code: regal has no `{command}` sub-command (regal/src/main.rs)")
    if not {"all", *PARTS} <= code.parts:
        errors.append(f"code: regal parts are {sorted(code.parts)}, expected all + {list(PARTS)}")
    if not {"DATABASE_URL", "REDIS_URL", "HOST"} <= code.env_names:
        errors.append("code: DATABASE_URL/REDIS_URL/HOST not found among the variables libs/config reads")
    if not code.production_required:
        errors.append("code: found no variable that production requires (pattern out of date?)")


# --------------------------------------------------------------------------- helpers


def port_env(part: str) -> str:
    return f"{part.upper()}_PORT"


def effective_port(part: str, env: dict[str, str], code: CodeFacts) -> int | None:
    value = env.get(port_env(part))
    if value is None:
        return code.default_ports.get(port_env(part))
    try:
        return int(value)
    except ValueError:
        return None


def labels_match(selector: dict, labels: dict) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def decode_secret(secret: dict) -> dict[str, str]:
    values = {key: base64.b64decode(value).decode() for key, value in (secret.get("data") or {}).items()}
    values.update(secret.get("stringData") or {})
    return values


def base_name(name: str) -> str:
    """`regal-config-5mmc66bdc8` -> `regal-config` (kustomize's hash suffix)."""
    return re.sub(r"-[a-z0-9]{10}$", "", name)


# --------------------------------------------------------------------------- Kubernetes


@dataclass
class Render:
    name: str
    objects: list[dict]
    secret_template: dict[str, dict[str, str]]
    by_kind: dict[str, dict[str, dict]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for obj in self.objects:
            self.by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj

    def get(self, kind: str, name: str) -> dict | None:
        return self.by_kind.get(kind, {}).get(name)

    def data_of(self, kind: str, name: str) -> dict[str, str] | None:
        obj = self.get(kind, name)
        if obj is not None:
            return decode_secret(obj) if kind == "Secret" else dict(obj.get("data") or {})
        if kind == "Secret" and base_name(name) in self.secret_template:
            return self.secret_template[base_name(name)]
        return None


def container_env(render: Render, container: dict, errors: list[str], where: str) -> dict[str, str]:
    """The environment a container gets: envFrom first, then env (values of secrets and
    config maps resolved, from the template for out-of-band secrets)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            kind, name = "ConfigMap", source["configMapRef"]["name"]
        else:
            kind, name = "Secret", source["secretRef"]["name"]
        data = render.data_of(kind, name)
        if data is None:
            errors.append(f"{where}: envFrom {kind} {name} exists neither in the render nor in k8s/base/secrets.example.yaml")
            continue
        env.update(data)
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif "valueFrom" in item:
            reference = item["valueFrom"].get("secretKeyRef") or item["valueFrom"].get("configMapKeyRef")
            kind = "Secret" if "secretKeyRef" in item["valueFrom"] else "ConfigMap"
            data = render.data_of(kind, reference["name"])
            if data is None or reference["key"] not in data:
                errors.append(f"{where}: {item['name']} refers to {kind} {reference['name']} key {reference['key']}, which does not exist")
                env[item["name"]] = ""
            else:
                env[item["name"]] = data[reference["key"]]
        else:
            env[item["name"]] = ""
    return env


def check_regal_env(env: dict[str, str], code: CodeFacts, where: str, errors: list[str]) -> None:
    for name in sorted(env):
        if name not in code.env_names and name not in FOREIGN_ENV_ALLOWED:
            errors.append(f"{where}: sets {name}, which the code does not read (renamed? see libs/config)")
    if env.get("APP_ENV", "development").strip().lower() in ("production", "prod"):
        for name in sorted(code.production_required - set(env)):
            errors.append(f"{where}: APP_ENV=production but {name} is not provided (the part refuses to start)")
    if env.get("HOST") not in ("0.0.0.0", "::"):
        errors.append(f"{where}: HOST must be 0.0.0.0 (or ::) in a container, got {env.get('HOST')!r}")


def check_security(pod_spec: dict, container: dict, where: str, errors: list[str]) -> None:
    pod_context = pod_spec.get("securityContext") or {}
    context = container.get("securityContext") or {}
    if not (context.get("runAsNonRoot") or pod_context.get("runAsNonRoot")):
        errors.append(f"{where}: runAsNonRoot is not set")
    if context.get("readOnlyRootFilesystem") is not True:
        errors.append(f"{where}: readOnlyRootFilesystem must be true")
    if context.get("allowPrivilegeEscalation") is not False:
        errors.append(f"{where}: allowPrivilegeEscalation must be false")
    if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
        errors.append(f"{where}: capabilities must drop ALL")
    resources = container.get("resources") or {}
    for section in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in (resources.get(section) or {}):
                errors.append(f"{where}: resources.{section}.{resource} is missing")


def service_port_target(render: Render, service_name: str, port: int) -> tuple[dict, dict] | None:
    service = render.get("Service", service_name)
    if service is None:
        return None
    for service_port in service["spec"].get("ports", []):
        if service_port["port"] == port:
            return service, service_port
    return None


def resolve_target_port(service_port: dict, container: dict) -> int | None:
    target = service_port.get("targetPort", service_port["port"])
    if isinstance(target, int):
        return target
    for container_port in container.get("ports") or []:
        if container_port.get("name") == target:
            return container_port["containerPort"]
    return None


def check_render(render: Render, code: CodeFacts, errors: list[str], dockerfile_uid: int | None) -> None:
    where_render = f"k8s[{render.name}]"
    deployments = render.by_kind.get("Deployment", {})
    main_containers: dict[str, tuple[dict, dict, dict]] = {}  # part -> (deployment, container, env)
    images = set()

    for part in PARTS:
        deployment = deployments.get(f"regal-{part}")
        if deployment is None:
            errors.append(f"{where_render}: Deployment regal-{part} is missing")
            continue
        where = f"{where_render} Deployment regal-{part}"
        pod = deployment["spec"]["template"]
        pod_spec = pod["spec"]
        if not labels_match(deployment["spec"]["selector"], pod["metadata"].get("labels", {})):
            errors.append(f"{where}: selector does not match its pod labels")
        if pod_spec.get("automountServiceAccountToken") is not False:
            errors.append(f"{where}: automountServiceAccountToken should be false (no API access needed)")
        account = pod_spec.get("serviceAccountName")
        if not account or render.get("ServiceAccount", account) is None:
            errors.append(f"{where}: ServiceAccount {account!r} is not in the render")
        if dockerfile_uid is not None:
            uid = (pod_spec.get("securityContext") or {}).get("runAsUser")
            if uid is not None and uid != dockerfile_uid:
                errors.append(f"{where}: runAsUser {uid} differs from the image's USER {dockerfile_uid}")

        containers = pod_spec.get("containers", [])
        serving = [c for c in containers if (c.get("args") or [])[:1] == ["serve"]]
        if len(serving) != 1:
            errors.append(f"{where}: expected one container running `serve`, found {len(serving)}")
            continue
        container = serving[0]
        images.add(container["image"])
        args = container.get("args") or []
        if container.get("command") not in (None, [BINARY_PATH]):
            errors.append(f"{where}: command {container['command']} overrides the image's entrypoint")
        if args != ["serve", part]:
            errors.append(f"{where}: args {args}, expected ['serve', '{part}']")
        if args[:1] and args[0] not in code.commands:
            errors.append(f"{where}: `{args[0]}` is not a regal sub-command ({sorted(code.commands)})")
        if len(args) > 1 and args[1] not in code.parts:
            errors.append(f"{where}: `{args[1]}` is not a regal part ({sorted(code.parts)})")
        env = container_env(render, container, errors, where)
        check_regal_env(env, code, where, errors)
        check_security(pod_spec, container, where, errors)
        main_containers[part] = (deployment, container, env)

        port = effective_port(part, env, code)
        port_name = "http" if part == "gateway" else "grpc"
        declared = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
        if declared.get(port_name) != port:
            errors.append(f"{where}: container port `{port_name}` is {declared.get(port_name)}, but the part listens on {port} ({port_env(part)})")

        probes = {kind: container.get(kind) for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
        for kind, probe in probes.items():
            if not probe:
                errors.append(f"{where}: {kind} is missing")
                continue
            if part == "gateway":
                http = probe.get("httpGet")
                grpc = probe.get("grpc")
                if http:
                    if http.get("path") not in code.gateway_routes:
                        errors.append(f"{where}: {kind} GET {http.get('path')} is not a gateway route ({sorted(code.gateway_routes)})")
                    if http.get("port") not in (port, port_name):
                        errors.append(f"{where}: {kind} probes port {http.get('port')}, the gateway listens on {port}")
                elif grpc:
                    if grpc.get("port") != port or grpc.get("service", "") != "":
                        errors.append(f"{where}: {kind} gRPC probe must ask '' on {port}")
                else:
                    errors.append(f"{where}: {kind} must be an HTTP or gRPC probe")
                continue
            grpc = probe.get("grpc")
            if not grpc:
                errors.append(f"{where}: {kind} must be a native gRPC probe (grpc.health.v1)")
                continue
            if grpc.get("port") != port:
                errors.append(f"{where}: {kind} probes port {grpc.get('port')}, but {part} listens on {port} ({port_env(part)})")
            allowed = {"", code.grpc_service_names.get(part)}
            if grpc.get("service", "") not in allowed:
                errors.append(f"{where}: {kind} asks health of {grpc.get('service')!r}, which {part} does not serve ({code.grpc_service_names.get(part)!r} or '')")
        if part != "gateway":
            # Readiness asks for the service by name: a renamed service must break it.
            readiness = ((probes.get("readinessProbe") or {}).get("grpc") or {}).get("service")
            if readiness != code.grpc_service_names.get(part):
                errors.append(f"{where}: readinessProbe should ask for {code.grpc_service_names.get(part)!r}, asks {readiness!r}")
        # Migration step per service, none for the gateway.
        migrations = [c for c in pod_spec.get("initContainers") or [] if (c.get("args") or [])[:1] == ["migrate"]]
        if part == "gateway":
            if migrations:
                errors.append(f"{where}: the gateway owns no schema; `regal migrate gateway` fails")
        else:
            if len(migrations) != 1:
                errors.append(f"{where}: expected one `migrate` init container, found {len(migrations)}")
            for init in migrations:
                init_where = f"{where} initContainer {init['name']}"
                if init.get("args") != ["migrate", part]:
                    errors.append(f"{init_where}: args {init.get('args')}, expected ['migrate', '{part}']")
                if "migrate" not in code.commands:
                    errors.append(f"{init_where}: regal has no `migrate` sub-command")
                if init["image"] != container["image"]:
                    errors.append(f"{init_where}: image {init['image']} differs from the server's {container['image']}")
                init_env = container_env(render, init, errors, init_where)
                if init_env.get("DATABASE_URL") != env.get("DATABASE_URL"):
                    errors.append(f"{init_where}: migrates another DATABASE_URL than the server uses")
                check_regal_env(init_env, code, init_where, errors)
                check_security(pod_spec, init, init_where, errors)
        for other in pod_spec.get("initContainers") or []:
            if other not in migrations:
                check_security(pod_spec, other, f"{where} initContainer {other['name']}", errors)

        if render.get("HorizontalPodAutoscaler", f"regal-{part}") is not None and "replicas" in deployment["spec"]:
            errors.append(f"{where}: sets spec.replicas although an HPA scales it (apply would reset the HPA's count)")

    if len(images) > 1:
        errors.append(f"{where_render}: the parts run different images {sorted(images)}")
    for image in images:
        if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1]:
            errors.append(f"{where_render}: image {image} has no pinned tag")

    # Services: one per part, a named grpc port that reaches the container.
    for part, (deployment, container, env) in main_containers.items():
        service = render.get("Service", f"regal-{part}")
        where = f"{where_render} Service regal-{part}"
        if service is None:
            errors.append(f"{where}: missing")
            continue
        pod_labels = deployment["spec"]["template"]["metadata"].get("labels", {})
        if not labels_match({"matchLabels": service["spec"].get("selector", {})}, pod_labels):
            errors.append(f"{where}: selector does not select the Deployment's pods")
        named = {p.get("name"): p for p in service["spec"].get("ports", [])}
        if "grpc" not in named:
            errors.append(f"{where}: has no port named `grpc`")
        port = effective_port(part, env, code)
        for service_port in service["spec"].get("ports", []):
            if resolve_target_port(service_port, container) != port:
                errors.append(f"{where}: port {service_port.get('name')} targets {service_port.get('targetPort')}, not the container's {port}")

    # The service URLs every part is given lead to the right Service and port.
    for part, (_, _, env) in main_containers.items():
        for callee, url_env in code.url_env_of_part.items():
            url = env.get(url_env)
            where = f"{where_render} Deployment regal-{part}: {url_env}={url!r}"
            if url is None:
                if part == "gateway" or (part, callee) in ALLOWED_CALLS:
                    errors.append(f"{where_render} Deployment regal-{part}: {url_env} is not set (the default 127.0.0.1 is wrong in a pod)")
                continue
            parsed = urlsplit(url)
            host, port = parsed.hostname or "", parsed.port
            if parsed.scheme != "http" or port is None:
                errors.append(f"{where}: expected http://<service>:<port>")
                continue
            service_name = host.split(".")[0]
            if service_name != f"regal-{callee}":
                errors.append(f"{where}: points at {service_name}, expected regal-{callee}")
                continue
            found = service_port_target(render, service_name, port)
            if found is None:
                errors.append(f"{where}: Service {service_name} has no port {port}")
                continue
            callee_container = main_containers.get(callee, (None, {}, {}))[1]
            callee_port = effective_port(callee, main_containers.get(callee, (None, None, {}))[2], code)
            if resolve_target_port(found[1], callee_container) != callee_port:
                errors.append(f"{where}: Service port {port} does not reach {callee}'s port {callee_port}")

    check_network_policies(render, main_containers, code, errors)
    check_autoscaling(render, errors)
    check_ingress(render, errors)


def policy_allows(render: Render, source_labels: dict, target_labels: dict, port: int, direction: str) -> bool | None:
    """None: no policy of that direction selects the pod (traffic is not restricted)."""
    selecting = [
        policy
        for policy in render.by_kind.get("NetworkPolicy", {}).values()
        if labels_match(policy["spec"].get("podSelector", {}), source_labels if direction == "Egress" else target_labels)
        and direction in policy["spec"].get("policyTypes", ["Ingress"])
    ]
    if not selecting:
        return None
    peer_labels = target_labels if direction == "Egress" else source_labels
    key = "egress" if direction == "Egress" else "ingress"
    peers_key = "to" if direction == "Egress" else "from"
    for policy in selecting:
        for rule in policy["spec"].get(key) or []:
            ports = rule.get("ports")
            if ports and not any(p.get("port") == port and p.get("protocol", "TCP") == "TCP" for p in ports):
                continue
            peers = rule.get(peers_key)
            if not peers:
                return True
            for peer in peers:
                if "ipBlock" in peer:
                    if direction == "Egress" and peer["ipBlock"].get("cidr") in ("0.0.0.0/0", "::/0"):
                        return True
                    continue
                if "namespaceSelector" in peer and "podSelector" not in peer:
                    continue  # another namespace
                if "namespaceSelector" in peer and peer["namespaceSelector"]:
                    continue
                if labels_match(peer.get("podSelector", {}), peer_labels):
                    return True
    return False


def check_network_policies(render: Render, main: dict, code: CodeFacts, errors: list[str]) -> None:
    policies = render.by_kind.get("NetworkPolicy", {})
    if not policies or not any(not p["spec"].get("podSelector") for p in policies.values()):
        return  # no deny-by-default in this combination: nothing to check
    where = f"k8s[{render.name}] NetworkPolicy"
    labels = {part: deployment["spec"]["template"]["metadata"].get("labels", {}) for part, (deployment, _, _) in main.items()}
    ports = {part: effective_port(part, env, code) for part, (_, _, env) in main.items()}
    outsider = {"app.kubernetes.io/name": "somebody-else"}

    def allowed(source: dict, target: dict, port: int) -> bool:
        egress = policy_allows(render, source, target, port, "Egress")
        ingress = policy_allows(render, source, target, port, "Ingress")
        return egress is not False and ingress is not False

    for caller in labels:
        for callee in SERVICES:
            if callee not in labels or caller == callee:
                continue
            is_allowed = allowed(labels[caller], labels[callee], ports[callee])
            if (caller, callee) in ALLOWED_CALLS and not is_allowed:
                errors.append(f"{where}: {caller} → {callee}:{ports[callee]} is needed but not allowed")
            if (caller, callee) not in ALLOWED_CALLS and is_allowed:
                errors.append(f"{where}: {caller} → {callee}:{ports[callee]} is allowed but never needed")
        if caller != "gateway":
            if policy_allows(render, outsider, labels[caller], ports[caller], "Ingress") is not False:
                errors.append(f"{where}: {caller} is reachable from outside (only the gateway may be)")
        for datastore_port in (5432, 6379):
            if policy_allows(render, labels[caller], outsider, datastore_port, "Egress") is False:
                errors.append(f"{where}: {caller} may not reach port {datastore_port} (Postgres/Redis)")
    if "gateway" in labels and policy_allows(render, outsider, labels["gateway"], ports["gateway"], "Ingress") is False:
        errors.append(f"{where}: the gateway is not reachable from outside on {ports['gateway']}")


def check_autoscaling(render: Render, errors: list[str]) -> None:
    deployments = render.by_kind.get("Deployment", {})
    for name, hpa in render.by_kind.get("HorizontalPodAutoscaler", {}).items():
        target = hpa["spec"]["scaleTargetRef"]
        if target.get("kind") != "Deployment" or target.get("name") not in deployments:
            errors.append(f"k8s[{render.name}] HPA {name}: scales {target.get('kind')} {target.get('name')}, which is not in the render")
    for name, budget in render.by_kind.get("PodDisruptionBudget", {}).items():
        matched = [
            deployment_name
            for deployment_name, deployment in deployments.items()
            if labels_match(budget["spec"]["selector"], deployment["spec"]["template"]["metadata"].get("labels", {}))
        ]
        if len(matched) != 1:
            errors.append(f"k8s[{render.name}] PDB {name}: selects {len(matched)} Deployments, expected 1")


def check_ingress(render: Render, errors: list[str]) -> None:
    for name, ingress in render.by_kind.get("Ingress", {}).items():
        for rule in ingress["spec"].get("rules", []):
            for path in (rule.get("http") or {}).get("paths", []):
                backend = path["backend"]["service"]
                service = render.get("Service", backend["name"])
                where = f"k8s[{render.name}] Ingress {name}"
                if service is None:
                    errors.append(f"{where}: backend Service {backend['name']} is not in the render")
                    continue
                wanted = backend["port"]
                if not any(p.get("name") == wanted.get("name") or p["port"] == wanted.get("number") for p in service["spec"]["ports"]):
                    errors.append(f"{where}: Service {backend['name']} has no port {wanted}")


def check_prod_render(render: Render, errors: list[str]) -> None:
    where = f"k8s[{render.name}]"
    if render.by_kind.get("Secret"):
        errors.append(f"{where}: production renders Secrets {sorted(render.by_kind['Secret'])}; real secrets are created out of band")
    for name, ingress in render.by_kind.get("Ingress", {}).items():
        tls_hosts = {host for tls in ingress["spec"].get("tls", []) for host in tls.get("hosts", [])}
        rule_hosts = {rule.get("host") for rule in ingress["spec"].get("rules", [])}
        if not tls_hosts or not rule_hosts <= tls_hosts:
            errors.append(f"{where} Ingress {name}: every host must be served with TLS (hosts {sorted(map(str, rule_hosts))}, tls {sorted(tls_hosts)})")
    for name in ("regal-gateway", "regal-auth", "regal-catalog", "regal-sales", "regal-audit"):
        hpa = render.get("HorizontalPodAutoscaler", name)
        if hpa is None or hpa["spec"].get("minReplicas", 1) < 2:
            errors.append(f"{where}: {name} must run several replicas (HPA minReplicas >= 2)")
        if render.get("PodDisruptionBudget", name) is None:
            errors.append(f"{where}: {name} has no PodDisruptionBudget")
    config = next((c for n, c in render.by_kind.get("ConfigMap", {}).items() if base_name(n) == "regal-config"), None)
    data = (config or {}).get("data", {})
    if data.get("APP_ENV") != "production":
        errors.append(f"{where}: APP_ENV must be production")
    if data.get("DEBUG", "false").lower() not in ("false", "0", "no", "off"):
        errors.append(f"{where}: DEBUG must be off")


def check_dev_render(render: Render, errors: list[str]) -> None:
    """The throw-away URLs of the dev overlay must match the in-cluster datastores' passwords."""
    where = f"k8s[{render.name}]"
    secrets = {base_name(name): decode_secret(secret) for name, secret in render.by_kind.get("Secret", {}).items()}
    datastores = secrets.get("regal-datastores")
    database = secrets.get("regal-database")
    if datastores is None or database is None:
        return
    for part in PARTS:
        url = urlsplit(database.get(f"{part.upper()}_DATABASE_URL", ""))
        if url.username != f"regal_{part}" or url.password != datastores.get(f"{part.upper()}_DB_PASSWORD"):
            errors.append(f"{where}: {part.upper()}_DATABASE_URL does not log in as regal_{part} with {part.upper()}_DB_PASSWORD")
        if url.hostname != "regal-postgres" or render.get("Service", "regal-postgres") is None:
            errors.append(f"{where}: {part.upper()}_DATABASE_URL does not point at the regal-postgres Service")
    redis_url = urlsplit(secrets.get("regal-secrets", {}).get("REDIS_URL", ""))
    if redis_url.password != datastores.get("REDIS_PASSWORD") or redis_url.hostname != "regal-redis":
        errors.append(f"{where}: REDIS_URL does not match the regal-redis Service and REDIS_PASSWORD")


# --------------------------------------------------------------------------- compose


def check_compose(compose: dict, compose_raw: str, env_example: dict[str, str], init_sql: str, code: CodeFacts, errors: list[str]) -> None:
    services = compose.get("services", {})
    published_addresses = set()
    for part in PARTS:
        where = f"compose {part}"
        service = services.get(part)
        if service is None:
            errors.append(f"{where}: service missing")
            continue
        command = service.get("command") or []
        if command != ["serve", part]:
            errors.append(f"{where}: command {command}, expected ['serve', '{part}']")
        if command[:1] and command[0] not in code.commands:
            errors.append(f"{where}: `{command[0]}` is not a regal sub-command")
        if service.get("entrypoint") not in (None, [BINARY_PATH]):
            errors.append(f"{where}: entrypoint overrides the image's")
        test = (service.get("healthcheck") or {}).get("test") or []
        if test != ["CMD", BINARY_PATH, "healthcheck", part]:
            errors.append(f"{where}: healthcheck {test}, expected ['CMD', '{BINARY_PATH}', 'healthcheck', '{part}']")
        if "healthcheck" not in code.commands:
            errors.append(f"{where}: regal has no `healthcheck` sub-command")
        env = {name: "" if value is None else str(value) for name, value in (service.get("environment") or {}).items()}
        check_regal_env(env, code, where, errors)
        if service.get("read_only") is not True or "ALL" not in (service.get("cap_drop") or []):
            errors.append(f"{where}: should run read_only with cap_drop [ALL]")
        port = effective_port(part, env, code)
        for callee, url_env in code.url_env_of_part.items():
            url = urlsplit(env.get(url_env, ""))
            callee_port = effective_port(callee, {n: str(v) for n, v in (services.get(callee, {}).get("environment") or {}).items()}, code)
            if url.hostname != callee or url.port != callee_port:
                errors.append(f"{where}: {url_env}={env.get(url_env)!r}, expected http://{callee}:{callee_port}")
        database_url = urlsplit(env.get("DATABASE_URL", ""))
        if database_url.username != f"regal_{part}" or database_url.hostname != "postgres":
            errors.append(f"{where}: DATABASE_URL should log in as regal_{part} at postgres")
        if f"'regal_{part}'" not in init_sql:
            errors.append(f"{where}: deploy/postgres/init.sql creates no role regal_{part}")
        depends = service.get("depends_on") or {}
        needed = {"postgres", "redis"} | ({"catalog"} if part == "sales" else set()) | (set(SERVICES) if part == "gateway" else set())
        for dependency in sorted(needed):
            if (depends.get(dependency) or {}).get("condition") != "service_healthy":
                errors.append(f"{where}: depends_on {dependency} with condition service_healthy is missing")
        for published in service.get("ports") or []:
            if published.get("target") != port:
                errors.append(f"{where}: publishes container port {published.get('target')}, but {part} listens on {port}")
            published_addresses.add(published.get("host_ip"))
        if part != "gateway" and service.get("ports"):
            errors.append(f"{where}: only the gateway (and nginx) should publish ports")
    for name, service in services.items():
        if name not in PARTS:
            for published in service.get("ports") or []:
                published_addresses.add(published.get("host_ip"))
        for dependency in service.get("depends_on") or {}:
            if dependency in services and "healthcheck" not in services[dependency]:
                errors.append(f"compose {name}: depends on {dependency}, which has no healthcheck")
    if published_addresses - {"127.0.0.1"}:
        errors.append(f"compose: with .env.example, ports must bind 127.0.0.1 (got {sorted(map(str, published_addresses))})")
    if "nginx" in services and "proxy" not in (services["nginx"].get("profiles") or []):
        errors.append("compose nginx: should be optional (profile proxy)")

    # .env.example documents exactly the variables docker-compose.yml interpolates.
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose_raw))
    for name in sorted(interpolated - set(env_example)):
        errors.append(f".env.example: does not document {name}, which docker-compose.yml uses")
    for name in sorted(set(env_example) - interpolated):
        errors.append(f".env.example: {name} is not used by docker-compose.yml")


def parse_env_file(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip()
    return values


# --------------------------------------------------------------------------- Dockerfile and SQL


def check_dockerfile(dockerfile: str, code: CodeFacts, errors: list[str]) -> int | None:
    text = re.sub(r"\\\n", " ", dockerfile)
    if not re.search(r"cargo build[^\n]*--release[^\n]*--locked[^\n]*(-p|--package)\s+regal\b", text):
        errors.append("Dockerfile: does not build `cargo build --release --locked --package regal`")
    if f"target/release/{code.binary_name}" not in text:
        errors.append(f"Dockerfile: does not install target/release/{code.binary_name} (the [[bin]] of regal/Cargo.toml)")
    if not re.search(r"COPY --from=\S+ \S+ " + re.escape(BINARY_PATH) + r"\s", text):
        errors.append(f"Dockerfile: the runtime image has no {BINARY_PATH}")
    entrypoint = re.search(r"^ENTRYPOINT\s+(\[.*\])", text, re.M)
    if not entrypoint or json.loads(entrypoint.group(1)) != [BINARY_PATH]:
        errors.append(f"Dockerfile: ENTRYPOINT should be [\"{BINARY_PATH}\"]")
    cmd = re.search(r"^CMD\s+(\[.*\])", text, re.M)
    if cmd:
        args = json.loads(cmd.group(1))
        if args[:1] != ["serve"] or (len(args) > 1 and args[1] not in code.parts):
            errors.append(f"Dockerfile: CMD {args} is not `serve <part>`")
    healthcheck = re.search(r"^HEALTHCHECK\s.*?CMD\s+(\[.*\])", text, re.M)
    if not healthcheck:
        errors.append("Dockerfile: no HEALTHCHECK")
    else:
        args = json.loads(healthcheck.group(1))
        if args[:2] != [BINARY_PATH, "healthcheck"] or "healthcheck" not in code.commands or (len(args) > 2 and args[2] not in code.parts):
            errors.append(f"Dockerfile: HEALTHCHECK {args} is not `{BINARY_PATH} healthcheck <part>`")
        if cmd and len(args) > 2 and len(json.loads(cmd.group(1))) > 1 and args[2] != json.loads(cmd.group(1))[1]:
            errors.append("Dockerfile: HEALTHCHECK checks another part than CMD serves")
    exposed = {int(port) for line in re.findall(r"^EXPOSE\s+(.*)$", text, re.M) for port in line.split()}
    wanted = {code.default_ports.get(port_env(part)) for part in PARTS}
    if exposed != wanted:
        errors.append(f"Dockerfile: EXPOSE {sorted(exposed)} differs from the default ports {sorted(p for p in wanted if p)}")
    if not re.search(r"^ENV\b[^\n]*\bHOST=0\.0\.0\.0", text, re.M):
        errors.append("Dockerfile: the image should set HOST=0.0.0.0 (the code binds 127.0.0.1 by default)")
    for name in re.findall(r"^ENV\s+(.*)$", text, re.M):
        for assignment in re.findall(r"([A-Z][A-Z0-9_]*)=", name):
            if assignment not in code.env_names and assignment not in ("SQLX_OFFLINE", "CARGO_TERM_COLOR"):
                errors.append(f"Dockerfile: sets {assignment}, which the code does not read")
    runtime = text[text.rfind("\nFROM ") :]
    user = re.search(r"^USER\s+(\d+)(?::\d+)?\s*$", runtime, re.M)
    if not user or int(user.group(1)) == 0:
        errors.append("Dockerfile: the runtime stage must run as a numeric non-root USER (Kubernetes runAsNonRoot checks it)")
        return None
    return int(user.group(1))


def check_init_sql(init_sql: str, code: CodeFacts, errors: list[str]) -> None:
    for svc, schema in code.schemas.items():
        if not re.search(rf"create schema if not exists {schema} authorization regal_{svc}\b", init_sql):
            errors.append(f"deploy/postgres/init.sql: no schema `{schema}` owned by regal_{svc} (services/{svc} migrates into `{schema}`)")
    for match in re.findall(r"create schema if not exists (\w+)", init_sql):
        if match not in code.schemas.values():
            errors.append(f"deploy/postgres/init.sql: creates schema {match}, which no service uses")


# --------------------------------------------------------------------------- driver


@dataclass
class Artifacts:
    renders: list[Render]
    compose: dict
    compose_raw: str
    env_example: dict[str, str]
    dockerfile: str
    init_sql: str
    init_copies_equal: list[str]


def load_artifacts(root: Path, rendered: list[tuple[str, Path]], compose_json: Path) -> Artifacts:
    template = {}
    for secret in yaml.safe_load_all((root / "k8s/base/secrets.example.yaml").read_text()):
        if secret:
            template[secret["metadata"]["name"]] = decode_secret(secret)
    renders = [
        Render(name, [obj for obj in yaml.safe_load_all(path.read_text()) if obj], template)
        for name, path in rendered
    ]
    differing = []
    for name in ("init.sql", "initdb.sh"):
        original = root / "deploy/postgres" / name
        copy_path = root / "k8s/components/dev-datastores/postgres" / name
        if original.read_bytes() != copy_path.read_bytes():
            differing.append(f"{copy_path.relative_to(root)} differs from {original.relative_to(root)}: copy it again")
    return Artifacts(
        renders=renders,
        compose=json.loads(compose_json.read_text()),
        compose_raw=(root / "docker-compose.yml").read_text(),
        env_example=parse_env_file((root / ".env.example").read_text()),
        dockerfile=(root / "Dockerfile").read_text(),
        init_sql=(root / "deploy/postgres/init.sql").read_text(),
        init_copies_equal=differing,
    )


def run_checks(code: CodeFacts, artifacts: Artifacts) -> list[str]:
    errors: list[str] = []
    sanity_check_code_facts(code, errors)
    uid = check_dockerfile(artifacts.dockerfile, code, errors)
    for render in artifacts.renders:
        check_render(render, code, errors, uid)
        if render.name == "overlays/prod":
            check_prod_render(render, errors)
        if render.name == "overlays/dev":
            check_dev_render(render, errors)
    check_compose(artifacts.compose, artifacts.compose_raw, artifacts.env_example, artifacts.init_sql, code, errors)
    check_init_sql(artifacts.init_sql, code, errors)
    errors.extend(artifacts.init_copies_equal)
    if "/regal/postgres/init.sql" not in artifacts.compose_raw:
        errors.append("docker-compose.yml: init.sql is not mounted where deploy/postgres/initdb.sh reads it (/regal/postgres/init.sql)")
    return errors


def self_test(code: CodeFacts, artifacts: Artifacts) -> list[str]:
    """Each careless edit must be caught; returns the ones that were not."""
    mutations = {
        "AUTH_PORT renamed to AUTHN_PORT in libs/config": lambda c: (
            c.env_names.discard("AUTH_PORT"),
            c.env_names.add("AUTHN_PORT"),
            c.default_ports.__setitem__("AUTHN_PORT", c.default_ports.pop("AUTH_PORT")),
        ),
        "catalog's default port moved to 50062": lambda c: c.default_ports.__setitem__("CATALOG_PORT", 50062),
        "REDIS_URL renamed to CACHE_URL": lambda c: (c.env_names.discard("REDIS_URL"), c.env_names.add("CACHE_URL"), c.production_required.discard("REDIS_URL"), c.production_required.add("CACHE_URL")),
        "`healthcheck` sub-command renamed to `health`": lambda c: (c.commands.discard("healthcheck"), c.commands.add("health")),
        "`migrate` sub-command removed": lambda c: c.commands.discard("migrate"),
        "catalog's gRPC service renamed": lambda c: c.grpc_service_names.__setitem__("catalog", "regal.catalog.v2.CatalogService"),
        "sales's schema renamed to sale": lambda c: c.schemas.__setitem__("sales", "sale"),
        "gateway's /health route moved to /healthz": lambda c: (c.gateway_routes.discard("/health"), c.gateway_routes.add("/healthz")),
        "production newly requires SENTRY_DSN": lambda c: (c.env_names.add("SENTRY_DSN"), c.production_required.add("SENTRY_DSN")),
    }
    escaped = []
    for description, mutate in mutations.items():
        mutated = copy.deepcopy(code)
        mutate(mutated)
        if not run_checks(mutated, artifacts):
            escaped.append(description)

    # And careless edits of the deployment files themselves.
    def config_port(artifacts: Artifacts) -> None:
        for render in artifacts.renders:
            for name, config in render.by_kind.get("ConfigMap", {}).items():
                if base_name(name) == "regal-config":
                    config["data"]["CATALOG_PORT"] = "50062"

    def compose_url(artifacts: Artifacts) -> None:
        artifacts.compose["services"]["sales"]["environment"]["CATALOG_SERVICE_URL"] = "http://catalog:50053"

    def no_sales_egress(artifacts: Artifacts) -> None:
        for render in artifacts.renders:
            policy = render.get("NetworkPolicy", "regal-sales")
            if policy is not None:
                policy["spec"]["egress"] = []

    def env_typo(artifacts: Artifacts) -> None:
        artifacts.compose["services"]["gateway"]["environment"]["CORS_ORIGIN"] = "https://x"

    artifact_mutations = {
        "CATALOG_PORT changed in regal-config, container port and probes left": config_port,
        "sales given the wrong CATALOG_SERVICE_URL port in compose": compose_url,
        "sales → catalog egress removed from the network policies": no_sales_egress,
        "a misspelt variable (CORS_ORIGIN) in compose": env_typo,
    }
    for description, mutate in artifact_mutations.items():
        mutated_artifacts = copy.deepcopy(artifacts)
        mutate(mutated_artifacts)
        if not run_checks(code, mutated_artifacts):
            escaped.append(description)
    return escaped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--rendered", action="append", default=[], metavar="NAME=FILE", help="a rendered kustomize combination")
    parser.add_argument("--compose-json", type=Path, required=True, help="`docker compose config --format json` output")
    parser.add_argument("--self-test", action="store_true", help="also check that typical code edits are caught")
    options = parser.parse_args()

    rendered = [(item.split("=", 1)[0], Path(item.split("=", 1)[1])) for item in options.rendered]
    code = read_code_facts(options.root)
    artifacts = load_artifacts(options.root, rendered, options.compose_json)
    errors = run_checks(code, artifacts)
    for error in errors:
        print(f"  ✗ {error}", file=sys.stderr)
    if errors:
        print(f"deploy cross-check: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print(
        f"deploy cross-check: {len(artifacts.renders)} kustomize renders, docker-compose.yml, .env.example, "
        f"Dockerfile and init.sql agree with the code ({len(code.env_names)} variables, ports "
        f"{sorted(code.default_ports.values())}, sub-commands {sorted(code.commands)})"
    )
    if options.self_test:
        escaped = self_test(code, artifacts)
        for description in escaped:
            print(f"  ✗ self-test: not caught: {description}", file=sys.stderr)
        if escaped:
            return 1
        print("deploy cross-check self-test: every simulated careless edit (code and manifests) was caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
