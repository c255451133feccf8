// Pinning a mount namespace in a root-only directory and finding it again
// (the `persist` mode, issue 16). What `unshare --mount=FILE` and `ip netns`
// do: an nsfs bind mount on a file that lies on a *private* mount, so the pin
// never propagates into the namespace it names (the kernel would refuse a
// namespace that can reach itself).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "polyns/result.hpp"
#include "polyns/sys/credentials.hpp"
#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {

// /run/polyns/ns: root:root 0700, a private mount of its own.
inline constexpr const char* pin_directory = "/run/polyns/ns";
// Beside the pin UID: its record (polyns/persist.hpp).
inline constexpr const char* pin_record_suffix = ".rec";

// Opens the pin directory, checked: a directory, root-owned, mode 0700 (no
// access for anyone else). Without create: only that (ENOENT when absent); a
// session's namespace sees the same directory, with the lock and record files
// but without the pins (unshare never copies a mount namespace's nsfs bind
// mounts: the kernel skips them, since Linux 3.18, so no namespace holds
// another alive and the default path has nothing to detach).
//
// With create (a session that pins or joins): makes /run/polyns (0700, shared
// with the other state of the module) and the directory when missing, turns it
// into a private mount of its own (a bind of itself), and records in its file
// `home` the mount namespace it was made in, where the pins live. A caller in
// any other namespace (a nested session: su in another user's session, whose
// copy of the directory has no pins) gets EXDEV: pins made there would live in
// that session's namespace.
Result<UniqueFd> open_pin_directory(bool create);
// EXDEV unless the calling thread is in the namespace the pins live in (or
// none was recorded yet).
Result<void> check_pin_home(int dir_fd);

// flock(LOCK_EX) on DIR/NAME (created 0600 when missing); released when the fd closes.
Result<UniqueFd> lock_in_directory(int dir_fd, const std::string& name);

// Identity of a namespace: the nsfs inode (and device) that names it.
struct NamespaceId {
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const NamespaceId& o) const { return dev == o.dev && ino == o.ino; }
    bool operator!=(const NamespaceId& o) const { return !(*this == o); }
};

Result<NamespaceId> namespace_id(int ns_fd);
// The calling thread's mount namespace (/proc/thread-self/ns/mnt).
Result<UniqueFd> open_thread_mount_namespace();

// Opens DIR/NAME as a pinned mount namespace and checks that it is one we
// could have made: a mount point whose root is an nsfs inode, of type mnt,
// owned by the caller's own user namespace (a namespace a user made with
// `unshare -Urm` is owned by her user namespace and is refused). ENOENT when
// there is no pin; any other refusal is an Error saying which check failed.
Result<UniqueFd> open_pinned_namespace(int dir_fd, const std::string& name);

// Bind-mounts the namespace `ns_fd` onto DIR/NAME (the file is created 0400
// when missing). The caller must be in a namespace older than the one it
// pins, on a private mount. EINVAL is retried a few times: on some kernels
// the bind of a freshly made namespace fails so now and then.
Result<void> pin_namespace(int ns_fd, int dir_fd, const std::string& name);

// Detaches whatever is mounted on DIR/NAME (nothing: fine) and unlinks the file.
Result<void> unpin_namespace(int dir_fd, const std::string& name);
// Under UID.lock, with no session counted: the record and the pin of NAME (a
// uid) go, and the session count file `live` when not empty. UID.lock stays:
// a waiter may hold it open.
Result<void> unpin_user(int dir_fd, const std::string& name, const std::string& live);

// Small root-owned text files beside the pins: written to a temporary name and
// renamed into place; read only if a regular root-owned file of at most
// `max_size` bytes, not a symlink.
Result<void> write_small_file(int dir_fd, const std::string& name, const std::string& content);
// nullopt when the file does not exist.
Result<std::optional<std::string>> read_small_file(int dir_fd, const std::string& name, std::size_t max_size);
Result<void> remove_file_at(int dir_fd, const std::string& name);
// The names in a directory (no . and ..), and a file's mtime (nullopt: no such file).
Result<std::vector<std::string>> directory_names(int dir_fd);
Result<std::optional<time_t>> file_mtime(int dir_fd, const std::string& name);

// Whether a process other than `except` has `ns` as its mount namespace (a
// walk of /proc that stops at the first; processes that vanish meanwhile do
// not count). Asked only before persist_clean empties instances.
Result<bool> other_process_in_namespace(const NamespaceId& ns, pid_t except);

// The session count of a pinned namespace (DIR/NAME, NAME = UID.live.INO, INO
// the namespace's inode: sessions of a replaced namespace count apart from
// those of the pin that replaced it): every open session
// holds a shared flock() on its own open of the file, from an O_CLOEXEC fd the
// PAM caller keeps until close; a crash (SIGKILL) closes the fd and so
// releases it. The user shell and what it execs never inherit it.
Result<UniqueFd> hold_session(int dir_fd, const std::string& name);
// Whether any session holds NAME now (an exclusive flock that does not wait
// fails): false also when the file does not exist.
Result<bool> sessions_held(int dir_fd, const std::string& name);

// chdir to `path` walked without symlinks (open_path), "/" when that fails:
// after setns() the kernel put the cwd at the namespace's root.
void change_directory_or_root(const std::string& path);
// getcwd(), or "/" when unknown.
std::string current_directory();

}  // namespace polyns::sys
