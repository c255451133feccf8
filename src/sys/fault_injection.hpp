// Test-only fault injection (issue 6, catalogue entry 13): makes one sys-layer
// step fail as if its syscall had, so the tests can prove that every failure
// is rolled back. Private to src/sys.
//
// It exists only in objects compiled with POLYNS_FAULT_INJECTION, which meson
// does for the test-only pam_polyns_faults.so (-Dfault_injection=true) and
// never for pam_polyns.so or polyns: in a production build every
// injected_fault() call is the constant 0 and the environment is never read.
//
// With the seam compiled in, POLYNS_FAULT=POINT[:NTH[:ERRNO]] makes the NTH
// (default 1) call of POINT in this process fail with ERRNO (a number or one
// of EIO EPERM ENOSPC ENOMEM EMFILE EACCES; default EIO), or, with "sleepMS"
// in place of ERRNO, pause MS milliseconds there and go on (to hold a race
// window open). "NTH+" fails that call and every later one (a lasting
// failure, which retries do not get past). Several specs, comma-separated,
// fail several points: "mount:2,setns:1+" fails the second mount, then the
// rollback's way back. Points:
//   unshare  propagation  mkdirat  fchown  fchmod  mount (bind or tmpfs)
//   mount_setattr (flags on a new bind)  init_script
//   statmount (the nested-session check's kernel answer: any NTH and ERRNO make
//   it one without statmount, so the mount table is read instead)
//   and, for open_path/open_below, the caller's step text with spaces as '_':
//   open_template, open_polydir, use_instance, create_instance, ...
// and the rollback's own steps (issue 6, entry 13; reached on a failed open
// only by the rollback, as long as unmnt_remnt is not used):
//   detach (umount2 of a mount made)  remove_instance (a new tmpdir instance)
//   rmdir (a polydir made by create=)  setns (back to the original namespace)
//   restore_root  restore_cwd (after setns)
#pragma once

#include <string_view>

namespace polyns::sys {

#if defined(POLYNS_FAULT_INJECTION)
// The errno to fail `point` with now, or 0 to go on (spaces in `point` count
// as '_', so a step text like "open template" can be passed as it is).
int injected_fault(std::string_view point);
#else
constexpr int injected_fault(std::string_view) { return 0; }
#endif

}  // namespace polyns::sys
