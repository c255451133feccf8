#include "polyns/sys/trusted_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "polyns/sys/unique_fd.hpp"

namespace polyns::sys {
namespace {

Result<void> check_trusted(const struct stat& st, const std::string& path, bool check_trust) {
    if (!check_trust) return {};
    if (st.st_uid != 0)
        return make_error("trust", path, "", 0,
                          "owned by uid " + std::to_string(st.st_uid) + ", not root; refusing it",
                          "chown root:root " + path);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return make_error("trust", path, "", 0,
                          "writable by group or other; refusing it", "chmod go-w " + path);
    return {};
}

}  // namespace

Result<std::string> read_trusted_file(const std::string& path, bool check_trust,
                                      std::size_t max_size) {
    // O_NONBLOCK: a FIFO planted here must not hang a login (CVE-2024-22365).
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) return make_error("read config", path, "open", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return make_error("read config", path, "fstat", errno);
    if (!S_ISREG(st.st_mode))
        return make_error("read config", path, "", 0, "not a regular file; refusing it");
    if (auto trusted = check_trusted(st, path, check_trust); !trusted) return trusted.error();
    if (static_cast<std::size_t>(st.st_size) > max_size)
        return make_error("read config", path, "", 0,
                          "larger than " + std::to_string(max_size) + " bytes; refusing it");
    // Read straight into the string, sized from fstat (+1 to notice growth).
    // No big stack buffer: -fstack-clash-protection touches each of its
    // pages, and in a login process just forked every one is a page fault.
    std::string text(std::min(static_cast<std::size_t>(st.st_size), max_size) + 1, '\0');
    std::size_t used = 0;
    for (;;) {
        if (used == text.size()) {
            if (used > max_size) return make_error("read config", path, "", 0, "grew past the size limit while read");
            text.resize(std::min(text.size() * 2, max_size + 1));
        }
        ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error("read config", path, "read", errno);
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    if (used > max_size) return make_error("read config", path, "", 0, "grew past the size limit while read");
    text.resize(used);
    return text;
}

Result<std::vector<std::string>> list_trusted_dir(const std::string& path, std::string_view suffix,
                                                  bool check_trust) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) return make_error("read config directory", path, "open", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return make_error("read config directory", path, "fstat", errno);
    if (auto trusted = check_trusted(st, path, check_trust); !trusted) return trusted.error();
    DIR* dir = ::fdopendir(fd.get());
    if (dir == nullptr) return make_error("read config directory", path, "fdopendir", errno);
    fd.release();  // owned by dir now
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(dir)) {
        std::string_view name(e->d_name);
        if (name.size() <= suffix.size() || name.front() == '.') continue;
        if (name.substr(name.size() - suffix.size()) != suffix) continue;
        names.emplace_back(name);
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0) return make_error("read config directory", path, "readdir", err);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace polyns::sys
