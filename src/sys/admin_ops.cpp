#include "polyns/sys/admin_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cctype>
#include <sstream>

#include "polyns/sys/file_ops.hpp"
#include "polyns/sys/path.hpp"
#include "polyns/sys/trusted_file.hpp"
#include "polyns/sys/unique_fd.hpp"
#include "polyns/sys/selinux.hpp"

namespace polyns::sys {

Result<void> create_template_dir(const std::string& path, mode_t mode) {
    std::string parent, name;
    if (!split_parent(path, parent, name)) return make_error("create template", path, "", EINVAL, "no parent");
    auto pfd = open_path(parent, O_PATH | O_DIRECTORY, "open template parent");
    if (!pfd) return pfd.error();
    if (auto r = make_dir_at(pfd->get(), name, 0, "create template", path); !r) return r.error();
    auto fd = open_below(pfd->get(), name, O_RDONLY | O_DIRECTORY, "create template", path);
    if (!fd) return fd.error();
    auto st = stat_fd(fd->get(), "create template", path);
    if (!st) return st.error();
    if (st->st_uid != 0 || (st->st_mode & 07777) != 0)
        return make_error("create template", path, "", EBUSY, "was replaced while being created; not touching it");
    if (auto r = set_owner(fd->get(), 0, 0, "create template", path); !r) return r.error();
    return set_mode(fd->get(), mode, "create template", path);
}

Result<void> write_root_file(const std::string& path, const std::string& text) {
    std::string parent, name;
    if (!split_parent(path, parent, name)) return make_error("write", path, "", EINVAL, "no parent");
    auto pfd = open_path(parent, O_PATH | O_DIRECTORY, "open directory");
    if (!pfd) return pfd.error();
    const std::string tmp = "." + name + ".polyns-new";
    ::unlinkat(pfd->get(), tmp.c_str(), 0);
    UniqueFd fd(::openat(pfd->get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) return make_error("write", path, "openat", errno);
    if (::fchown(fd.get(), 0, 0) != 0 || ::fchmod(fd.get(), 0644) != 0) {
        ::unlinkat(pfd->get(), tmp.c_str(), 0);
        return make_error("write", path, "fchown", errno);
    }
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd.get()) != 0) {
        int err = errno ? errno : EIO;
        ::unlinkat(pfd->get(), tmp.c_str(), 0);
        return make_error("write", path, "write", err);
    }
    if (::renameat(pfd->get(), tmp.c_str(), pfd->get(), name.c_str()) != 0) {
        int err = errno;
        ::unlinkat(pfd->get(), tmp.c_str(), 0);
        return make_error("write", path, "renameat", err);
    }
    return {};
}

Result<int> run_program(const std::vector<std::string>& argv) {
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
        return make_error("run program", argv.empty() ? "" : argv[0], "", EINVAL, "needs an absolute path");
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return make_error("run program", argv[0], "fork", errno);
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null >= 0) ::dup2(null, 0);
        ::execv(argv[0].c_str(), args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return make_error("run program", argv[0], "waitpid", errno);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

void syslog_line(int priority, const std::string& line) {
    ::openlog("polyns", LOG_PID, LOG_AUTHPRIV);
    ::syslog(priority, "%s", line.c_str());
    ::closelog();
}

bool selinux_is_enabled() { return selinux::enabled(); }

std::optional<SelinuxBoolean> polyinstantiation_boolean() {
    auto text = selinux::polyinstantiation_boolean();  // "NAME=on|off"
    if (!text) return std::nullopt;
    auto eq = text->find('=');
    if (eq == std::string::npos) return std::nullopt;
    return SelinuxBoolean{text->substr(0, eq), text->substr(eq + 1) == "on"};
}

Result<void> restore_label(const std::string& path) {
    if (!selinux::enabled()) return {};
    auto want = selinux::file_contexts_dir_label(path);
    if (!want) return want.error();
    if (!*want) return {};  // the policy has no label for it: leave it
    auto fd = open_path(path, O_RDONLY | O_DIRECTORY, "restore label");
    if (!fd) return fd.error();
    return selinux::set_fd_context(fd->get(), **want, path);
}

std::string file_label(const std::string& path) {
    if (!selinux::enabled()) return {};
    auto label = selinux::path_context(path);
    return label ? *label : std::string();
}

std::vector<std::string> os_release_ids() {
    std::vector<std::string> ids;
    auto text = read_trusted_file("/etc/os-release", false);
    if (!text) text = read_trusted_file("/usr/lib/os-release", false);
    if (!text) return ids;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("ID=", 0) != 0 && line.rfind("ID_LIKE=", 0) != 0) continue;
        std::string value = line.substr(line.find('=') + 1);
        std::string word;
        for (char c : value) {
            if (c == '"' || c == '\'') continue;
            if (c == ' ') {
                if (!word.empty()) ids.push_back(word);
                word.clear();
            } else {
                word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
        }
        if (!word.empty()) ids.push_back(word);
    }
    return ids;
}

}  // namespace polyns::sys
