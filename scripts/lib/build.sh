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
