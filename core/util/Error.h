#pragma once
// Errors at the edges of the engine are values with a message that names the file,
// the JSON field or the line. They travel as exceptions inside core and are caught
// at the CLI, the UI bridge and the plugin loader.
#include <stdexcept>
#include <string>
#include <vector>

namespace omnilab {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One problem in a configuration file: the JSON pointer of the field and what is wrong.
struct ConfigIssue {
    std::string path;     // JSON pointer, e.g. "/tasks/1/head/classes"
    std::string message;  // e.g. "expected a positive integer, got \"ten\""
};

// All problems found in one configuration file, reported together.
class ConfigError : public Error {
public:
    ConfigError(std::string file, std::vector<ConfigIssue> issues);
    const std::string& file() const { return file_; }
    const std::vector<ConfigIssue>& issues() const { return issues_; }

private:
    std::string file_;
    std::vector<ConfigIssue> issues_;
};

// A value as a message quotes it: at most `max` bytes (cut on a UTF-8 character boundary),
// then "… (N bytes in all)". A 10 MB option value or line never comes back in full.
std::string clipped(const std::string& value, size_t max = 60);

// Thrown when a run is asked to stop; not an error for the user.
class Cancelled : public std::exception {
public:
    const char* what() const noexcept override { return "cancelled"; }
};

} // namespace omnilab
