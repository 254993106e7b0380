# Shared by scripts/run and scripts/test: find Python >= 3.12 and keep .venv in step with pyproject.toml.
# shellcheck shell=bash

MIN_PY_MINOR=12

py_ok() {
    # True when "$1" runs and is CPython 3.x with x >= MIN_PY_MINOR.
    "$1" -c "import sys; sys.exit(0 if sys.version_info[:2] >= (3, ${MIN_PY_MINOR}) else 1)" >/dev/null 2>&1
}

find_python() {
    local candidate
    if [ -n "${EVENT_HUB_PYTHON:-}" ]; then
        if py_ok "$EVENT_HUB_PYTHON"; then echo "$EVENT_HUB_PYTHON"; return 0; fi
        echo "EVENT_HUB_PYTHON=$EVENT_HUB_PYTHON is not a Python >= 3.${MIN_PY_MINOR}" >&2
        return 1
    fi
    # 1. Interpreters on PATH (pyenv shims only count if they actually run).
    for candidate in python3.12 python3.13 python3.14 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 && py_ok "$candidate"; then
            command -v "$candidate"; return 0
        fi
    done
    # 2. Versions installed under pyenv, the lowest suitable one first (3.12 before 3.13).
    local root=""
    if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root 2>/dev/null || true)"; fi
    [ -z "$root" ] && [ -d "$HOME/.pyenv" ] && root="$HOME/.pyenv"
    if [ -n "$root" ] && [ -d "$root/versions" ]; then
        for candidate in $(ls "$root/versions" 2>/dev/null | grep -E '^3\.[0-9]+\.[0-9]+$' | sort -V); do
            if [ -x "$root/versions/$candidate/bin/python3" ] && py_ok "$root/versions/$candidate/bin/python3"; then
                echo "$root/versions/$candidate/bin/python3"; return 0
            fi
        done
    fi
    cat >&2 <<MSG
event_hub needs Python >= 3.${MIN_PY_MINOR} and none was found on PATH or under pyenv.
Install one, for example:
  pyenv install 3.12            (then re-run this command), or
  apt-get install python3.12 python3.12-venv   (Debian/Ubuntu with a 3.12 package), or
  point EVENT_HUB_PYTHON at an interpreter: EVENT_HUB_PYTHON=/path/to/python3.12 $0
MSG
    return 1
}

# ensure_venv EXTRAS: create .venv if needed and install the project with those extras
# when pyproject.toml (or the extras) changed since the last install.
ensure_venv() {
    local extras="$1" python stamp wanted
    if [ ! -x .venv/bin/python ] || ! py_ok .venv/bin/python; then
        python="$(find_python)" || exit 1
        echo "==> creating .venv with $("$python" --version 2>&1) ($python)"
        rm -rf .venv
        "$python" -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
    fi
    stamp=".venv/.event_hub-installed"
    wanted="$(cat pyproject.toml | sha256sum | cut -c1-16) $extras"
    if [ ! -f "$stamp" ] || ! grep -qxF "$wanted" "$stamp"; then
        echo "==> installing event_hub[$extras] into .venv"
        .venv/bin/python -m pip install --quiet -e ".[$extras]"
        echo "$wanted" >> "$stamp"
    fi
}

# supervise PIDFILE LOG COMMAND...: run COMMAND in a process group of its own (setsid), output appended
# to LOG, and start it again whenever it exits (a Celery worker can exit on a broker restart), after
# SUPERVISE_PAUSE seconds (default 2). The running command's pid is kept in PIDFILE. Runs until killed.
supervise() {
    local pidfile="$1" log="$2" child status
    shift 2
    trap 'exit 0' TERM INT
    while true; do
        setsid "$@" >>"$log" 2>&1 &
        child=$!
        echo "$child" >"$pidfile"
        status=0
        wait "$child" || status=$?
        echo "==> supervise: '$1' exited with status $status; restarting in ${SUPERVISE_PAUSE:-2} s" >>"$log"
        sleep "${SUPERVISE_PAUSE:-2}"
    done
}
