#pragma once
// The interface an Omnilab plugin's root object implements. registerComponents() adds
// components to core's registries (include core/api/Registries.h to reach them).
#include <QtPlugin>
#include <QString>

namespace omnilab {

class PluginInterface {
public:
    virtual ~PluginInterface() = default;
    virtual QString pluginName() const = 0;
    // May throw; the loader then removes whatever this call registered and warns.
    virtual void registerComponents() = 0;
};

} // namespace omnilab

#define OmnilabPluginInterface_iid "org.omnilab.PluginInterface/1"
Q_DECLARE_INTERFACE(omnilab::PluginInterface, OmnilabPluginInterface_iid)
