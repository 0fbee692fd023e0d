#include "core/util/FolderScan.h"

#include "core/util/Error.h"
#include "core/util/Utf8.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace omnilab {

namespace fs = std::filesystem;

std::string lowerCase(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

fs::path datasetDirectory(const nlohmann::json& options)
{
    const fs::path dir = options.at("path").get<std::string>();
    if (!fs::is_directory(dir))
        throw Error(dir.string() + ": not a directory (field \"path\" of dataset \"" + options.value("name", std::string()) + "\")");
    return dir;
}

std::vector<std::string> subfolders(const fs::path& dir)
{
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.is_directory() && entry.path().filename().string().rfind('.', 0) != 0) {
            // A folder's name is a class name: it must be text (UTF-8) to be shown and reported.
            decodeUtf8(entry.path().filename().string(), entry.path().string() + " (a class folder's name)");
            out.push_back(entry.path().filename().string());
        }
    std::sort(out.begin(), out.end());
    return out;
}

std::set<std::string> extensionSet(const std::vector<std::string>& names)
{
    std::set<std::string> out;
    for (const auto& n : names)
        out.insert(lowerCase("." + n));
    return out;
}

std::vector<LabelledFile> scanClassFolders(const fs::path& root, const std::vector<std::string>& classes, const std::set<std::string>& extensions)
{
    std::vector<LabelledFile> out;
    for (size_t c = 0; c < classes.size(); ++c) {
        const fs::path dir = root / classes[c];
        if (!fs::is_directory(dir))
            continue;
        std::vector<std::string> files;
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.is_regular_file() && extensions.count(lowerCase(entry.path().extension().string())))
                files.push_back(entry.path().string());
        std::sort(files.begin(), files.end());
        for (auto& f : files)
            out.push_back({std::move(f), static_cast<int64_t>(c)});
    }
    return out;
}

namespace {
void cutInto(std::vector<LabelledFile>& members, double valFraction, double testFraction, std::mt19937_64& rng, FileSplits& out)
{
    std::shuffle(members.begin(), members.end(), rng);
    const auto n = members.size();
    const auto nTest = std::min(n, static_cast<size_t>(std::lround(static_cast<double>(n) * testFraction)));
    const auto nVal = std::min(n - nTest, static_cast<size_t>(std::lround(static_cast<double>(n) * valFraction)));
    for (size_t i = 0; i < n; ++i)
        (i < nTest ? out.test : i < nTest + nVal ? out.val : out.train).push_back(members[i]);
}
} // namespace

FileSplits randomSplit(std::vector<LabelledFile> files, double valFraction, double testFraction, uint64_t seed)
{
    FileSplits out;
    std::mt19937_64 rng(seed);
    cutInto(files, valFraction, testFraction, rng, out);
    return out;
}

FileSplits stratifiedSplit(const std::vector<LabelledFile>& files, size_t classCount, double valFraction, double testFraction, uint64_t seed)
{
    FileSplits out;
    std::mt19937_64 rng(seed);
    for (size_t c = 0; c < classCount; ++c) {
        std::vector<LabelledFile> members;
        for (const auto& f : files)
            if (f.label == static_cast<int64_t>(c))
                members.push_back(f);
        cutInto(members, valFraction, testFraction, rng, out);
    }
    return out;
}

} // namespace omnilab
