#include "polyns/sys/cpu_placement.hpp"

namespace polyns::sys {

CpuPlacement CpuPlacement::save() {
    CpuPlacement p;
    CPU_ZERO(&p.allowed_);
    p.valid_ = ::sched_getaffinity(0, sizeof p.allowed_, &p.allowed_) == 0;
    return p;
}

bool CpuPlacement::move_to(unsigned n) const {
    const unsigned total = count();
    if (total < 2) return false;
    n %= total;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &allowed_)) continue;
        if (n-- != 0) continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        return ::sched_setaffinity(0, sizeof one, &one) == 0;
    }
    return false;
}

void CpuPlacement::restore() const {
    if (valid_) (void)::sched_setaffinity(0, sizeof allowed_, &allowed_);
}

}  // namespace polyns::sys
