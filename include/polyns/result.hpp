// Errors are values: a Result<T> holds either a T or an Error that says what was
// being done, to which path, by which syscall, with which errno, and how to fix it.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace polyns {

struct Error {
    int err = 0;          // errno value; 0 when the failure is not a syscall's
    std::string step;     // what was being done: "open template", "create instance", "mount" ...
    std::string path;     // the path it was done to (may be empty)
    std::string syscall;  // "mkdirat", "open_tree" ... (may be empty)
    std::string detail;   // extra words when errno alone does not explain it
    std::string hint;     // the fix, when one is known
    std::string polydir;  // the polydir this concerns, set by the engine (may be empty)
    // Set by the engine when even its rollback failed and the calling process
    // is left in a state it must not go on in (still in the session's mount
    // namespace with one of its mounts, or outside its chroot): the PAM layer
    // answers PAM_ABORT instead of PAM_SESSION_ERR.
    bool caller_unsafe = false;

    // "cannot create instance /tmp/user_tmpl/1001: mkdirat: EACCES (Permission denied)"
    // followed by "; <detail>" and " (fix: <hint>)" when present.
    std::string message() const;
};

// "EACCES (Permission denied)"; "errno 1234" for unknown values.
std::string errno_text(int err);

Error make_error(std::string step, std::string path, std::string syscall, int err,
                 std::string detail = {}, std::string hint = {});

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { return std::get<1>(v_); }
    Error& error() { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }
    Error& error() { return error_; }

private:
    Error error_;
    bool ok_ = true;
};

}  // namespace polyns
