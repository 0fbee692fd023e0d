#pragma once
// For format tests: validates a dataset format's options like an experiment would (the
// first problem becomes an Error), fills the defaults and builds the splits.
#include "core/api/Registries.h"

namespace omnilab::testing {

inline DatasetSplits loadFormat(const std::string& format, const nlohmann::json& options)
{
    const Schema& schema = datasetFormats().info(format).options;
    std::vector<ConfigIssue> issues;
    schema.validate(options, "", issues);
    if (!issues.empty())
        throw Error(issues[0].path + ": " + issues[0].message);
    return datasetFormats().factory(format)(schema.withDefaults(options));
}

} // namespace omnilab::testing
