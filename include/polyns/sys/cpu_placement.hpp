// Which CPUs the calling thread may run on: saved, narrowed, restored.
#pragma once

#include <sched.h>

namespace polyns::sys {

// Namespace ids come from per-CPU batches on recent kernels (6.18 here), so a
// namespace made on one CPU can have a lower id than an older one made on
// another; the kernel then refuses to bind it into the older one (EINVAL, its
// loop check). Building the namespace again on another CPU gets past it.
class CpuPlacement {
public:
    // The calling thread's allowed CPUs, as they are now.
    static CpuPlacement save();
    // Restricts the thread to the `n`-th allowed CPU (n counts from 0, wraps);
    // false when there is only one or the kernel refused.
    bool move_to(unsigned n) const;
    // Back to the saved set (nothing when save() failed).
    void restore() const;
    unsigned count() const { return valid_ ? static_cast<unsigned>(CPU_COUNT(&allowed_)) : 0; }

private:
    cpu_set_t allowed_{};
    bool valid_ = false;
};

}  // namespace polyns::sys
