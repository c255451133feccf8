// libmount, loaded on first use instead of linked.
//
// Only mntopts=, the tmpfs method, unmnt_remnt/unmnt_only and a close that
// must find its mounts by path use libmount; a plain session does not. Linked,
// libmount (with libblkid and the shared libselinux it pulls in) was opened,
// mapped and relocated by every process that loaded pam_polyns.so: about a
// third of the module's load cost per login (tests/bench). Nothing here may
// call a mnt_* function directly: the module must not reference libmount, so
// that --as-needed keeps it out of NEEDED.
#pragma once

#include <libmount.h>

#include "polyns/result.hpp"

namespace polyns::sys {

// The libmount functions polyns uses (decltype names the type only: no
// reference to the symbol is made).
struct LibMount {
    decltype(&::mnt_optstr_next_option) optstr_next_option;
    decltype(&::mnt_split_optstr) split_optstr;
    decltype(&::mnt_optstr_get_flags) optstr_get_flags;
    decltype(&::mnt_get_builtin_optmap) get_builtin_optmap;
    decltype(&::mnt_new_table) new_table;
    decltype(&::mnt_unref_table) unref_table;
    decltype(&::mnt_table_parse_file) table_parse_file;
    decltype(&::mnt_new_iter) new_iter;
    decltype(&::mnt_free_iter) free_iter;
    decltype(&::mnt_table_next_fs) table_next_fs;
    decltype(&::mnt_fs_get_id) fs_get_id;
    decltype(&::mnt_fs_get_parent_id) fs_get_parent_id;
    decltype(&::mnt_fs_get_target) fs_get_target;
    decltype(&::mnt_fs_get_root) fs_get_root;
    decltype(&::mnt_fs_get_fstype) fs_get_fstype;
    decltype(&::mnt_fs_get_source) fs_get_source;
    decltype(&::mnt_fs_get_vfs_options) fs_get_vfs_options;
    decltype(&::mnt_fs_get_fs_options) fs_get_fs_options;
    decltype(&::mnt_fs_get_devno) fs_get_devno;
};

// dlopen("libmount.so.1") once per load of the module (or program); closed
// again when it is unloaded. An Error (step "load libmount") if it cannot be
// loaded or lacks a function.
Result<const LibMount*> libmount();

}  // namespace polyns::sys
