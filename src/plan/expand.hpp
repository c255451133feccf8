// Variable expansion and path normalisation for the polydir and instance
// prefix fields (planner internals; pure string work).
#pragma once

#include <string>
#include <string_view>

#include "polyns/plan.hpp"
#include "polyns/result.hpp"

namespace polyns::planner {

struct Expansion {
    std::string text;
    bool uses_home = false;  // $HOME or %{HOME} occurred
    // The text does not end in '/' and its last component holds $USER, %{USER}
    // or %{UID}: as an instance prefix it names the instance directory itself.
    bool names_instance = false;
};

// Replaces $HOME, $USER (Linux-PAM: the name is matched as a prefix, so
// "$USERx" is the user name followed by "x"; any other '$' is literal) and
// %{USER}, %{UID}, %{HOME}. An unknown or unterminated %{...} is an Error.
// A user name that could change the path's shape ("", ".", "..", one holding
// '/') and a home that is not absolute are Errors too.
Result<Expansion> expand_variables(std::string_view raw, const Identity& who);

// An absolute path with no empty, "." or ".." components: repeated and
// trailing slashes are dropped ("/tmp//x/" -> "/tmp/x"); "." and ".." are
// rejected, never resolved. `what` names the field in the error ("polydir").
Result<std::string> normalize_path(std::string_view path, std::string_view what);

// "/a/b/c" -> "/a/b"; "/a" -> "/". `path` must be normalised.
std::string parent_dir(std::string_view path);
// "/a/b/c" -> "c"; "/" -> "". `path` must be normalised.
std::string base_name(std::string_view path);
// True when `path` is `ancestor` or lies below it (both normalised).
bool is_same_or_below(std::string_view path, std::string_view ancestor);

}  // namespace polyns::planner
