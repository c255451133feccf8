#include "statmount.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace polyns::sys {

int StatMountAnswer::ask(std::uint64_t unique_id, std::uint64_t wanted, std::uint64_t optional) {
    buffer_.assign(4096 / sizeof(std::uint64_t), 0);
    int err = EIO;
    for (int attempt = 0; attempt < 4; ++attempt) {
        MntIdReq req{sizeof(MntIdReq), 0, unique_id, wanted};
        if (::syscall(sys_statmount, &req, buffer_.data(), buffer_.size() * sizeof(std::uint64_t), 0) == 0) {
            std::memcpy(&head_, buffer_.data(), sizeof head_);
            return 0;
        }
        err = errno;
        if (err == EINTR) continue;
        if (err == EOVERFLOW) {
            buffer_.resize(buffer_.size() * 4);
            continue;
        }
        if (err == EINVAL && (wanted & optional) != 0) {
            wanted &= ~optional;
            continue;
        }
        return err;
    }
    return err;
}

std::optional<std::string> StatMountAnswer::string_at(std::uint32_t offset) const {
    const char* strings = reinterpret_cast<const char*>(buffer_.data()) + sizeof head_;
    const std::size_t size = head_.size > sizeof head_ ? head_.size - sizeof head_ : 0;
    if (offset >= size) return std::nullopt;
    return std::string(strings + offset, ::strnlen(strings + offset, size - offset));
}

}  // namespace polyns::sys
