# Shared by the release lanes (.ci/release-check, .ci/pythons, .ci/lowest); sourced, not run.
# Each lane runs from the repository root, prints "== NAME: ..." progress lines, and ends
# with "== NAME: passed in N s" or a line "NAME: FAILED: why" on stderr and a non-zero exit.

LANE=${LANE:-lane}
LANE_START=$SECONDS
ROOT=$PWD
TOOLS=$ROOT/.ci-venv  # build, twine and tox, pinned (gitignored)

step() { echo "== $LANE: $* ($((SECONDS - LANE_START)) s)"; }
fail() { echo "$LANE: FAILED: $*" >&2; exit 1; }
passed() { echo "== $LANE: passed in $((SECONDS - LANE_START)) s"; }

# The lane's scratch directory, outside the source tree, removed at exit.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gzmq-$LANE.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

tools() {
    # A virtualenv with the release tools, made (or completed) on first use.
    if ! "$TOOLS/bin/python" -c 'import build, twine, tox' 2>/dev/null; then
        python3 -m venv "$TOOLS" || fail "python3 -m venv $TOOLS"
        "$TOOLS/bin/pip" install -q --disable-pip-version-check \
            'build==1.6.1' 'twine==7.0.0' 'tox==4.67.17' || fail "pip install build twine tox"
    fi
}

find_python() {
    # find_python 3.12: the path of a working CPython 3.12 (PATH, then pyenv's versions).
    local version=$1 candidate
    local pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
    for candidate in "$(command -v "python$version" 2>/dev/null)" \
            $(ls -d "$pyenv_root"/versions/"$version".*/bin/python"$version" 2>/dev/null | sort -rV); do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if "$candidate" -c "import platform, sys
sys.exit(platform.python_implementation() != 'CPython' or '%d.%d' % sys.version_info[:2] != '$version')" \
                2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

expose_pythons() {
    # expose_pythons 3.10 3.12: put pythonX.Y for each on PATH (tox finds interpreters by
    # name; pyenv's shims answer only for the active version). Fails if one is missing.
    mkdir -p "$WORK/bin"
    local version found
    for version in "$@"; do
        found=$(find_python "$version") || fail "CPython $version not found (PATH, pyenv)"
        ln -sf "$found" "$WORK/bin/python$version"
        echo "   python$version: $found ($("$found" -c 'import sys; print(sys.version.split()[0])'))"
    done
    export PATH="$WORK/bin:$PATH"
}
