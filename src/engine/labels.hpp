// SELinux labels in the engine (DESIGN invariant 14): every new instance is
// labelled by fd before it is chowned and mounted. Only steps the planner
// gave a SelinuxLabel (SELinux on, method not tmpfs) are touched.
#pragma once

#include <string>

#include "pinned_step.hpp"
#include "polyns/plan.hpp"
#include "polyns/result.hpp"
#include "polyns/sys/selinux.hpp"

namespace polyns::engine {

// The label a new instance of the step gets, read once the polydir is pinned:
// level/context: the planned one, after checking that the pinned polydir
// still has the label it was computed from; user/tmpdir: the pinned
// polydir's own label (pam_namespace's fsetfilecon(ocontext)). "" without
// SELinux.
Result<std::string> instance_label(const MountStep& step, const PinnedStep& pinned);

// fsetfilecon on a new instance's fd; "" does nothing.
Result<void> label_new_instance(int fd, const std::string& label, const std::string& path);

// A pre-existing instance whose name does not carry its context (polyns's
// explicit form) must already have the planned label: a session at another
// level never gets it.
Result<void> check_existing_instance_label(const MountStep& step, int fd, const std::string& path);

// create=: while alive, new directories of this thread get file_contexts'
// label for the polydir (setfscreatecon, restored afterwards).
class PolydirCreateLabel {
public:
    Result<void> apply(const MountStep& step);

private:
    sys::selinux::FsCreateContext fscreate_;
};

}  // namespace polyns::engine
