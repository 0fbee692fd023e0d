#include "core/config/Registry.h"

#include <algorithm>

namespace omnilab {

namespace {
struct Index {
    std::mutex mutex;
    std::vector<RegistryBase*> registries;
};
Index& index()
{
    static Index instance;
    return instance;
}
thread_local RegistrationScope* currentScope = nullptr;

std::string joinNames(const std::vector<std::string>& names)
{
    std::string text;
    for (const auto& n : names)
        text += (text.empty() ? "" : ", ") + n;
    return text.empty() ? "none" : text;
}
} // namespace

RegistryBase::RegistryBase(std::string kind, int order) : kind_(std::move(kind)), order_(order)
{
    std::lock_guard<std::mutex> lock(index().mutex);
    index().registries.push_back(this);
}

RegistryBase::~RegistryBase()
{
    std::lock_guard<std::mutex> lock(index().mutex);
    auto& list = index().registries;
    list.erase(std::remove(list.begin(), list.end(), this), list.end());
}

std::vector<ComponentInfo> RegistryBase::components() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<ComponentInfo> out;
    for (const auto& [name, info] : infos_)
        out.push_back(info);
    return out;
}

std::vector<std::string> RegistryBase::names() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& entry : infos_)
        out.push_back(entry.first);
    return out;
}

bool RegistryBase::contains(const std::string& name) const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return infos_.count(name) > 0;
}

ComponentInfo RegistryBase::info(const std::string& name) const
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = infos_.find(name);
        if (it != infos_.end())
            return it->second;
    }
    throwUnknown(name);
}

bool RegistryBase::remove(const std::string& name)
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (infos_.erase(name) == 0)
            return false;
    }
    eraseFactory(name);
    return true;
}

void RegistryBase::claim(const ComponentInfo& info)
{
    if (info.name.empty())
        throw Error("cannot register a " + kind_ + " without a name");
    ComponentInfo stored = info;
    if (currentScope)
        stored.origin = currentScope->origin_;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = infos_.find(info.name);
        if (it != infos_.end())
            throw Error(kind_ + " \"" + info.name + "\" is already registered (by " + it->second.origin + ")");
        infos_.emplace(info.name, std::move(stored));
    }
    if (currentScope)
        currentScope->added_.emplace_back(this, info.name);
}

void RegistryBase::throwUnknown(const std::string& name) const
{
    throw Error("unknown " + kind_ + " \"" + clipped(name) + "\" (registered: " + joinNames(names()) + ")");
}

std::vector<const RegistryBase*> allRegistries()
{
    std::lock_guard<std::mutex> lock(index().mutex);
    std::vector<const RegistryBase*> out(index().registries.begin(), index().registries.end());
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->order() < b->order(); });
    return out;
}

const RegistryBase* findRegistry(const std::string& kind)
{
    for (const auto* registry : allRegistries())
        if (registry->kind() == kind)
            return registry;
    return nullptr;
}

RegistrationScope::RegistrationScope(std::string origin) : origin_(std::move(origin)), previous_(currentScope)
{
    currentScope = this;
}

RegistrationScope::~RegistrationScope() { currentScope = previous_; }

void RegistrationScope::rollback()
{
    for (auto it = added_.rbegin(); it != added_.rend(); ++it)
        it->first->remove(it->second);
    added_.clear();
}

} // namespace omnilab
