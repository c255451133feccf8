#include "labels.hpp"

namespace polyns::engine {

Result<std::string> instance_label(const MountStep& step, const PinnedStep& pinned) {
    if (!step.selinux) return std::string();
    auto polydir = sys::selinux::fd_context(pinned.polydir_fd.get(), step.polydir);
    if (!polydir) return polydir.error();
    if (step.selinux->instance_context.empty()) return polydir.value();
    if (polydir.value() != step.selinux->polydir_context)
        return make_error("label instance for", step.polydir, "", 0,
                          "the polydir's label is " + polydir.value() + ", but the instance's name and label " +
                              step.selinux->instance_context + " were computed from " +
                              step.selinux->polydir_context + " (it changed, or another mount covers it)",
                          "restorecon " + step.polydir);
    return step.selinux->instance_context;
}

Result<void> label_new_instance(int fd, const std::string& label, const std::string& path) {
    if (label.empty()) return {};
    return sys::selinux::set_fd_context(fd, label, path);
}

Result<void> check_existing_instance_label(const MountStep& step, int fd, const std::string& path) {
    if (!step.selinux || !step.selinux->check_existing) return {};
    auto has = sys::selinux::fd_context(fd, path);
    if (!has) return has.error();
    if (has.value() == step.selinux->instance_context) return {};
    return make_error("use instance", path, "", 0,
                      "is labelled " + has.value() + ", expected " + step.selinux->instance_context +
                          "; refusing it (it may belong to another level of the user)",
                      "chcon " + step.selinux->instance_context + " " + path + ", or remove it if it is not this level's");
}

Result<void> PolydirCreateLabel::apply(const MountStep& step) {
    if (!step.selinux || step.selinux->create_context.empty()) return {};
    return fscreate_.set(step.selinux->create_context, step.polydir);
}

}  // namespace polyns::engine
