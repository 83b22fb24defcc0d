# Shared by scripts/serve and scripts/test. Sourced, not run.
# ensure_venv [dev]: a virtual environment in .venv with the project (and its dev tools) installed,
# reinstalled whenever pyproject.toml or constraints.txt changed.

PYTHON=${PYTHON:-python3}

say() { printf '\033[1m%s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

apt_install() {
    command -v apt-get >/dev/null || return 1
    say "installing Debian packages: $*"
    if [ -z "${_APT_UPDATED:-}" ]; then as_root apt-get update -qq || return 1; _APT_UPDATED=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_venv() {
    local extras=${1:-}
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        say "tiaojie needs Python 3.11 or newer ($PYTHON is $("$PYTHON" -V 2>&1))"; exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        if ! "$PYTHON" -m venv .venv 2>/dev/null; then
            rm -rf .venv
            apt_install python3-venv python3-dev || { say "install python3-venv first"; exit 1; }
            "$PYTHON" -m venv .venv
        fi
    fi
    local spec="."
    [ -n "$extras" ] && spec=".[$extras]"
    local stamp=".venv/.tiaojie-$extras"
    local want
    want=$(cat pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing tiaojie${extras:+ with $extras tools} into .venv"
        .venv/bin/python -m pip install -q --upgrade pip
        .venv/bin/python -m pip install -q -c constraints.txt -e "$spec"
        echo "$want" > "$stamp"
    fi
}

# build_client: the party page's script (web/client/) bundled into web/static/client/ with esbuild from npm.
# Runs `npm ci` when package-lock.json changed and the bundle when any source changed (stamped by hash).
build_client() {
    local dir=web/client out=web/static/client
    if ! command -v npm >/dev/null; then
        if [ -f "$out/party.js" ]; then say "npm not found: keeping the existing client bundle"; return 0; fi
        apt_install nodejs npm || { say "install Node.js and npm to build the party page (web/client)"; exit 1; }
    fi
    local lock
    lock=$(sha256sum "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)
    if [ ! -d "$dir/node_modules" ] || [ "$(cat "$dir/node_modules/.tiaojie-lock" 2>/dev/null)" != "$lock" ]; then
        say "installing the client's npm packages"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
        echo "$lock" > "$dir/node_modules/.tiaojie-lock"
    fi
    local want
    want=$( (echo "$lock"; find "$dir/src" -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)
    if [ ! -f "$out/party.js" ] || [ "$(cat "$out/.stamp" 2>/dev/null)" != "$want" ]; then
        say "bundling the client (web/client → $out)"
        (cd "$dir" && npm run --silent build) || exit 1
        echo "$want" > "$out/.stamp"
    fi
}
