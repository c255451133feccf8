// The benchmark's world: users, templates, the two modules' configurations,
// PAM services and extra mounts, all inside the harness's throwaway mount
// namespace (tests/system/lib/harness.sh). Nothing here may run on the host:
// require_harness_namespace() refuses that first.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace polyns::bench {

// PAM services the benchmark writes into the private /etc/pam.d.
inline constexpr const char* service_pam_floor = "polyns-bench-permit";
inline constexpr const char* service_module_floor = "polyns-bench-noop";  // pam_permit + a no-op module
inline constexpr const char* service_linux_pam = "polyns-bench-linux-pam";
inline constexpr const char* service_polyns = "polyns-bench-polyns";
inline constexpr const char* service_polyns_persist = "polyns-bench-persist";  // + persist (issue 16)
inline constexpr const char* service_polyns_loop = "polyns-bench-loop";  // + unmount_on_close

// polyns reads this file (conf=); Linux-PAM has no such option and reads
// /etc/security/namespace.conf.
inline constexpr const char* polyns_config_path = "/etc/security/polyns-bench.conf";
inline constexpr const char* linux_pam_config_path = "/etc/security/namespace.conf";
inline constexpr const char* init_script_path = "/etc/security/namespace.init";

// One polydir as the kernel floor needs it (the same instance polyns uses).
struct KernelStep {
    std::string polydir;
    std::string template_dir;
    std::string instance_name;
    uid_t uid = 0;  // a new instance: the user's, group their primary group, 0700
    gid_t gid = 0;
};

struct BenchUser {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
};

// Exits with a message unless this process is inside the harness world.
void require_harness_namespace();

// The users added by the wrapper (bench00, bench01, ...), looked up by NSS.
std::vector<BenchUser> bench_users(int count);

class World {
public:
    explicit World(std::string module_path);

    // Writes templates, both configs and the PAM services for `polydirs`
    // polydirs (/tmp, /var/tmp, then /run/polyns-test/bench/pd/NN).
    void configure(int polydirs);

    // namespace.init present (Debian's, as shipped) or absent. Absent by
    // default: then neither module forks, and the kernel floor runs no script
    // either, so all three do the same work.
    void set_init_script(bool present);
    bool init_script_present() const { return init_script_present_; }

    // Adds tmpfs mounts until the namespace's mount table has `count`
    // entries; returns the resulting size (never shrinks).
    int grow_mount_table(int count);

    std::vector<KernelStep> kernel_steps(const BenchUser& user) const;
    int polydirs() const { return polydirs_; }
    const std::string& module_path() const { return module_path_; }

private:
    std::string module_path_;
    int polydirs_ = 0;
    int extra_mounts_ = 0;
    std::string saved_init_script_;
    bool init_script_present_ = true;
};

// Entries in /proc/self/mountinfo.
int mount_table_size();

}  // namespace polyns::bench
