# Shared by scripts/test.sh and scripts/demo.sh (sourced, not run).
# Needs: the caller's working directory is the source tree's root.

# setup_build_dir DIR [MESON_OPTION...]: make DIR a configured Meson build
# directory with warnings as errors, whatever state it was left in: fresh,
# configured by an older tree (reconfigure), or broken/foreign (wipe).
setup_build_dir() {
    local dir="$1"
    shift
    local options=(--werror "$@")
    if [[ -f "$dir/meson-private/coredata.dat" ]]; then
        meson setup --reconfigure "${options[@]}" "$dir" \
            || meson setup --wipe "${options[@]}" "$dir"
    elif [[ -e "$dir" ]]; then
        meson setup --wipe "${options[@]}" "$dir"
    else
        meson setup "${options[@]}" "$dir"
    fi
}

# The system-test harness (tests/system/lib/harness.sh) mounts private tmpfs
# over these directories inside its namespace; a checkout or build directory
# below one of them vanishes from under its own tests.
harness_hidden_dirs=(/tmp /var/tmp /home /root /run)

# run_from_visible_copy SCRIPT [ARG...]: when running as root from a source
# tree below one of harness_hidden_dirs (e.g. a CI clone in /tmp), copy the
# tree (without build directories) to /var/lib/polyns-test/ and re-run SCRIPT
# from there. Returns only when no copy is needed.
run_from_visible_copy() {
    local script="$1"
    shift
    ((EUID == 0)) || return 0
    local dir
    for dir in "${harness_hidden_dirs[@]}"; do
        if [[ "$PWD/" == "$dir/"* ]]; then
            local copy="/var/lib/polyns-test/tree${PWD//\//_}"
            echo "note: $PWD is below $dir, which the system tests hide behind a private tmpfs;"
            echo "note: running from a copy in $copy"
            mkdir -p -- "$copy"
            # Fresh sources; the copy's own build dirs stay for incremental builds.
            find "$copy" -mindepth 1 -maxdepth 1 ! -name build ! -name build-asan -exec rm -rf -- {} +
            tar -C "$PWD" --exclude=./build --exclude='./build-*' -cf - . | tar -C "$copy" -xf -
            cd -- "$copy"
            exec bash "$script" "$@"
        fi
    done
}
