# shellcheck shell=bash
# Linux-PAM's pam_namespace.so, the reference that parity.sh and
# compat_differences.sh compare pam_polyns.so with. Source after harness.sh.
#
# The reference is observed, never assumed: a distribution update that fixes
# one of its bugs changes what it does, and a test must not fail for that.
# Tests assert polyns's behaviour; what the reference did is recorded with
# reference_seen and summed up by reference_summary, with its package version.

LINUX_PAM_MODULE=${LINUX_PAM_NAMESPACE:-/usr/lib/x86_64-linux-gnu/security/pam_namespace.so}
# The reference versions COMPATIBILITY.md describes, for reference_seen's
# "VALUE|SINCE" when a behaviour did not change between them.
REFERENCE_DOC="Linux-PAM 1.5.2, Debian -6+deb12u2 and -6+deb12u3"

# "libpam-modules 1.5.2-6+deb12u3" (the package that owns the module), or a
# note saying why the version is unknown.
reference_version() {
    local owner package version path
    # dpkg's database may name it below /lib (Debian 12 is usrmerged on disk
    # only), so ask for the path as given and without /usr.
    for path in "$LINUX_PAM_MODULE" "${LINUX_PAM_MODULE#/usr}"; do
        owner=$(dpkg-query -S "$path" 2>/dev/null | head -n 1) || true
        [[ -z $owner ]] || break
    done
    package=${owner%%: *}
    if [[ -z $owner || -z $package ]]; then
        echo "unknown version (no package owns $LINUX_PAM_MODULE)"
        return
    fi
    version=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null) || true
    echo "${package%%:*} ${version:-(version unknown)}"
}

# reference_start WORKDIR: say which reference runs, and start a fresh record
# in WORKDIR/reference.log (it survives the subshells the checks run in).
reference_start() {
    [[ -f $LINUX_PAM_MODULE ]] || skip "Linux-PAM's pam_namespace.so not found at $LINUX_PAM_MODULE"
    REFERENCE_VERSION=$(reference_version)
    REFERENCE_LOG=$1/reference.log
    : >"$REFERENCE_LOG"
    export REFERENCE_VERSION REFERENCE_LOG
    echo "reference: $LINUX_PAM_MODULE from $REFERENCE_VERSION (kernel $(uname -r))"
}

# reference_seen WHAT ACTUAL KNOWN...: records what the reference did.
# WHAT says what was looked at; ACTUAL is what it did; each KNOWN is
# "VALUE|SINCE" (the outcome COMPATIBILITY.md documents, and for which
# reference versions). An outcome matching none of them is recorded as NEW:
# a note to update COMPATIBILITY.md, not a failure.
reference_seen() {
    local what=$1 actual=$2 known value since
    shift 2
    for known in "$@"; do
        value=${known%%|*}
        since=${known#*|}
        if [[ $actual == "$value" ]]; then
            echo "REFERENCE: $what: [$actual] ($since)"
            printf 'known\t%s\t%s\t%s\t%s\n' "${REFERENCE_CHECK:-}" "$what" "$actual" "$since" >>"$REFERENCE_LOG"
            return 0
        fi
    done
    echo "REFERENCE NEW: $what: [$actual], documented: $(printf '[%s] ' "$@")"
    printf 'new\t%s\t%s\t%s\t%s\n' "${REFERENCE_CHECK:-}" "$what" "$actual" "$*" >>"$REFERENCE_LOG"
}

# yes_if_contains HAYSTACK NEEDLE / yes_unless_contains HAYSTACK NEEDLE:
# "yes" or "no", for reference_seen.
yes_if_contains() {
    if [[ $1 == *"$2"* ]]; then echo yes; else echo no; fi
}
yes_unless_contains() {
    if [[ $1 == *"$2"* ]]; then echo no; else echo yes; fi
}

# reference_summary: how many observations matched the documented behaviour,
# which were new, and the reference's version.
reference_summary() {
    local total new
    total=$(wc -l <"$REFERENCE_LOG")
    new=$(grep -c '^new' "$REFERENCE_LOG" || true)
    echo "reference $REFERENCE_VERSION: $total observations, $((total - new)) as COMPATIBILITY.md documents, $new new"
    if ((new)); then
        echo "reference behaviour not yet documented in COMPATIBILITY.md (not a failure; update the document):"
        awk -F'\t' '$1 == "new" { printf "  %s: %s: [%s]\n", $2, $3, $4 }' "$REFERENCE_LOG"
    fi
}
