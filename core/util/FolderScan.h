#pragma once
// Shared by the folder-per-class formats (image-folder, video-folder, later speech-commands):
// listing class folders, collecting their files, and a seeded per-class split.
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace omnilab {

struct LabelledFile {
    std::string file;
    int64_t label = 0;
};

// The folder named by a dataset's "path" option; throws Error naming it (and the dataset)
// when it is not a directory.
std::filesystem::path datasetDirectory(const nlohmann::json& options);

// Visible sub-folders of `dir`, sorted.
std::vector<std::string> subfolders(const std::filesystem::path& dir);
// Files under root/<class>/ whose lower-case extension (with the dot) is in `extensions`,
// sorted within each class, labelled by the class's index in `classes`.
std::vector<LabelledFile> scanClassFolders(const std::filesystem::path& root, const std::vector<std::string>& classes,
                                           const std::set<std::string>& extensions);
// Extensions from a JSON-style list of names ("png" -> ".png"), lower-cased.
std::set<std::string> extensionSet(const std::vector<std::string>& names);
std::string lowerCase(std::string s);

struct FileSplits {
    std::vector<LabelledFile> train, val, test;
};
// All files as one pool, shuffled with `seed` and cut: test first, then val, the rest train.
FileSplits randomSplit(std::vector<LabelledFile> files, double valFraction, double testFraction, uint64_t seed);
// The same within each class, so every class keeps its share in every split.
FileSplits stratifiedSplit(const std::vector<LabelledFile>& files, size_t classCount, double valFraction, double testFraction, uint64_t seed);

} // namespace omnilab
