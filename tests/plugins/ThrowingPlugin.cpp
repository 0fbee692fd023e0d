// Registers one component, then throws: the loader must remove that component again.
#include <QObject>
#include <stdexcept>

#include "core/api/Registries.h"
#include "core/plugin/PluginInterface.h"

class ThrowingPlugin : public QObject, public omnilab::PluginInterface {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OmnilabPluginInterface_iid FILE "plugin.json")
    Q_INTERFACES(omnilab::PluginInterface)
public:
    QString pluginName() const override { return QStringLiteral("throwing"); }
    void registerComponents() override
    {
        omnilab::lossWeightings().add({"half-registered", "must not survive", {}, {}},
                                      [](const nlohmann::json&) { return std::unique_ptr<omnilab::LossWeighting>(); });
        throw std::runtime_error("deliberate failure while registering");
    }
};

#include "ThrowingPlugin.moc"
