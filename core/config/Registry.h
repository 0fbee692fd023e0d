#pragma once
// One registry per extension point. A built-in and a plugin register the same way:
//   static const bool registered = peripherals().add({"image", "...", schema}, factory);
// RegistryBase is free of torch so the CLI, the UI and the config validator can list
// and look up components without the engine's heavy headers.
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/config/Schema.h"
#include "core/util/Error.h"

namespace omnilab {

namespace kinds {
inline constexpr const char* DatasetFormat = "dataset-format";
inline constexpr const char* Peripheral = "peripheral";
inline constexpr const char* Body = "body";
inline constexpr const char* Head = "head";
inline constexpr const char* Metric = "metric";
inline constexpr const char* LossWeighting = "loss-weighting";
inline constexpr const char* TaskSampler = "task-sampler";
} // namespace kinds

struct ComponentInfo {
    std::string name;
    std::string description;  // one line, shown by `omnilab-cli list`
    Schema options;           // the component's own JSON options
    std::vector<std::string> provides; // dataset formats: the named inputs a sample carries
    // Bodies and heads: the optional capabilities the part implements (core/api/Capability.h),
    // checked against its interfaces when a model is assembled.
    std::vector<std::string> capabilities = {};
    std::string origin = "built-in";   // or the plugin file that registered it
};

class RegistryBase {
public:
    RegistryBase(std::string kind, int order);
    virtual ~RegistryBase();
    RegistryBase(const RegistryBase&) = delete;
    RegistryBase& operator=(const RegistryBase&) = delete;

    const std::string& kind() const { return kind_; }
    int order() const { return order_; }
    std::vector<ComponentInfo> components() const;
    std::vector<std::string> names() const;
    bool contains(const std::string& name) const;
    // Copy of one component's description; throws Error naming the kind when unknown.
    ComponentInfo info(const std::string& name) const;
    bool remove(const std::string& name);

protected:
    // Records the name for plugin rollback; throws Error on a duplicate name.
    void claim(const ComponentInfo& info);
    virtual void eraseFactory(const std::string& name) = 0;
    [[noreturn]] void throwUnknown(const std::string& name) const;

    mutable std::mutex mutex_;
    std::map<std::string, ComponentInfo> infos_;

private:
    std::string kind_;
    int order_;
};

template <class Factory>
class Registry : public RegistryBase {
public:
    using RegistryBase::RegistryBase;

    // Returns true so that `static const bool x = registry.add(...)` self-registers.
    bool add(ComponentInfo info, Factory factory)
    {
        claim(info);
        std::lock_guard<std::mutex> lock(mutex_);
        factories_[info.name] = std::move(factory);
        return true;
    }

    Factory factory(const std::string& name) const
    {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = factories_.find(name);
            if (it != factories_.end())
                return it->second;
        }
        throwUnknown(name);
    }

private:
    void eraseFactory(const std::string& name) override
    {
        std::lock_guard<std::mutex> lock(mutex_);
        factories_.erase(name);
    }
    std::map<std::string, Factory> factories_;
};

// Every registry, in a stable order (dataset formats first, task samplers last).
std::vector<const RegistryBase*> allRegistries();
const RegistryBase* findRegistry(const std::string& kind);

// While a scope is alive on this thread, every component added is remembered so a plugin
// that throws halfway through registering can be rolled back completely.
class RegistrationScope {
public:
    explicit RegistrationScope(std::string origin);
    ~RegistrationScope();
    RegistrationScope(const RegistrationScope&) = delete;
    RegistrationScope& operator=(const RegistrationScope&) = delete;
    void rollback();
    const std::vector<std::pair<RegistryBase*, std::string>>& added() const { return added_; }

private:
    friend class RegistryBase;
    std::string origin_;
    std::vector<std::pair<RegistryBase*, std::string>> added_;
    RegistrationScope* previous_;
};

} // namespace omnilab
