#include "ui/views/RunViews.h"

#include <algorithm>
#include <stdexcept>

namespace omnilab {

void RunViewRegistry::add(RunView view)
{
    if (view.capability.isEmpty() || !view.open)
        throw std::invalid_argument("a run view needs a capability and an open function");
    views_.push_back(std::move(view));
}

std::vector<const RunView*> RunViewRegistry::viewsFor(const std::vector<std::string>& capabilities) const
{
    std::vector<const RunView*> out;
    for (const auto& v : views_)
        if (std::find(capabilities.begin(), capabilities.end(), v.capability.toStdString()) != capabilities.end())
            out.push_back(&v);
    return out;
}

const RunView* RunViewRegistry::firstFor(const std::vector<std::string>& capabilities) const
{
    const auto views = viewsFor(capabilities);
    return views.empty() ? nullptr : views.front();
}

QStringList RunViewRegistry::capabilities() const
{
    QStringList out;
    for (const auto& v : views_)
        if (!out.contains(v.capability))
            out << v.capability;
    return out;
}

} // namespace omnilab
